/**
 * SQLite's fast write path: a dedicated better-sqlite3 connection on the
 * same file (WAL lets it write while the `SqlClient` connection reads), with
 * prepared statements run in a plain loop inside `BEGIN IMMEDIATE`. This is
 * the raw driver loop, so the store pays no per-row overhead over it.
 *
 * WAL checkpoints run on a worker thread with its own connection (SQLite's
 * advice for write-heavy programs): a commit no longer stops to copy the WAL
 * back into the database file, and the copying uses another core. The write
 * connection keeps a distant automatic checkpoint as a backstop.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import Sqlite from "better-sqlite3"
import { Effect, Exit } from "effect"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import { INSERT_ONE_SQLITE, type Tx } from "./writer.js"

/** A write connection: its transaction runner and its close. @internal */
export interface SqliteWriter {
  readonly transaction: <A>(f: (tx: Tx) => Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
  readonly close: Effect.Effect<void>
}

/** WAL pages the checkpointer lets pile up before it copies them back. @internal */
export const CHECKPOINT_PAGES = 4000

/** The automatic checkpoint of the write connection when a checkpointer runs (a backstop, 400 MB). @internal */
export const BACKSTOP_PAGES = 100_000

const CHECKPOINTER = `
const { parentPort, workerData } = require("node:worker_threads")
const Sqlite = require(workerData.driver)
const db = new Sqlite(workerData.filename)
db.pragma("busy_timeout = 0")
let stopped = false
let timer
const tick = () => {
  if (stopped) return
  let behind = 0
  try {
    const r = db.pragma("wal_checkpoint(PASSIVE)")[0]
    behind = r.log - r.checkpointed
  } catch (e) {}
  timer = behind > workerData.pages ? setImmediate(tick) : setTimeout(tick, 25)
}
parentPort.on("message", () => {
  stopped = true
  clearTimeout(timer)
  clearImmediate(timer)
  db.close()
  parentPort.close()
})
tick()
`

interface Checkpointer {
  readonly worker: Worker
  readonly exited: Promise<void>
}

const startCheckpointer = (filename: string): Checkpointer => {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3")
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { driver, filename, pages: CHECKPOINT_PAGES } })
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
  worker.on("error", () => {})
  worker.unref()
  return { worker, exited }
}

/** Asks the checkpointer to close its connection and waits for it (terminating it after 5 seconds). */
const stopCheckpointer = (checkpointer: Checkpointer | undefined): Effect.Effect<void> =>
  checkpointer === undefined
    ? Effect.void
    : Effect.promise(() => {
      // until it has exited, the worker keeps the process alive: a process that exits while the
      // worker is still loading its driver aborts
      checkpointer.worker.ref()
      checkpointer.worker.postMessage("stop")
      const timer = setTimeout(() => void checkpointer.worker.terminate(), 5000)
      return checkpointer.exited.finally(() => clearTimeout(timer))
    })

const hasFile = (filename: string) => filename !== "" && filename !== ":memory:" && !filename.startsWith("file:")

/**
 * Opens the write connection with the store's pragmas. Its checkpointer
 * starts once the WAL has grown past `CHECKPOINT_PAGES`: a process that
 * writes little (a command line ingesting a few events) never starts one.
 *
 * @internal
 */
export const open = (filename: string, pragmas: ReadonlyArray<string>): SqliteWriter => {
  const db = new Sqlite(filename)
  db.pragma("journal_mode = WAL")
  for (const p of pragmas) db.exec(p)
  const lazy = hasFile(filename)
  if (lazy) db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
  const walLimit = CHECKPOINT_PAGES * (db.pragma("page_size", { simple: true }) as number)
  let checkpointer: Checkpointer | undefined
  let commits = 0
  /** After a commit: starts the checkpointer when the WAL has grown large (looked at every 8 commits). */
  const afterCommit = () => {
    if (!lazy || checkpointer !== undefined || ++commits % 8 !== 0) return
    if ((Fs.statSync(`${filename}-wal`, { throwIfNoEntry: false })?.size ?? 0) > walLimit) {
      checkpointer = startCheckpointer(filename)
    }
  }
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
          if (Exit.isSuccess(committed)) {
            afterCommit()
            return exit.value
          }
          if (db.inTransaction) rollback.run()
          return yield* Effect.failCause(committed.cause)
        }
        if (db.inTransaction) rollback.run()
        return yield* Effect.failCause(exit.cause)
      })),
    close: Effect.suspend(() => Effect.zipRight(stopCheckpointer(checkpointer), Effect.sync(() => db.close())))
  }
}
