/**
 * The generic writer: any SQLite or PostgreSQL `@effect/sql` `SqlClient`
 * (the store's `layer()` over a client you provide). Rows go in as
 * multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING id` statements on
 * one reserved connection; SQLite keeps the names summary here, PostgreSQL
 * with its trigger.
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit, Schedule } from "effect"
import type { Stored } from "./common.js"
import type { Dialect } from "./sqlExpr.js"
import {
  type Candidate,
  candidates,
  chunkSizes,
  insertSql,
  type Keys,
  KeyScope,
  N_COLUMNS,
  namesStatements,
  returnedId,
  rowValues,
  type WriteResult,
  type WriterOptions
} from "./writePlan.js"
import { type InsertRows, insertAll, internKeys, isRetryable, resolveParents, type Statements, type Writer } from "./writer.js"

/**
 * Runs `effect` in a transaction on one reserved connection. SQLite starts it
 * with `BEGIN IMMEDIATE`, so a writer waits (busy timeout) for the file's
 * write lock instead of failing half-way. The migrations run in it too.
 *
 * @internal
 */
export const transaction = (sql: SqlClient.SqlClient, dialect: Dialect) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.scoped(
      Effect.gen(function*() {
        const conn = yield* sql.reserve
        yield* conn.executeUnprepared(dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN", [], undefined)
        const exit = yield* Effect.exit(
          restore(Effect.provideService(effect, SqlClient.TransactionConnection, [conn, 0] as const))
        )
        if (Exit.isSuccess(exit)) {
          const committed = yield* Effect.exit(conn.executeUnprepared("COMMIT", [], undefined))
          if (Exit.isFailure(committed)) {
            yield* Effect.ignore(conn.executeUnprepared("ROLLBACK", [], undefined))
            return yield* Effect.failCause(committed.cause)
          }
          return exit.value
        }
        yield* Effect.ignore(conn.executeUnprepared("ROLLBACK", [], undefined))
        return yield* exit
      })
    )
  )

/** Multi-row inserts: full chunks, then powers of two, so few distinct statements are prepared. */
const insertReturning = (st: Statements, row: (c: Candidate) => Array<unknown>): InsertRows => (current) =>
  Effect.gen(function*() {
    const d = st.dialect
    const got = new Set<string>()
    let offset = 0
    for (const size of chunkSizes(current.length, d === "pg" ? 1000 : 256)) {
      const params: Array<unknown> = []
      for (let i = offset; i < offset + size; i++) {
        const values = row(current[i]!)
        for (let j = 0; j < N_COLUMNS; j++) params.push(values[j])
      }
      offset += size
      const rows = yield* st.query(insertSql(d, size), params)
      for (const r of rows) got.add(returnedId(d, r.id))
    }
    return current.map((c) => got.has(c.s.id))
  })

const writeBatch = (
  st: Statements,
  keys: Keys,
  batch: ReadonlyArray<Stored>,
  options: WriterOptions
): Effect.Effect<WriteResult, SqlError> =>
  Effect.gen(function*() {
    const d = st.dialect
    const scope = new KeyScope(keys)
    yield* internKeys(st, scope, batch)
    const lookup = (org: number, kind: number, v: string) => scope.customer(org, kind, v)!
    const inserted: Array<boolean> = new Array(batch.length).fill(false)
    const added: Array<Candidate> = []
    const insert = insertReturning(st, (c) => rowValues(d, c, lookup))
    yield* insertAll(st, candidates(d, scope, batch, options), insert, inserted, added)
    if (d === "sqlite") for (const s of namesStatements(added)) yield* st.query(s.sql, s.params)
    if (added.length > 0) yield* resolveParents(st, added, options, undefined)
    return { inserted, learned: scope.learned }
  })

/**
 * The writer over `sql`, whose dialect is `dialect`.
 *
 * @internal
 */
export const make = (sql: SqlClient.SqlClient, dialect: Dialect): Writer => {
  const st: Statements = { dialect, query: (text, params) => sql.unsafe(text, params) }
  const run = transaction(sql, dialect)
  return {
    write: (keys, batch, options) => {
      const once = run(writeBatch(st, keys, batch, options))
      return dialect === "pg"
        ? Effect.retry(once, { while: isRetryable, schedule: Schedule.exponential("10 millis"), times: 8 })
        : once
    },
    pipelined: false
  }
}
