/**
 * The write path of the SQL store: one transaction that interns keys, inserts
 * a batch with dedup, keeps the names summary and resolves parents. Runs on
 * a `Tx` (the statements of one open transaction), so the same logic serves
 * SQLite through `@effect/sql` and PostgreSQL through `@effect/sql` or a raw
 * `pg` client with COPY.
 *
 * Dedup: a unique index on `(org, ext_hash)`, `ext_hash` a 53-bit hash of
 * `external_id`. A row that is not inserted is looked up: same external id →
 * duplicate; another external id (a hash collision) → probe `ext_hash + 1`
 * and try again; no row with that hash → its id existed (idempotent insert).
 *
 * @internal
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Ids } from "@polar-events/core"
import { Effect, Either } from "effect"
import type { Stored } from "./common.js"
import { bytesToUuid, hash53, nextProbe, uuidToBytes } from "./ids.js"
import { FLAG_REF_ID_ONLY, MAX_DEPTH } from "./parents.js"
import type { Dialect } from "./sqlExpr.js"

/** The statements of one open write transaction. @internal */
export interface Tx {
  readonly dialect: Dialect
  readonly query: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<any>, SqlError>
  /**
   * PostgreSQL only: COPY rows (text format) into the session's `pe_staging`
   * table (with a leading `ord` column) or straight into `pe_events`.
   */
  readonly copy?:
    | ((table: "pe_staging" | "pe_events", rows: ReadonlyArray<ReadonlyArray<unknown>>) => Effect.Effect<void, SqlError>)
    | undefined
  /** The transaction began with `SAVEPOINT pe_direct` already set (saves a round trip). */
  readonly savepointSet?: boolean | undefined
  /**
   * PostgreSQL fast path: opens the transaction (and the savepoint) and, in
   * the same round trip, tells which of the given organizations have events
   * waiting for a parent. Must come before any other statement.
   */
  readonly begin?: ((orgs: ReadonlyArray<number>) => Effect.Effect<ReadonlySet<number>, SqlError>) | undefined
  /**
   * SQLite only: inserts rows one by one with a prepared statement
   * (`INSERT ... ON CONFLICT DO NOTHING`), returning whether each was inserted.
   */
  readonly insertEach?:
    | ((count: number, row: (i: number) => ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<boolean>, SqlError>)
    | undefined
  /**
   * SQLite on a write thread: `insertEach`, then, only if every row went in
   * and none of `unless` finds a row, runs `then` and commits, all in one
   * round trip. When `committed` is false the transaction is still open.
   */
  readonly insertThenCommit?:
    | ((
      count: number,
      row: (i: number) => ReadonlyArray<unknown>,
      then: ReadonlyArray<Statement>,
      unless: ReadonlyArray<Statement>
    ) => Effect.Effect<{ readonly flags: ReadonlyArray<boolean>; readonly committed: boolean }, SqlError>)
    | undefined
}

/** A statement with its parameters. @internal */
export interface Statement {
  readonly sql: string
  readonly params: ReadonlyArray<unknown>
}

/**
 * Customer keys by (organization, kind) and then by the customer's own id
 * string: a lookup hashes the event's string (V8 caches a string's hash)
 * instead of building a compound key for every row. @internal
 */
export class CustomerKeys {
  private readonly byScope = new Map<number, Map<string, number>>()
  size = 0
  private scope(org: number, kind: number, create: boolean): Map<string, number> | undefined {
    const id = org * 2 + kind
    let m = this.byScope.get(id)
    if (m === undefined && create) this.byScope.set(id, m = new Map())
    return m
  }
  get(org: number, kind: number, value: string): number | undefined {
    return this.scope(org, kind, false)?.get(value)
  }
  has(org: number, kind: number, value: string): boolean {
    return this.scope(org, kind, false)?.has(value) === true
  }
  set(org: number, kind: number, value: string, key: number): void {
    const m = this.scope(org, kind, true)!
    if (!m.has(value)) this.size++
    m.set(value, key)
  }
  clear(): void {
    this.byScope.clear()
    this.size = 0
  }
  /** Every entry as `[org, kind, value, key]`. */
  *entries(): IterableIterator<readonly [number, number, string, number]> {
    for (const [id, m] of this.byScope) {
      const org = Math.floor(id / 2)
      const kind = id % 2
      for (const [value, key] of m) yield [org, kind, value, key]
    }
  }
}

/** How many customer keys a store keeps before it forgets them all (they are read again on demand). */
const MAX_CUSTOMER_KEYS = 500_000

/** Interned keys, shared by every transaction of a store; filled only after commit. @internal */
export class Keys {
  readonly orgs = new Map<string, number>()
  readonly customers = new CustomerKeys()
  /** PostgreSQL: batches left that check for duplicates before COPY (after one found some) */
  precheckBudget = 0
  /** Remembers one customer key read from the database. */
  rememberCustomer(org: number, kind: number, value: string, key: number): void {
    if (this.customers.size > MAX_CUSTOMER_KEYS) this.customers.clear()
    this.customers.set(org, kind, value, key)
  }
  /** Adds keys learned by a committed transaction. */
  merge(learned: Learned): void {
    for (const [k, v] of learned.orgs) this.orgs.set(k, v)
    if (this.customers.size + learned.customers.size > MAX_CUSTOMER_KEYS) this.customers.clear()
    for (const [org, kind, value, key] of learned.customers.entries()) this.customers.set(org, kind, value, key)
  }
}

/** Keys read or created inside one transaction. @internal */
export interface Learned {
  readonly orgs: Map<string, number>
  readonly customers: CustomerKeys
}

/** The columns written per event, in order. @internal */
export const INSERT_COLUMNS = [
  "org", "id", "ts", "name", "source", "ckey", "xkey", "customer_id", "external_customer_id", "member_id",
  "external_member_id", "external_id", "ext_hash", "parent_id", "parent_ref", "depth", "child_count", "flags",
  "label", "customer", "metadata", "ingested_at"
] as const

const N_COLUMNS = INSERT_COLUMNS.length

/** The single-row insert of the SQLite fast path. @internal */
export const INSERT_ONE_SQLITE = `INSERT INTO pe_events (${INSERT_COLUMNS.join(",")}) VALUES (${
  new Array(N_COLUMNS).fill("?").join(",")
}) ON CONFLICT DO NOTHING`

/**
 * The lookup of who holds some dedup hash slots of one organization. It must
 * reach the partial dedup index: `org = ? AND ext_hash IN (...)` does, a
 * row-value `(org, ext_hash) IN (VALUES ...)` scans the organization.
 *
 * @internal
 */
export const holdersSql = (dialect: Dialect, count: number): string =>
  dialect === "pg"
    ? "SELECT ext_hash, external_id FROM pe_events WHERE org = $1 AND ext_hash = ANY($2::bigint[])"
    : `SELECT ext_hash, external_id FROM pe_events WHERE org = ? AND ext_hash IN (${new Array(count).fill("?").join(",")})`

/** Options of the writer. @internal */
export interface WriterOptions {
  /** the external id hash (tests use a degenerate one to force collisions) */
  readonly hash: (externalId: string) => number
}

const placeholders = (dialect: Dialect, rows: number, columns: number, types?: ReadonlyArray<string>): string => {
  const out: Array<string> = []
  let n = 1
  for (let r = 0; r < rows; r++) {
    const row: Array<string> = []
    for (let c = 0; c < columns; c++) {
      row.push(dialect === "pg" ? (types === undefined ? `$${n++}` : `$${n++}::${types[c]}`) : "?")
    }
    out.push(`(${row.join(",")})`)
  }
  return out.join(",")
}

const statementCache = new Map<string, string>()

const insertSql = (dialect: Dialect, rows: number): string => {
  const key = `${dialect}:${rows}`
  let s = statementCache.get(key)
  if (s === undefined) {
    s = `INSERT INTO pe_events (${INSERT_COLUMNS.join(",")}) VALUES ${placeholders(dialect, rows, N_COLUMNS)} ` +
      `ON CONFLICT DO NOTHING RETURNING id`
    statementCache.set(key, s)
  }
  return s
}

/** Sizes of the multi-row statements: full chunks, then powers of two, so few distinct statements are prepared. */
const chunkSizes = (n: number, max: number): Array<number> => {
  const out: Array<number> = []
  while (n >= max) {
    out.push(max)
    n -= max
  }
  for (let p = 128; p >= 1; p >>= 1) {
    while (n >= p) {
      out.push(p)
      n -= p
    }
  }
  return out
}

const idValue = (dialect: Dialect, id: string | null): unknown =>
  id === null ? null : dialect === "sqlite" ? uuidToBytes(id) : id

const returnedId = (dialect: Dialect, v: unknown): string =>
  dialect === "sqlite" ? bytesToUuid(v as Uint8Array) : String(v)

interface Candidate {
  readonly index: number
  readonly s: Stored
  readonly org: number
  /** the hash of the external id */
  readonly base: number | null
  /** the probe slot it takes in the dedup index */
  hash: number | null
}

const rowValues = (
  dialect: Dialect,
  c: Candidate,
  lookupCustomer: (org: number, kind: number, v: string) => number
): Array<unknown> => {
  const s = c.s
  return [
    c.org,
    dialect === "sqlite" && s.idBytes !== undefined ? s.idBytes : idValue(dialect, s.id),
    s.ts,
    s.name,
    s.source,
    s.customerId === null ? null : lookupCustomer(c.org, 0, s.customerId),
    s.externalCustomerId === null ? null : lookupCustomer(c.org, 1, s.externalCustomerId),
    s.customerId,
    s.externalCustomerId,
    s.memberId,
    s.externalMemberId,
    s.externalId,
    c.hash,
    idValue(dialect, s.parentId),
    s.parentRef,
    s.depth,
    s.childCount,
    s.flags,
    s.label,
    s.customer,
    JSON.stringify(s.metadata),
    s.ingestedAt
  ]
}

/**
 * Writes a batch in the open transaction. Returns, per event of the batch,
 * whether it was inserted (false: a duplicate), and the keys it learned.
 *
 * @internal
 */
export const writeBatch = (
  tx: Tx,
  keys: Keys,
  batch: ReadonlyArray<Stored>,
  options: WriterOptions
): Effect.Effect<{ readonly inserted: ReadonlyArray<boolean>; readonly learned: Learned }, SqlError> =>
  Effect.gen(function*() {
    const d = tx.dialect
    const p = (i: number) => (d === "pg" ? `$${i}` : "?")
    const learned: Learned = { orgs: new Map(), customers: new CustomerKeys() }
    const orgKey = (id: string) => learned.orgs.get(id) ?? keys.orgs.get(id)
    const customerKey = (org: number, kind: number, value: string) =>
      keys.customers.get(org, kind, value) ?? learned.customers.get(org, kind, value)

    // 0. the transaction itself, where the writer opens it
    const batchOrgs = [...new Set(batch.map((s) => s.orgId))]
    let pendingOrgs: ReadonlySet<number> | undefined
    if (tx.begin !== undefined) {
      const known = batchOrgs.map(orgKey)
      if (known.every((k) => k !== undefined)) pendingOrgs = yield* tx.begin(known as Array<number>)
      else yield* tx.begin([])
    }

    // 1. organizations
    const newOrgs = batchOrgs.filter((o) => orgKey(o) === undefined).sort()
    for (const id of newOrgs) {
      yield* tx.query(`INSERT INTO pe_organizations (id) VALUES (${p(1)}) ON CONFLICT DO NOTHING`, [id])
      const rows = yield* tx.query(`SELECT key FROM pe_organizations WHERE id = ${p(1)}`, [id])
      learned.orgs.set(id, Number(rows[0].key))
    }

    // 2. customers
    const missing = new CustomerKeys()
    for (const s of batch) {
      const org = orgKey(s.orgId)!
      if (s.customerId !== null && customerKey(org, 0, s.customerId) === undefined) missing.set(org, 0, s.customerId, 0)
      if (s.externalCustomerId !== null && customerKey(org, 1, s.externalCustomerId) === undefined) {
        missing.set(org, 1, s.externalCustomerId, 0)
      }
    }
    if (missing.size > 0) {
      const all = Array.from(missing.entries(), ([org, kind, value]) => ({ org, kind, value })).sort((a, b) =>
        a.org - b.org || a.kind - b.kind || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)
      )
      for (let i = 0; i < all.length; i += 500) {
        const chunk = all.slice(i, i + 500)
        const params = chunk.flatMap((c) => [c.org, c.kind, c.value])
        yield* tx.query(
          `INSERT INTO pe_customers (org, kind, value) VALUES ${placeholders(d, chunk.length, 3)} ON CONFLICT DO NOTHING`,
          params
        )
        const rows = d === "pg"
          ? yield* tx.query(
            "SELECT c.key, c.org, c.kind, c.value FROM unnest($1::integer[], $2::smallint[], $3::text[]) AS k(org, kind, value) " +
              "CROSS JOIN LATERAL (SELECT key, org, kind, value FROM pe_customers " +
              "WHERE org = k.org AND kind = k.kind AND value = k.value LIMIT 1) c",
            [chunk.map((c) => c.org), chunk.map((c) => c.kind), chunk.map((c) => c.value)]
          )
          : yield* tx.query(
            `SELECT key, org, kind, value FROM pe_customers WHERE (org, kind, value) IN (VALUES ${
              placeholders(d, chunk.length, 3)
            })`,
            params
          )
        for (const r of rows) learned.customers.set(Number(r.org), Number(r.kind), r.value, Number(r.key))
      }
    }
    const lookup = (org: number, kind: number, v: string) => customerKey(org, kind, v)!

    // 3. dedup inside the batch (first wins), then candidates
    const inserted: Array<boolean> = new Array(batch.length).fill(false)
    const seenExternal = new Map<number, Set<string>>()
    const seenIds = new Set<string>()
    let candidates: Array<Candidate> = []
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!
      const org = orgKey(s.orgId)!
      if (seenIds.has(s.id)) continue
      if (s.externalId !== null) {
        let seen = seenExternal.get(org)
        if (seen === undefined) seenExternal.set(org, seen = new Set())
        if (seen.has(s.externalId)) continue
        seen.add(s.externalId)
      }
      seenIds.add(s.id)
      const base = s.externalId === null ? null : options.hash(s.externalId)
      candidates.push({ index: i, s, org, base, hash: base })
    }
    if (d === "pg") {
      // one lock order for every writer: no deadlocks between concurrent batches
      candidates.sort((a, b) => a.org - b.org || (a.hash ?? -1) - (b.hash ?? -1) || (a.s.id < b.s.id ? -1 : 1))
    }

