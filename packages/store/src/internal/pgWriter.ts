/**
 * PostgreSQL's writer: a raw `pg` client of the store's pool per write
 * transaction, rows sent with `COPY` (`pgCopy.ts`).
 *
 * The transaction opens with `BEGIN; SAVEPOINT pe_direct` and, in the same
 * round trip, asks which of the batch's organizations have events waiting
 * for a parent. Rows are COPYed straight into `pe_events`, optimistically:
 * most batches hold no duplicate. If the unique index says otherwise, the
 * writer rolls back to the savepoint, looks the duplicates up, and COPYs the
 * rest; batches that follow look first for a while. Should a concurrent
 * writer still win a key in between, the staging path (COPY into
 * `pe_staging`, then `INSERT ... SELECT ... ON CONFLICT DO NOTHING
 * RETURNING id`) resolves every conflict. Deadlocks and serialization
 * failures run the transaction again.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Exit, Schedule } from "effect"
import type * as Pg from "pg"
import type { Stored } from "./common.js"
import { nextProbe } from "./ids.js"
import * as PgCopy from "./pgCopy.js"
import {
  batchOrgs,
  type Candidate,
  candidates as planCandidates,
  INSERT_COLUMNS,
  type Keys,
  KeyScope,
  rowValues,
  spreadHashes,
  type WriteResult,
  type WriterOptions
} from "./writePlan.js"
import { insertAll, internKeys, isRetryable, resolveParents, type Statements, type Writer } from "./writer.js"

/** How many batches look for duplicates before COPY after a batch had some. */
const PRECHECK_BATCHES = 20

/** The operations of one open transaction on a raw client. */
interface PgTx extends Statements {
  readonly client: Pg.PoolClient
  /**
   * Opens the transaction and its savepoint and tells, in the same round
   * trip, which of the given organizations have events waiting for a
   * parent. Runs before any other statement (which otherwise opens it).
   */
  readonly begin: (orgs: ReadonlyArray<number>) => Effect.Effect<ReadonlySet<number>, SqlError>
}

const txOf = (client: Pg.PoolClient): PgTx => {
  let begun = false
  const begin = (orgs: ReadonlyArray<number>) => {
    begun = true
    // organization keys are integers of our own dictionary, safe to write inline: the
    // simple protocol runs the three statements in one round trip
    const keys = orgs.filter((o) => Number.isSafeInteger(o)).join(",")
    const check = keys === ""
      ? ""
      : `; SELECT k.org FROM unnest(ARRAY[${keys}]::integer[]) AS k(org) WHERE EXISTS ` +
        `(SELECT 1 FROM pe_events e WHERE e.org = k.org AND e.parent_ref IS NOT NULL)`
    return PgCopy.query(client, `BEGIN; SAVEPOINT pe_direct${check}`, undefined).pipe(
      Effect.map((rows) => new Set((check === "" ? [] : rows).map((r: any) => Number(r.org))))
    )
  }
  return {
    dialect: "pg",
    client,
    begin,
    query: (text, params) =>
      begun ? PgCopy.query(client, text, params) : Effect.zipRight(begin([]), PgCopy.query(client, text, params))
  }
}

