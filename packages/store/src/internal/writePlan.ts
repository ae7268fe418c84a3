/**
 * The pure half of the write path: what a batch becomes before any statement
 * runs, and what the answers of the database mean. No Effect, no SQL
 * execution, so each step can be tested without a database.
 *
 * - the interned keys (`Keys`, `CustomerKeys`) and which of a batch's
 *   organizations and customers are still missing;
 * - dedup inside the batch (first wins) and the candidates left;
 * - the dedup hash probes: `ext_hash` is a 53-bit hash of `external_id`
 *   under a unique index on `(org, ext_hash)`; a row that is not inserted is
 *   looked up: same external id → duplicate; another external id (a hash
 *   collision) → probe `nextProbe(ext_hash)` and try again; no row with that
 *   hash → its id existed (idempotent insert);
 * - the names-summary upserts (SQLite; PostgreSQL keeps it with a trigger);
 * - the row encoding per dialect (ids as 16 bytes in SQLite, text in PostgreSQL).
 *
 * @internal
 */
import type { Stored } from "./common.js"
import { bytesToUuid, hash53, nextProbe, uuidToBytes } from "./ids.js"
import type { Dialect } from "./sqlExpr.js"

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

/** What a written batch gives back: per event whether it was inserted (false: a duplicate), and the keys learned. @internal */
export interface WriteResult {
  readonly inserted: ReadonlyArray<boolean>
  readonly learned: Learned
}

/** Options of the write path. @internal */
export interface WriterOptions {
  /** the external id hash (tests use a degenerate one to force collisions) */
  readonly hash: (externalId: string) => number
}

/** The default external id hash. @internal */
export const defaultWriterOptions: WriterOptions = { hash: hash53 }

/** The key lookups of one transaction: what it learned first, then the store's keys. @internal */
export class KeyScope {
  readonly learned: Learned = { orgs: new Map(), customers: new CustomerKeys() }
  constructor(readonly keys: Keys) {}
  org(id: string): number | undefined {
    return this.learned.orgs.get(id) ?? this.keys.orgs.get(id)
  }
  customer(org: number, kind: number, value: string): number | undefined {
    return this.keys.customers.get(org, kind, value) ?? this.learned.customers.get(org, kind, value)
  }
}

/** The organizations of a batch, in order of first appearance. @internal */
export const batchOrgs = (batch: ReadonlyArray<Stored>): Array<string> => [...new Set(batch.map((s) => s.orgId))]

/** A customer to intern. @internal */
export interface CustomerRef {
  readonly org: number
  readonly kind: number
  readonly value: string
}

/** The customers of a batch without a key yet, in key order (one lock order for every writer). @internal */
export const missingCustomers = (scope: KeyScope, batch: ReadonlyArray<Stored>): Array<CustomerRef> => {
  const missing = new CustomerKeys()
  for (const s of batch) {
    const org = scope.org(s.orgId)!
    if (s.customerId !== null && scope.customer(org, 0, s.customerId) === undefined) missing.set(org, 0, s.customerId, 0)
    if (s.externalCustomerId !== null && scope.customer(org, 1, s.externalCustomerId) === undefined) {
      missing.set(org, 1, s.externalCustomerId, 0)
    }
  }
  if (missing.size === 0) return []
  return Array.from(missing.entries(), ([org, kind, value]) => ({ org, kind, value })).sort((a, b) =>
    a.org - b.org || a.kind - b.kind || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)
  )
}

/** The columns written per event, in order. @internal */
export const INSERT_COLUMNS = [
  "org", "id", "ts", "name", "source", "ckey", "xkey", "customer_id", "external_customer_id", "member_id",
  "external_member_id", "external_id", "ext_hash", "parent_id", "parent_ref", "depth", "child_count", "flags",
  "label", "customer", "metadata", "ingested_at"
] as const

/** How many columns a row has. @internal */
export const N_COLUMNS = INSERT_COLUMNS.length

/** The single-row insert of the SQLite fast path. @internal */
export const INSERT_ONE_SQLITE = `INSERT INTO pe_events (${INSERT_COLUMNS.join(",")}) VALUES (${
  new Array(N_COLUMNS).fill("?").join(",")
}) ON CONFLICT DO NOTHING`

/** SQLite: whether an organization has events waiting for a parent. @internal */
export const PENDING_SQLITE = "SELECT 1 AS x FROM pe_events WHERE org = ? AND parent_ref IS NOT NULL LIMIT 1"

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

/** `rows` tuples of `columns` placeholders in the dialect's style. @internal */
export const placeholders = (dialect: Dialect, rows: number, columns: number): string => {
  const out: Array<string> = []
  let n = 1
  for (let r = 0; r < rows; r++) {
    const row: Array<string> = []
    for (let c = 0; c < columns; c++) row.push(dialect === "pg" ? `$${n++}` : "?")
    out.push(`(${row.join(",")})`)
  }
  return out.join(",")
}

const statementCache = new Map<string, string>()

/** The multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING id` of `rows` rows. @internal */
export const insertSql = (dialect: Dialect, rows: number): string => {
  const key = `${dialect}:${rows}`
  let s = statementCache.get(key)
  if (s === undefined) {
    s = `INSERT INTO pe_events (${INSERT_COLUMNS.join(",")}) VALUES ${placeholders(dialect, rows, N_COLUMNS)} ` +
      `ON CONFLICT DO NOTHING RETURNING id`
    statementCache.set(key, s)
  }
  return s
}