    // 4. insert, resolving hash collisions
    const added: Array<Candidate> = []
    if (tx.copy !== undefined && candidates.length > 0) {
      // PostgreSQL fast path: COPY straight into pe_events. Optimistically
      // first: most batches hold no duplicate. If the unique index says
      // otherwise, roll back to the savepoint, look the duplicates up, and
      // COPY the rest; batches that follow look first for a while. Should a
      // concurrent writer still win a key in between, the staging path below
      // resolves every conflict.
      const optimistic = keys.precheckBudget === 0
      if (optimistic) spreadHashes(candidates)
      else {
        keys.precheckBudget--
        candidates = yield* precheck(tx, candidates)
      }
      for (let attempt = 0; attempt < 2 && candidates.length > 0; attempt++) {
        // ROLLBACK TO keeps the savepoint: it is set once per transaction
        if (attempt === 0 && tx.savepointSet !== true) yield* tx.query("SAVEPOINT pe_direct", [])
        const direct = yield* Effect.either(tx.copy("pe_events", candidates.map((c) => rowValues(d, c, lookup))))
        if (Either.isRight(direct)) {
          for (const c of candidates) {
            inserted[c.index] = true
            added.push(c)
          }
          candidates = []
        } else if (isUniqueViolation(direct.left)) {
          yield* tx.query("ROLLBACK TO SAVEPOINT pe_direct", [])
          if (!optimistic || attempt > 0) break
          keys.precheckBudget = PRECHECK_BATCHES
          candidates = yield* precheck(tx, candidates)
        } else {
          return yield* Effect.fail(direct.left)
        }
      }
    }
    // whatever the fast path tried, probe chains are walked from their start
    for (const c of candidates) c.hash = c.base
    while (candidates.length > 0) {
      const got = new Set<string>()
      let flags: ReadonlyArray<boolean> | undefined
      if (tx.insertThenCommit !== undefined && added.length === 0 && candidates.every((c) => c.s.parentRef === null)) {
        // the common case in one round trip: every row is new and no older event waits for a parent
        const current = candidates
        const orgs = [...new Set(current.map((c) => c.org))]
        const result = yield* tx.insertThenCommit(
          current.length,
          (i) => rowValues(d, current[i]!, lookup),
          namesStatements(current),
          orgs.map((org) => ({ sql: PENDING_SQLITE, params: [org] }))
        )
        if (result.committed) {
          for (const c of current) inserted[c.index] = true
          return { inserted, learned }
        }
        flags = result.flags
      } else if (tx.insertEach !== undefined) {
        const current = candidates
        flags = yield* tx.insertEach(current.length, (i) => rowValues(d, current[i]!, lookup))
      } else if (tx.copy !== undefined) {
        yield* tx.query("TRUNCATE pe_staging", [])
        yield* tx.copy("pe_staging", candidates.map((c, ord) => [ord, ...rowValues(d, c, lookup)]))
        const rows = yield* tx.query(
          `INSERT INTO pe_events (${INSERT_COLUMNS.join(",")}) SELECT ${INSERT_COLUMNS.join(",")} FROM pe_staging ` +
            `ORDER BY ord ON CONFLICT DO NOTHING RETURNING id`,
          []
        )
        for (const r of rows) got.add(returnedId(d, r.id))
      } else {
        let offset = 0
        for (const size of chunkSizes(candidates.length, d === "pg" ? 1000 : 256)) {
          const params: Array<unknown> = []
          for (let i = offset; i < offset + size; i++) {
            const values = rowValues(d, candidates[i]!, lookup)
            for (let j = 0; j < N_COLUMNS; j++) params.push(values[j])
          }
          offset += size
          const rows = yield* tx.query(insertSql(d, size), params)
          for (const r of rows) got.add(returnedId(d, r.id))
        }
      }
      const retry: Array<Candidate> = []
      const conflicted: Array<Candidate> = []
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!
        if (flags !== undefined ? flags[i] : got.has(c.s.id)) {
          inserted[c.index] = true
          added.push(c)
        } else if (c.hash !== null) {
          conflicted.push(c)
        }
      }
      // who holds the hash slots of the rows that were not inserted? (one organization per lookup)
      const byOrg = new Map<number, Array<Candidate>>()
      for (const c of conflicted) {
        let list = byOrg.get(c.org)
        if (list === undefined) byOrg.set(c.org, list = [])
        list.push(c)
      }
      for (const [org, list] of byOrg) for (let i = 0; i < list.length; i += 400) {
        const chunk = list.slice(i, i + 400)
        const hashes = chunk.map((c) => c.hash!)
        const rows = yield* tx.query(holdersSql(d, hashes.length), d === "pg" ? [org, hashes] : [org, ...hashes])
        const holders = new Map<string, string>()
        for (const r of rows) holders.set(`${org}:${Number(r.ext_hash)}`, r.external_id)
        for (const c of chunk) {
          const holder = holders.get(`${c.org}:${c.hash}`)
          if (holder === undefined || holder === c.s.externalId) continue
          c.hash = nextProbe(c.hash!)
          retry.push(c)
        }
      }
      candidates = retry
    }

    // 5. names summary (PostgreSQL keeps it with a statement trigger)
    if (d === "sqlite") for (const st of namesStatements(added)) yield* tx.query(st.sql, st.params)

    // 6. parents
    if (added.length > 0) yield* resolveParents(tx, added, options, pendingOrgs)

    return { inserted, learned }
  })

