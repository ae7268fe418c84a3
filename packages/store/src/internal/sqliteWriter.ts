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
 * `openThread` puts the write connection itself on a worker thread, for
 * servers: the main thread builds rows and the thread runs the statements,
 * transactions one after another in the order they were posted.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import Sqlite from "better-sqlite3"
import { Effect, Exit } from "effect"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import { INSERT_ONE_SQLITE, type Statement, type Tx } from "./writer.js"

/** A write connection: its transaction runner and its close. @internal */
export interface SqliteWriter {
  readonly transaction: <A>(f: (tx: Tx) => Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
  readonly close: Effect.Effect<void>
  /** whether a write blocks the main thread (then group commit lets arriving requests join first) */
  readonly blocking: boolean
}

/** WAL pages the checkpointer lets pile up before it copies them back. @internal */
export const CHECKPOINT_PAGES = 4000

/**
 * How often the checkpointer copies the WAL back, by default. Each checkpoint
 * copies every page written since the last one and syncs the WAL and the
 * database file: a longer pause copies a page that many commits wrote only
 * once. A write thread (a server) checkpoints more often
 * (`THREAD_CHECKPOINT_INTERVAL_MS`), which keeps each checkpoint's burst of
 * disk writes, and so the latency it adds, small. @internal
 */
export const CHECKPOINT_INTERVAL_MS = 1000

/** The checkpoint interval with a write thread. @internal */
export const THREAD_CHECKPOINT_INTERVAL_MS = 250

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
  timer = behind > workerData.pages ? setImmediate(tick) : setTimeout(tick, workerData.interval)
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

const startCheckpointer = (filename: string, interval: number): Checkpointer => {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3")
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: { driver, filename, pages: CHECKPOINT_PAGES, interval }
  })
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

/**
 * What runs after each commit: starts the checkpointer once the WAL has grown
 * past `walLimit` bytes (looked at every 8 commits); `stop` stops it.
 */
const checkpointWhenLarge = (filename: string, lazy: boolean, walLimit: number, interval: number) => {
  let checkpointer: Checkpointer | undefined
  let commits = 0
  return {
    run: () => {
      if (!lazy || checkpointer !== undefined || ++commits % 8 !== 0) return
      if ((Fs.statSync(`${filename}-wal`, { throwIfNoEntry: false })?.size ?? 0) > walLimit) {
        checkpointer = startCheckpointer(filename, interval)
      }
    },
    stop: Effect.suspend(() => stopCheckpointer(checkpointer))
  }
}

const hasFile = (filename: string) => filename !== "" && filename !== ":memory:" && !filename.startsWith("file:")

/**
 * The write thread: owns the write connection and runs, in order, the
 * operations the main thread posts (`begin` travels with the first
 * statement of a transaction), answering each with its result or error.
 */
const WRITER = `
const { parentPort, workerData } = require("node:worker_threads")
const Sqlite = require(workerData.driver)
const db = new Sqlite(workerData.filename)
const cache = new Map()
const prepare = (sql) => {
  let st = cache.get(sql)
  if (st === undefined) cache.set(sql, st = db.prepare(sql))
  return st
}
const ops = {
  open(m) {
    db.pragma("journal_mode = WAL")
    for (const p of m.pragmas) db.exec(p)
    if (m.backstop > 0) db.pragma("wal_autocheckpoint = " + m.backstop)
    return db.pragma("page_size", { simple: true })
  },
  query(m) {
    const st = prepare(m.sql)
    if (st.reader) return st.all(...m.params)
    st.run(...m.params)
    return []
  },
  insertEach(m) {
    const st = prepare(m.sql)
    const rows = m.rows
    const flags = new Uint8Array(rows.length)
    let all = true
    for (let i = 0; i < rows.length; i++) {
      if (st.run(rows[i]).changes === 1) flags[i] = 1
      else all = false
    }
    if (m.then === undefined || !all) return { flags, committed: false }
    for (const u of m.unless) if (prepare(u.sql).get(...u.params) !== undefined) return { flags, committed: false }
    for (const t of m.then) prepare(t.sql).run(...t.params)
    prepare("COMMIT").run()
    return { flags, committed: true }
  },
  commit() { prepare("COMMIT").run() },
  rollback() { if (db.inTransaction) prepare("ROLLBACK").run() },
  close() { db.close() }
}
const describe = (e) => ({ name: e && e.name, message: String(e && e.message !== undefined ? e.message : e), code: e && e.code })
// the error of a statement nobody waits for: the transaction's later operations and its commit fail with it
let failed
// the transaction whose statements run now (0: none); statements of later ones wait their turn in order
let current = 0
let held = []
const handle = (m) => {
  let reply
  let ended = false
  try {
    if (m.begin === true) {
      current = m.tx
      failed = undefined
      prepare("BEGIN IMMEDIATE").run()
    }
    if (failed !== undefined && m.op !== "rollback" && m.op !== "close") {
      if (m.op === "commit") ops.rollback()
      throw failed
    }
    const value = ops[m.op](m)
    ended = m.op === "commit" || (m.op === "insertEach" && value.committed)
    reply = { seq: m.seq, ok: true, value }
  } catch (e) {
    if (m.noReply === true) failed = e
    reply = { seq: m.seq, ok: false, error: describe(e) }
  }
  if (m.op === "rollback" || ended) {
    current = 0
    failed = undefined
  }
  if (m.noReply !== true) parentPort.postMessage(reply)
  if (m.op === "close") parentPort.close()
}
const onMessage = (m) => {
  if (m.tx !== undefined && current !== 0 && m.tx !== current) {
    held.push(m)
    return
  }
  handle(m)
  if (current === 0 && held.length > 0) {
    const next = held
    held = []
    for (const h of next) onMessage(h)
  }
}
parentPort.on("message", onMessage)
`

