/**
 * SQLite's fast write path: a dedicated better-sqlite3 connection on the
 * same file (WAL lets it write while the `SqlClient` connection reads), with
 * prepared statements run in a plain loop inside `BEGIN IMMEDIATE`. This is
 * the raw driver loop, so the store pays no per-row overhead over it.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import Sqlite from "better-sqlite3"
import { Effect, Exit } from "effect"
import { INSERT_ONE_SQLITE, type Tx } from "./writer.js"

/** A write connection: its transaction runner and its close. @internal */
export interface SqliteWriter {
  readonly transaction: <A>(f: (tx: Tx) => Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
  readonly close: () => void
}

/** Opens the write connection with the store's pragmas. @internal */
export const open = (filename: string, pragmas: ReadonlyArray<string>): SqliteWriter => {
  const db = new Sqlite(filename)
  db.pragma("journal_mode = WAL")
  for (const p of pragmas) db.exec(p)
  const cache = new Map<string, Sqlite.Statement>()
  const prepare = (sql: string) => {
    let st = cache.get(sql)
    if (st === undefined) {
      st = db.prepare(sql)
      cache.set(sql, st)
    }
    return st
  }
  const fail = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })
  const query = (sql: string, params: ReadonlyArray<unknown>) =>
    Effect.try({
      try: () => {
        const st = prepare(sql)
        if (st.reader) return st.all(...params) as ReadonlyArray<any>
        st.run(...params)
        return []
      },
      catch: fail
    })
  const insertEach = (count: number, row: (i: number) => ReadonlyArray<unknown>) =>
    Effect.try({
      try: () => {
        const st = prepare(INSERT_ONE_SQLITE)
        const out: Array<boolean> = new Array(count)
        for (let i = 0; i < count; i++) out[i] = st.run(row(i) as Array<unknown>).changes === 1
        return out
      },
      catch: fail
    })
  const tx: Tx = { dialect: "sqlite", query, insertEach }
  const begin = prepare("BEGIN IMMEDIATE")
  const commit = prepare("COMMIT")
  const rollback = prepare("ROLLBACK")
  return {
    transaction: (f) =>
      Effect.uninterruptible(Effect.gen(function*() {
        yield* Effect.try({ try: () => begin.run(), catch: fail })
        const exit = yield* Effect.exit(f(tx))
        if (Exit.isSuccess(exit)) {
          const committed = yield* Effect.exit(Effect.try({ try: () => commit.run(), catch: fail }))
          if (Exit.isSuccess(committed)) return exit.value
          if (db.inTransaction) rollback.run()
          return yield* Effect.failCause(committed.cause)
        }
        if (db.inTransaction) rollback.run()
        return yield* Effect.failCause(exit.cause)
      })),
    close: () => db.close()
  }
}