/** SQLite: whether an organization has events waiting for a parent. */
const PENDING_SQLITE = "SELECT 1 AS x FROM pe_events WHERE org = ? AND parent_ref IS NOT NULL LIMIT 1"

/** The upserts of the names summary (SQLite) for newly added events, by organization, source and name. */
const namesStatements = (added: ReadonlyArray<Candidate>): Array<Statement> => {
  type Group = { org: number; name: string; source: string; n: number; first: number; last: number }
  // by (organization, source), then by name
  const scopes = new Map<number, Map<string, Group>>()
  const all: Array<Group> = []
  for (const c of added) {
    const scope = c.org * 2 + (c.s.source === "user" ? 0 : 1)
    let names = scopes.get(scope)
    if (names === undefined) scopes.set(scope, names = new Map())
    const g = names.get(c.s.name)
    if (g === undefined) {
      const group = { org: c.org, name: c.s.name, source: c.s.source, n: 1, first: c.s.ts, last: c.s.ts }
      names.set(c.s.name, group)
      all.push(group)
    } else {
      g.n++
      if (c.s.ts < g.first) g.first = c.s.ts
      if (c.s.ts > g.last) g.last = c.s.ts
    }
  }
  const out: Array<Statement> = []
  for (let i = 0; i < all.length; i += 200) {
    const chunk = all.slice(i, i + 200)
    out.push({
      sql: `INSERT INTO pe_event_names (org, name, source, occurrences, first_seen, last_seen) VALUES ` +
        `${placeholders("sqlite", chunk.length, 6)} ON CONFLICT (org, name, source) DO UPDATE SET ` +
        `occurrences = pe_event_names.occurrences + excluded.occurrences, ` +
        `first_seen = MIN(pe_event_names.first_seen, excluded.first_seen), ` +
        `last_seen = MAX(pe_event_names.last_seen, excluded.last_seen)`,
      params: chunk.flatMap((g) => [g.org, g.name, g.source, g.n, g.first, g.last])
    })
  }
  return out
}