interface Reply {
  readonly seq?: number
  readonly ok: boolean
  readonly value?: any
  readonly error?: { readonly name?: string; readonly message: string; readonly code?: unknown }
}

/** An error of the write thread, as the driver raised it (name, message and code). */
const threadError = (e: NonNullable<Reply["error"]>): Error =>
  Object.assign(new Error(e.message), { name: e.name ?? "Error", code: e.code })

/**
 * The main thread's end of the write thread: posts operations and resumes
 * each caller when its answer comes back. The worker keeps the process
 * alive only while an answer is awaited.
 */
class WriteThread {
  private readonly waiting = new Map<number, (reply: Reply) => void>()
  private seq = 0
  private dead: Error | undefined
  readonly exited: Promise<void>
  constructor(readonly worker: Worker) {
    worker.on("message", (reply: Reply) => {
      const answer = this.waiting.get(reply.seq!)
      this.waiting.delete(reply.seq!)
      if (this.waiting.size === 0) worker.unref()
      answer?.(reply)
    })
    worker.on("error", (e) => this.fail(e))
    this.exited = new Promise((resolve) =>
      worker.once("exit", (code) => {
        this.fail(new Error(`the SQLite write thread exited (code ${code})`))
        resolve()
      })
    )
    worker.unref()
  }
  private fail(e: Error): void {
    this.dead ??= e
    const waiting = [...this.waiting.values()]
    this.waiting.clear()
    for (const answer of waiting) answer({ ok: false, error: { name: e.name, message: e.message } })
  }
  /**
   * Waits for the thread to exit after `close` (terminating it after 5
   * seconds). Until it has exited, the worker keeps the process alive: a
   * process that ends first skips what its caller does after closing.
   */
  readonly stop: Effect.Effect<void> = Effect.promise(() => {
    this.worker.ref()
    const timer = setTimeout(() => void this.worker.terminate(), 5000)
    return this.exited.finally(() => clearTimeout(timer))
  })
  /** Posts an operation whose answer nobody waits for; if it fails, the transaction's commit fails. */
  send(message: Record<string, unknown>): void {
    if (this.dead === undefined) this.worker.postMessage({ ...message, noReply: true })
  }
  call<A>(message: Record<string, unknown>): Effect.Effect<A, SqlError> {
    return Effect.async<A, SqlError>((resume) => {
      const answer = (reply: Reply) =>
        resume(
          reply.ok
            ? Effect.succeed(reply.value as A)
            : Effect.fail(new SqlError({ cause: threadError(reply.error!), message: "Failed to execute statement" }))
        )
      if (this.dead !== undefined) return answer({ ok: false, error: { message: this.dead.message } })
      const seq = ++this.seq
      if (this.waiting.size === 0) this.worker.ref()
      this.waiting.set(seq, answer)
      this.worker.postMessage({ ...message, seq })
    })
  }
}

/** Statements that change rows and return none. */
const WRITE_ONLY = /^\s*(INSERT|UPDATE|DELETE)\b(?![\s\S]*\bRETURNING\b)/i

/**
 * Opens the write connection on a thread of its own. The main thread still
 * builds every row; the thread runs the statements, so a server's parsing
 * and validation of the next requests overlaps the current commit. Rows
 * cross as structured clones (about 0.3 µs per row on the main thread).
 *
 * @internal
 */
