/**
 * What every writer of the SQL store shares: the `Writer` interface the
 * store drives, and the steps of a write transaction that run the same SQL
 * whatever the backend (interning keys, walking dedup hash collisions,
 * resolving parents), over the one operation every backend has: a
 * statement of the open transaction. The pure part of the plan is in
 * `writePlan.ts`; each backend's writer (`sqliteWriter.ts`, `pgWriter.ts`,
 * `sqlWriter.ts`) composes these steps with its own insert and its own
 * transaction.
 *
 * @internal
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Ids } from "@polar-events/core"
import { Effect } from "effect"
import type { Stored } from "./common.js"
import { bytesToUuid, nextProbe, uuidToBytes } from "./ids.js"
import { FLAG_REF_ID_ONLY, MAX_DEPTH } from "./parents.js"
import type { Dialect } from "./sqlExpr.js"
import {
  batchOrgs,
  byOrg,
  type Candidate,
  holdersOf,
  holdersSql,
  idValue,
  type Keys,
  type KeyScope,
  missingCustomers,
  nextProbes,
  placeholders,
  restartProbes,
  type WriteResult,
  type WriterOptions
} from "./writePlan.js"

/** The store's interned keys (the reader looks customers up in them). @internal */
export type { Keys } from "./writePlan.js"

const RETRYABLE = new Set(["40P01", "40001"])

/** PostgreSQL's deadlock or serialization failure: the transaction can simply run again. @internal */
export const isRetryable = (e: SqlError): boolean => {
  const code = (e.cause as { code?: unknown } | undefined)?.code
  return typeof code === "string" && RETRYABLE.has(code)
}

/**
 * A backend's writer: writes a batch in one transaction of its own.
 *
 * @internal
 */
export interface Writer {
  /** Writes a batch (retrying what the backend may retry); the caller merges `learned` into `keys` after. */
  readonly write: (
    keys: Keys,
    batch: ReadonlyArray<Stored>,
    options: WriterOptions
  ) => Effect.Effect<WriteResult, SqlError>
  /**
   * whether writes leave the main thread free and a second group may be
   * written while one is (the writer runs them one after another); else a
   * SQLite write blocks the thread, and group commit lets arriving requests
   * join first
   */
  readonly pipelined: boolean
}

/** The statements of one open write transaction. @internal */
export interface Statements {
  readonly dialect: Dialect
  readonly query: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<any>, SqlError>
}

/**
 * Inserts, per backend, some candidates with `ON CONFLICT DO NOTHING`:
 * per candidate, whether it went in.
 *
 * @internal
 */
export type InsertRows = (candidates: ReadonlyArray<Candidate>) => Effect.Effect<ArrayLike<boolean | number>, SqlError>

/** Interns the organizations and customers of a batch that have no key yet, in `scope.learned`. @internal */
export const internKeys = (st: Statements, scope: KeyScope, batch: ReadonlyArray<Stored>) =>
  Effect.gen(function*() {
    const d = st.dialect
    const p = d === "pg" ? "$1" : "?"
    const newOrgs = batchOrgs(batch).filter((o) => scope.org(o) === undefined).sort()
    for (const id of newOrgs) {
      yield* st.query(`INSERT INTO pe_organizations (id) VALUES (${p}) ON CONFLICT DO NOTHING`, [id])
      const rows = yield* st.query(`SELECT key FROM pe_organizations WHERE id = ${p}`, [id])
      scope.learned.orgs.set(id, Number(rows[0].key))
    }
    const all = missingCustomers(scope, batch)
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500)
      const params = chunk.flatMap((c) => [c.org, c.kind, c.value])
      yield* st.query(
        `INSERT INTO pe_customers (org, kind, value) VALUES ${placeholders(d, chunk.length, 3)} ON CONFLICT DO NOTHING`,
        params
      )
      const rows = d === "pg"
        ? yield* st.query(
          "SELECT c.key, c.org, c.kind, c.value FROM unnest($1::integer[], $2::smallint[], $3::text[]) AS k(org, kind, value) " +
            "CROSS JOIN LATERAL (SELECT key, org, kind, value FROM pe_customers " +
            "WHERE org = k.org AND kind = k.kind AND value = k.value LIMIT 1) c",
          [chunk.map((c) => c.org), chunk.map((c) => c.kind), chunk.map((c) => c.value)]
        )
        : yield* st.query(
          `SELECT key, org, kind, value FROM pe_customers WHERE (org, kind, value) IN (VALUES ${
            placeholders(d, chunk.length, 3)
          })`,
          params
        )
      for (const r of rows) scope.learned.customers.set(Number(r.org), Number(r.kind), r.value, Number(r.key))
    }
  })