const isUniqueViolation = (e: SqlError): boolean => (e.cause as { code?: unknown } | undefined)?.code === "23505"

/**
 * Drops the candidates that are duplicates of stored events and moves the
 * hash of a colliding external id to its next free probe. Ids are checked
 * only for events that came with their own id (insert), not fresh ones.
 */
const precheck = (tx: Tx, candidates: ReadonlyArray<Candidate>) =>
  Effect.gen(function*() {
    const dropped = new Set<Candidate>()
    const withId = candidates.filter((c) => c.s.idBytes === undefined)
    for (let i = 0; i < withId.length; i += 10_000) {
      const chunk = withId.slice(i, i + 10_000)
      // a LATERAL probe per key: one index lookup each, whatever the planner knows of the table
      const rows = yield* tx.query(
        "SELECT e.id FROM unnest($1::uuid[]) AS k(id) CROSS JOIN LATERAL (SELECT id FROM pe_events WHERE id = k.id LIMIT 1) e",
        [chunk.map((c) => c.s.id)]
      )
      const existing = new Set(rows.map((r) => String(r.id)))
      for (const c of chunk) if (existing.has(c.s.id)) dropped.add(c)
    }
    // walk each probe chain from its start
    for (const c of candidates) c.hash = c.base
    let pending = candidates.filter((c) => c.hash !== null && !dropped.has(c))
    while (pending.length > 0) {
      const holders = new Map<string, string>()
      const orgs = new Map<number, Array<number>>()
      for (const c of pending) {
        let hashes = orgs.get(c.org)
        if (hashes === undefined) orgs.set(c.org, hashes = [])
        hashes.push(c.hash!)
      }
      for (const [org, hashes] of orgs) {
        const rows = yield* tx.query(
          "SELECT e.ext_hash, e.external_id FROM unnest($2::bigint[]) AS k(h) CROSS JOIN LATERAL " +
            "(SELECT ext_hash, external_id FROM pe_events WHERE org = $1 AND ext_hash = k.h LIMIT 1) e",
          [org, hashes]
        )
        for (const r of rows) holders.set(`${org}:${Number(r.ext_hash)}`, r.external_id)
      }
      const next: Array<Candidate> = []
      for (const c of pending) {
        const holder = holders.get(`${c.org}:${c.hash}`)
        if (holder === undefined) continue
        if (holder === c.s.externalId) dropped.add(c)
        else {
          c.hash = nextProbe(c.hash!)
          next.push(c)
        }
      }
      pending = next
    }
    const kept = candidates.filter((c) => !dropped.has(c))
    spreadHashes(kept)
    return kept
  })