export const openThread = (
  filename: string,
  pragmas: ReadonlyArray<string>,
  checkpointInterval: number = THREAD_CHECKPOINT_INTERVAL_MS
): Effect.Effect<SqliteWriter, SqlError> =>
  Effect.gen(function*() {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3")
    const thread = new WriteThread(
      // the rows it receives die young: a small young generation keeps the thread's memory down
      new Worker(WRITER, { eval: true, workerData: { driver, filename }, resourceLimits: { maxYoungGenerationSizeMb: 8 } })
    )
    const lazy = hasFile(filename)
    const pageSize = yield* thread.call<number>({ op: "open", pragmas, backstop: lazy ? BACKSTOP_PAGES : 0 }).pipe(
      Effect.tapError(() => Effect.promise(() => thread.worker.terminate()))
    )
    const afterCommit = checkpointWhenLarge(filename, lazy, CHECKPOINT_PAGES * pageSize, checkpointInterval)
    let lastTx = 0
    /** The statements of one transaction; several may be posted at once, the thread runs them one after another. */
    const openTx = () => {
      const id = ++lastTx
      const state = { begun: false, committedEarly: false }
      /** the first operation of a transaction opens it */
      const call = <A>(message: Record<string, unknown>) => {
        if (state.begun) return thread.call<A>({ ...message, tx: id })
        state.begun = true
        return thread.call<A>({ ...message, tx: id, begin: true })
      }
      const insertRows = (
        count: number,
        row: (i: number) => ReadonlyArray<unknown>,
        then: ReadonlyArray<Statement> | undefined,
        unless: ReadonlyArray<Statement> | undefined
      ) =>
        Effect.suspend(() => {
          const rows: Array<ReadonlyArray<unknown>> = new Array(count)
          for (let i = 0; i < count; i++) rows[i] = row(i)
          return Effect.map(
            call<{ flags: Uint8Array; committed: boolean }>({ op: "insertEach", sql: INSERT_ONE_SQLITE, rows, then, unless }),
            (r) => ({ flags: Array.from(r.flags, (f) => f === 1), committed: r.committed })
          )
        })
      const tx: Tx = {
        dialect: "sqlite",
        // a write that returns nothing is not waited for: the thread runs it in order, and a failure fails the commit
        query: (sql, params) =>
          state.begun && WRITE_ONLY.test(sql)
            ? Effect.sync(() => {
              thread.send({ op: "query", sql, params, tx: id })
              return []
            })
            : call<ReadonlyArray<any>>({ op: "query", sql, params }),
        insertEach: (count, row) => Effect.map(insertRows(count, row, undefined, undefined), (r) => r.flags),
        insertThenCommit: (count, row, then, unless) =>
          Effect.map(insertRows(count, row, then, unless), (r) => {
            if (r.committed) state.committedEarly = true
            return r
          })
      }
      return { id, state, tx }
    }
    return {
      transaction: (f) =>
        Effect.uninterruptible(Effect.gen(function*() {
          const { id, state, tx } = openTx()
          const exit = yield* Effect.exit(f(tx))
          if (!state.begun) return yield* exit
          if (Exit.isSuccess(exit)) {
            if (state.committedEarly) {
              afterCommit.run()
              return exit.value
            }
            const committed = yield* Effect.exit(thread.call({ op: "commit", tx: id }))
            if (Exit.isSuccess(committed)) {
              afterCommit.run()
              return exit.value
            }
            yield* Effect.ignore(thread.call({ op: "rollback", tx: id }))
            return yield* Effect.failCause(committed.cause)
          }
          yield* Effect.ignore(thread.call({ op: "rollback", tx: id }))
          return yield* Effect.failCause(exit.cause)
        })),
      close: Effect.suspend(() =>
        Effect.zipRight(afterCommit.stop, Effect.zipRight(Effect.ignore(thread.call({ op: "close" })), thread.stop))
      ),
      blocking: false
    }
  })

/**
 * Opens the write connection with the store's pragmas. Its checkpointer
 * starts once the WAL has grown past `CHECKPOINT_PAGES`: a process that
 * writes little (a command line ingesting a few events) never starts one.
 *
 * @internal
 */
export const open = (
  filename: string,
  pragmas: ReadonlyArray<string>,
  checkpointInterval: number = CHECKPOINT_INTERVAL_MS
): SqliteWriter => {
  const db = new Sqlite(filename)
  db.pragma("journal_mode = WAL")
  for (const p of pragmas) db.exec(p)
  const lazy = hasFile(filename)
  if (lazy) db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
  const afterCommit = checkpointWhenLarge(
    filename,
    lazy,
    CHECKPOINT_PAGES * (db.pragma("page_size", { simple: true }) as number),
    checkpointInterval
  )
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
            afterCommit.run()
            return exit.value
          }
          if (db.inTransaction) rollback.run()
          return yield* Effect.failCause(committed.cause)
        }
        if (db.inTransaction) rollback.run()
        return yield* Effect.failCause(exit.cause)
      })),
    close: Effect.suspend(() => Effect.zipRight(afterCommit.stop, Effect.sync(() => db.close()))),
    blocking: true
  }
}