/** Runs `f` in a transaction on a client of `pool`: commits on success, rolls back on failure. */
const transaction = (pool: Pg.Pool) => <A>(f: (tx: PgTx) => Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> =>
  Effect.uninterruptible(
    Effect.acquireUseRelease(
      Effect.tryPromise({
        try: () => pool.connect(),
        catch: (cause) => new SqlError({ cause, message: "Failed to acquire a connection" })
      }),
      (client) =>
        Effect.gen(function*() {
          yield* PgCopy.ensureStaging(client)
          const exit = yield* Effect.exit(f(txOf(client)))
          if (Exit.isSuccess(exit)) {
            yield* PgCopy.query(client, "COMMIT", undefined)
            return exit.value
          }
          yield* Effect.ignore(PgCopy.query(client, "ROLLBACK", undefined))
          return yield* exit
        }),
      (client, exit) => Effect.sync(() => client.release(Exit.isFailure(exit) ? true : undefined))
    )
  )

const isUniqueViolation = (e: SqlError): boolean => (e.cause as { code?: unknown } | undefined)?.code === "23505"

/**
 * Drops the candidates that are duplicates of stored events and moves the
 * hash of a colliding external id to its next free probe. Ids are checked
 * only for events that came with their own id (insert), not fresh ones.
 */
const precheck = (tx: PgTx, candidates: ReadonlyArray<Candidate>) =>
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

/**
 * The fast path: COPY straight into `pe_events` (optimistically, or after a
 * precheck while the budget lasts). Returns the candidates it could not
 * write, for the staging path.
 */
const copyDirect = (
  tx: PgTx,
  keys: Keys,
  todo: Array<Candidate>,
  row: (c: Candidate) => Array<unknown>,
  inserted: Array<boolean>,
  added: Array<Candidate>
) =>
  Effect.gen(function*() {
    let candidates = todo
    if (candidates.length === 0) return candidates
    const optimistic = keys.precheckBudget === 0
    if (optimistic) spreadHashes(candidates)
    else {
      keys.precheckBudget--
      candidates = yield* precheck(tx, candidates)
    }
    // ROLLBACK TO keeps the savepoint, set once when the transaction began
    for (let attempt = 0; attempt < 2 && candidates.length > 0; attempt++) {
      const direct = yield* Effect.either(PgCopy.copy(tx.client, "pe_events", candidates.map(row)))
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
    return candidates
  })

/** The staging path: COPY into `pe_staging`, then insert what the unique index lets in. */
const copyStaged = (tx: PgTx, row: (c: Candidate) => Array<unknown>) => (current: ReadonlyArray<Candidate>) =>
  Effect.gen(function*() {
    yield* tx.query("TRUNCATE pe_staging", [])
    yield* PgCopy.copy(tx.client, "pe_staging", current.map((c, ord) => [ord, ...row(c)]))
    const rows = yield* tx.query(
      `INSERT INTO pe_events (${INSERT_COLUMNS.join(",")}) SELECT ${INSERT_COLUMNS.join(",")} FROM pe_staging ` +
        `ORDER BY ord ON CONFLICT DO NOTHING RETURNING id`,
      []
    )
    const got = new Set<string>()
    for (const r of rows) got.add(String(r.id))
    return current.map((c) => got.has(c.s.id))
  })

const writeBatch = (
  tx: PgTx,
  keys: Keys,
  batch: ReadonlyArray<Stored>,
  options: WriterOptions
): Effect.Effect<WriteResult, SqlError> =>
  Effect.gen(function*() {
    const scope = new KeyScope(keys)
    const known = batchOrgs(batch).map((o) => scope.org(o))
    const pendingOrgs = known.every((k) => k !== undefined) ? yield* tx.begin(known as Array<number>) : undefined
    if (pendingOrgs === undefined) yield* tx.begin([])
    yield* internKeys(tx, scope, batch)
    const lookup = (org: number, kind: number, v: string) => scope.customer(org, kind, v)!
    const row = (c: Candidate) => rowValues("pg", c, lookup)
    const inserted: Array<boolean> = new Array(batch.length).fill(false)
    const added: Array<Candidate> = []
    const rest = yield* copyDirect(tx, keys, planCandidates("pg", scope, batch, options), row, inserted, added)
    yield* insertAll(tx, rest, copyStaged(tx, row), inserted, added)
    if (added.length > 0) yield* resolveParents(tx, added, options, pendingOrgs)
    return { inserted, learned: scope.learned }
  })

/**
 * The writer over `pool`.
 *
 * @internal
 */
export const make = (pool: Pg.Pool): Writer => {
  const run = transaction(pool)
  return {
    write: (keys, batch, options) =>
      run((tx) => writeBatch(tx, keys, batch, options)).pipe(
        Effect.retry({ while: isRetryable, schedule: Schedule.exponential("10 millis"), times: 8 })
      ),
    pipelined: false
  }
}