/** Sizes of the multi-row statements: full chunks, then powers of two, so few distinct statements are prepared. @internal */
export const chunkSizes = (n: number, max: number): Array<number> => {
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

/** An event id as the dialect stores it. @internal */
export const idValue = (dialect: Dialect, id: string | null): unknown =>
  id === null ? null : dialect === "sqlite" ? uuidToBytes(id) : id

/** An id the database returned, as text. @internal */
export const returnedId = (dialect: Dialect, v: unknown): string =>
  dialect === "sqlite" ? bytesToUuid(v as Uint8Array) : String(v)

/** An event of the batch that may be inserted. @internal */
export interface Candidate {
  /** its place in the batch */
  readonly index: number
  readonly s: Stored
  readonly org: number
  /** the hash of the external id */
  readonly base: number | null
  /** the probe slot it takes in the dedup index */
  hash: number | null
}

/**
 * Dedup inside the batch (first wins, by id and by external id per
 * organization): the events left to insert. PostgreSQL takes them in one
 * lock order for every writer, so concurrent batches do not deadlock.
 *
 * @internal
 */
export const candidates = (
  dialect: Dialect,
  scope: KeyScope,
  batch: ReadonlyArray<Stored>,
  options: WriterOptions
): Array<Candidate> => {
  const seenExternal = new Map<number, Set<string>>()
  const seenIds = new Set<string>()
  const out: Array<Candidate> = []
  for (let i = 0; i < batch.length; i++) {
    const s = batch[i]!
    const org = scope.org(s.orgId)!
    if (seenIds.has(s.id)) continue
    if (s.externalId !== null) {
      let seen = seenExternal.get(org)
      if (seen === undefined) seenExternal.set(org, seen = new Set())
      if (seen.has(s.externalId)) continue
      seen.add(s.externalId)
    }
    seenIds.add(s.id)
    const base = s.externalId === null ? null : options.hash(s.externalId)
    out.push({ index: i, s, org, base, hash: base })
  }
  if (dialect === "pg") {
    out.sort((a, b) => a.org - b.org || (a.hash ?? -1) - (b.hash ?? -1) || (a.s.id < b.s.id ? -1 : 1))
  }
  return out
}

/** Two new events whose external ids share a hash: the later one probes on. @internal */
export const spreadHashes = (candidates: ReadonlyArray<Candidate>): void => {
  const taken = new Set<string>()
  for (const c of candidates) {
    if (c.hash === null) continue
    while (taken.has(`${c.org}:${c.hash}`)) c.hash = nextProbe(c.hash)
    taken.add(`${c.org}:${c.hash}`)
  }
}

/** Puts every candidate back at the start of its probe chain. @internal */
export const restartProbes = (candidates: ReadonlyArray<Candidate>): void => {
  for (const c of candidates) c.hash = c.base
}

/** Candidates grouped by organization, in order. @internal */
export const byOrg = <A extends { readonly org: number }>(items: ReadonlyArray<A>): Map<number, Array<A>> => {
  const out = new Map<number, Array<A>>()
  for (const c of items) {
    let list = out.get(c.org)
    if (list === undefined) out.set(c.org, list = [])
    list.push(c)
  }
  return out
}

/**
 * What the holders of some hash slots mean for the candidates that wanted
 * them: a holder with another external id is a collision (the candidate
 * moves to its next probe and is returned, to try again); the same
 * external id, or no holder, means the candidate is a duplicate.
 *
 * @internal
 */
export const nextProbes = (
  chunk: ReadonlyArray<Candidate>,
  holders: ReadonlyMap<number, string>
): Array<Candidate> => {
  const retry: Array<Candidate> = []
  for (const c of chunk) {
    const holder = holders.get(c.hash!)
    if (holder === undefined || holder === c.s.externalId) continue
    c.hash = nextProbe(c.hash!)
    retry.push(c)
  }
  return retry
}

/** The holders an answer of `holdersSql` names, by hash slot. @internal */
export const holdersOf = (rows: ReadonlyArray<any>): Map<number, string> => {
  const holders = new Map<number, string>()
  for (const r of rows) holders.set(Number(r.ext_hash), r.external_id)
  return holders
}

/**
 * The row of a candidate, in `INSERT_COLUMNS` order, encoded for the
 * dialect; `customerKey` gives the interned key of a customer.
 *
 * @internal
 */
export const rowValues = (
  dialect: Dialect,
  c: Candidate,
  customerKey: (org: number, kind: number, v: string) => number
): Array<unknown> => {
  const s = c.s
  return [
    c.org,
    dialect === "sqlite" && s.idBytes !== undefined ? s.idBytes : idValue(dialect, s.id),
    s.ts,
    s.name,
    s.source,
    s.customerId === null ? null : customerKey(c.org, 0, s.customerId),
    s.externalCustomerId === null ? null : customerKey(c.org, 1, s.externalCustomerId),
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

/** The upserts of the names summary (SQLite) for newly added events, by organization, source and name. @internal */
export const namesStatements = (added: ReadonlyArray<Candidate>): Array<Statement> => {
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