/**
 * Inserts the candidates, walking each dedup hash collision to its next
 * probe: marks each inserted event in `inserted` and appends it to `added`.
 * `first`, when given, is what a first insert of all candidates already
 * answered.
 *
 * @internal
 */
export const insertAll = (
  st: Statements,
  todo: ReadonlyArray<Candidate>,
  insert: InsertRows,
  inserted: Array<boolean>,
  added: Array<Candidate>,
  first?: ArrayLike<boolean | number>
) =>
  Effect.gen(function*() {
    // whatever was tried before, probe chains are walked from their start
    if (first === undefined) restartProbes(todo)
    let candidates = todo
    let flags = first
    while (candidates.length > 0) {
      if (flags === undefined) flags = yield* insert(candidates)
      const conflicted: Array<Candidate> = []
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!
        if (flags[i]) {
          inserted[c.index] = true
          added.push(c)
        } else if (c.hash !== null) {
          conflicted.push(c)
        }
      }
      flags = undefined
      // who holds the hash slots of the rows that were not inserted? (one organization per lookup)
      const retry: Array<Candidate> = []
      for (const [org, list] of byOrg(conflicted)) {
        for (let i = 0; i < list.length; i += 400) {
          const chunk = list.slice(i, i + 400)
          const hashes = chunk.map((c) => c.hash!)
          const params = st.dialect === "pg" ? [org, hashes] : [org, ...hashes]
          const rows = yield* st.query(holdersSql(st.dialect, hashes.length), params)
          for (const c of nextProbes(chunk, holdersOf(rows))) retry.push(c)
        }
      }
      candidates = retry
    }
  })

/**
 * Resolves parents after an insert: new events that name a parent, and
 * older events waiting for one of the new events. `pendingOrgs`, when
 * known, are the organizations that had events waiting before.
 *
 * @internal
 */
export const resolveParents = (
  st: Statements,
  added: ReadonlyArray<Candidate>,
  options: WriterOptions,
  pendingOrgs: ReadonlySet<number> | undefined
) =>
  Effect.gen(function*() {
    const d = st.dialect
    const p = (i: number) => (d === "pg" ? `$${i}` : "?")
    for (const [org, list] of byOrg(added)) {
      if (pendingOrgs !== undefined) {
        // checked when the transaction began: older waiting children, or new ones of this batch
        if (!pendingOrgs.has(org) && !list.some((c) => c.s.parentRef !== null)) continue
      } else {
        const any = yield* st.query(
          `SELECT 1 AS x FROM pe_events WHERE org = ${p(1)} AND parent_ref IS NOT NULL LIMIT 1`,
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
        const rows = yield* st.query(
          `SELECT id, parent_ref, flags FROM pe_events WHERE org = ${p(1)} AND parent_ref IN (${marks})`,
          [org, ...chunk]
        )
        for (const r of rows) {
          const id = d === "sqlite" ? bytesToUuid(r.id) : String(r.id)
          pending.set(id, { id, ref: r.parent_ref, flags: Number(r.flags) })
        }
      }
      for (const child of pending.values()) {
        const parent = yield* findParent(st, org, child.ref, (child.flags & FLAG_REF_ID_ONLY) !== 0, options)
        if (parent === undefined || parent.id === child.id) continue
        const depth = parent.depth + 1
        yield* st.query(
          `UPDATE pe_events SET parent_id = ${p(1)}, parent_ref = NULL, depth = ${p(2)} WHERE id = ${p(3)}`,
          [idValue(d, parent.id), depth, idValue(d, child.id)]
        )
        yield* fixDescendants(st, child.id, depth)
      }
    }
  })

const findParent = (st: Statements, org: number, ref: string, idOnly: boolean, options: WriterOptions) =>
  Effect.gen(function*() {
    const d = st.dialect
    const p = (i: number) => (d === "pg" ? `$${i}` : "?")
    if (Ids.isUuid(ref)) {
      const rows = yield* st.query(
        `SELECT depth FROM pe_events WHERE id = ${p(1)} AND org = ${p(2)}`,
        [idValue(d, ref.toLowerCase()), org]
      )
      if (rows.length > 0) return { id: ref.toLowerCase(), depth: Number(rows[0].depth) }
    }
    if (idOnly) return undefined
    let hash = options.hash(ref)
    for (;;) {
      const rows = yield* st.query(
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

const fixDescendants = (st: Statements, id: string, depth: number) => {
  if (st.dialect === "pg") {
    return st.query(
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
  return st.query(
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