/** Two new events whose external ids share a hash: the later one probes on. */
const spreadHashes = (candidates: ReadonlyArray<Candidate>) => {
  const taken = new Set<string>()
  for (const c of candidates) {
    if (c.hash === null) continue
    while (taken.has(`${c.org}:${c.hash}`)) c.hash = nextProbe(c.hash)
    taken.add(`${c.org}:${c.hash}`)
  }
}

/** How many batches look for duplicates before COPY after a batch had some. */
const PRECHECK_BATCHES = 20

const resolveParents = (
  tx: Tx,
  added: ReadonlyArray<Candidate>,
  options: WriterOptions,
  pendingOrgs: ReadonlySet<number> | undefined
) =>
  Effect.gen(function*() {
    const d = tx.dialect
    const p = (i: number) => (d === "pg" ? `$${i}` : "?")
    const byOrg = new Map<number, Array<Candidate>>()
    for (const c of added) {
      let list = byOrg.get(c.org)
      if (list === undefined) byOrg.set(c.org, list = [])
      list.push(c)
    }
    for (const [org, list] of byOrg) {
      if (pendingOrgs !== undefined) {
        // checked when the transaction began: older waiting children, or new ones of this batch
        if (!pendingOrgs.has(org) && !list.some((c) => c.s.parentRef !== null)) continue
      } else {
        const any = yield* tx.query(
          d === "sqlite" ? PENDING_SQLITE : "SELECT 1 AS x FROM pe_events WHERE org = $1 AND parent_ref IS NOT NULL LIMIT 1",
          [org]
        )
        if (any.length === 0) continue
      }
      // pending children: the new ones with a reference, and older ones that name a new event
      const pending = new Map<string, { id: string; ref: string; flags: number }>()
      const refs: Array<string> = []
      for (const c of list) {
        if (c.s.parentRef !== null) pending.set(c.s.id, { id: c.s.id, ref: c.s.parentRef, flags: c.s.flags })
        refs.push(c.s.id)
        if (c.s.externalId !== null) refs.push(c.s.externalId)
      }
      for (let i = 0; i < refs.length; i += 400) {
        const chunk = refs.slice(i, i + 400)
        const marks = chunk.map((_, j) => p(j + 2)).join(",")
        const rows = yield* tx.query(
          `SELECT id, parent_ref, flags FROM pe_events WHERE org = ${p(1)} AND parent_ref IN (${marks})`,
          [org, ...chunk]
        )
        for (const r of rows) {
          const id = d === "sqlite" ? bytesToUuid(r.id) : String(r.id)
          pending.set(id, { id, ref: r.parent_ref, flags: Number(r.flags) })
        }
      }
      for (const child of pending.values()) {
        const parent = yield* findParent(tx, org, child.ref, (child.flags & FLAG_REF_ID_ONLY) !== 0, options)
        if (parent === undefined || parent.id === child.id) continue
        const depth = parent.depth + 1
        yield* tx.query(
          `UPDATE pe_events SET parent_id = ${p(1)}, parent_ref = NULL, depth = ${p(2)} WHERE id = ${p(3)}`,
          [idValue(d, parent.id), depth, idValue(d, child.id)]
        )
        yield* fixDescendants(tx, child.id, depth)
      }
    }
  })

const findParent = (tx: Tx, org: number, ref: string, idOnly: boolean, options: WriterOptions) =>
  Effect.gen(function*() {
    const d = tx.dialect
    const p = (i: number) => (d === "pg" ? `$${i}` : "?")
    if (Ids.isUuid(ref)) {
      const rows = yield* tx.query(
        `SELECT depth FROM pe_events WHERE id = ${p(1)} AND org = ${p(2)}`,
        [idValue(d, ref.toLowerCase()), org]
      )
      if (rows.length > 0) return { id: ref.toLowerCase(), depth: Number(rows[0].depth) }
    }
    if (idOnly) return undefined
    let hash = options.hash(ref)
    for (;;) {
      const rows = yield* tx.query(
        `SELECT id, depth, external_id FROM pe_events WHERE org = ${p(1)} AND ext_hash = ${p(2)}`,
        [org, hash]
      )
      if (rows.length === 0) return undefined
      if (rows[0].external_id === ref) {
        return { id: d === "sqlite" ? bytesToUuid(rows[0].id) : String(rows[0].id), depth: Number(rows[0].depth) }
      }
      hash = nextProbe(hash)
    }
  })

const fixDescendants = (tx: Tx, id: string, depth: number) => {
  const d = tx.dialect
  if (d === "pg") {
    return tx.query(
      `WITH RECURSIVE t(id, depth, lvl) AS (
        SELECT id, $2::integer + 1, 1 FROM pe_events WHERE parent_id = $1::uuid AND parent_ref IS NULL
        UNION ALL
        SELECT e.id, t.depth + 1, t.lvl + 1 FROM pe_events e JOIN t ON e.parent_id = t.id
        WHERE e.parent_ref IS NULL AND t.lvl < ${MAX_DEPTH}
      )
      UPDATE pe_events SET depth = t.depth FROM t WHERE pe_events.id = t.id`,
      [id, depth]
    )
  }
  return tx.query(
    `WITH RECURSIVE t(id, depth, lvl) AS (
      SELECT id, ? + 1, 1 FROM pe_events WHERE parent_id = ? AND parent_ref IS NULL
      UNION ALL
      SELECT e.id, t.depth + 1, t.lvl + 1 FROM pe_events e JOIN t ON e.parent_id = t.id
      WHERE e.parent_ref IS NULL AND t.lvl < ${MAX_DEPTH}
    )
    UPDATE pe_events SET depth = (SELECT t.depth FROM t WHERE t.id = pe_events.id) WHERE id IN (SELECT id FROM t)`,
    [depth, uuidToBytes(id)]
  )
}

/** The default external id hash. @internal */
export const defaultWriterOptions: WriterOptions = { hash: hash53 }
