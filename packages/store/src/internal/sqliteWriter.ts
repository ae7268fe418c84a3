/**
 * SQLite's writer: a dedicated better-sqlite3 connection on the same file
 * (WAL lets it write while the `SqlClient` connection reads), with prepared
 * statements run in a plain loop inside `BEGIN IMMEDIATE`. This is the raw
 * driver loop, so the store pays no per-row overhead over it.
 *
 * The connection runs in the main thread (`open`) or, for servers, on a
 * write thread of its own (`openThread`): the main thread builds rows and the
 * thread runs the statements, transactions one after another in the order
 * they were posted. Both run the same `Connection` operations and the same
 * transaction; a batch of new events is inserted, summarised and committed
 * in one operation.
 *
 * WAL checkpoints run on a worker thread with its own connection (SQLite's
 * advice for write-heavy programs): a commit no longer stops to copy the WAL
 * back into the database file, and the copying uses another core. The write
 * connection keeps a distant automatic checkpoint as a backstop.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Worker, type WorkerOptions } from "node:worker_threads"
import type { Stored } from "./common.js"
import { Connection } from "./worker/connection.js"
import * as Protocol from "./worker/protocol.js"
import {
  type Candidate,
  candidates,
  INSERT_ONE_SQLITE,
  type Keys,
  KeyScope,
  namesStatements,
  PENDING_SQLITE,
  rowValues,
  type Statement,
  type WriteResult,
  type WriterOptions
} from "./writePlan.js"
import { insertAll, internKeys, resolveParents, type Statements, type Writer } from "./writer.js"

/** The SQLite writer: a `Writer` with its connection's close. @internal */
export interface SqliteWriter extends Writer {
  readonly close: Effect.Effect<void>
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

// ---------------------------------------------------------------------------
// worker threads
// ---------------------------------------------------------------------------

/**
 * Starts a worker entry of this package (`worker/<name>.ts`). Built, the
 * entries are beside the bundle (`dist/internal/worker/<name>.js`). Run from
 * sources (the package's tests, or a test bundle inside the package), the
 * TypeScript entry runs through tsx, a development dependency.
 */
const startWorker = (name: "writer" | "checkpointer", options: WorkerOptions): Worker => {
  const here = import.meta.url
  const built = new URL(`./internal/worker/${name}.js`, here)
  if (!here.endsWith(".ts") && Fs.existsSync(built)) return new Worker(built, options)
  let dir = Path.dirname(fileURLToPath(here))
  let source = Path.join(dir, "worker", `${name}.ts`)
  while (!Fs.existsSync(source)) {
    const up = Path.dirname(dir)
    if (up === dir) throw new Error(`the store's worker entry ${name} was not found beside ${here}`)
    dir = up
    source = Path.join(dir, "src", "internal", "worker", `${name}.ts`)
  }
  return new Worker(new URL("fromSource.mjs", pathToFileURL(source)), {
    ...options,
    workerData: { ...options.workerData, entry: pathToFileURL(source).href }
  })
}

interface Checkpointer {
  readonly worker: Worker
  readonly exited: Promise<void>
}

const startCheckpointer = (filename: string, interval: number): Checkpointer => {
  const workerData: Protocol.CheckpointerData = { filename, pages: CHECKPOINT_PAGES, interval }
  const worker = startWorker("checkpointer", { workerData })
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
      const stop: Protocol.Stop = "stop"
      checkpointer.worker.postMessage(stop)
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
  let unavailable = false
  return {
    run: () => {
      if (!lazy || unavailable || checkpointer !== undefined || ++commits % 8 !== 0) return
      if ((Fs.statSync(`${filename}-wal`, { throwIfNoEntry: false })?.size ?? 0) > walLimit) {
        try {
          checkpointer = startCheckpointer(filename, interval)
        } catch {
          // no worker entry to start (a bundle without it): the write connection's backstop checkpoints
          unavailable = true
        }
      }
    },
    stop: Effect.suspend(() => stopCheckpointer(checkpointer))
  }
}

const hasFile = (filename: string) => filename !== "" && filename !== ":memory:" && !filename.startsWith("file:")

/** An error of the write thread, as the driver raised it (name, message and code). */
const threadError = (e: Protocol.ThreadError): Error =>
  Object.assign(new Error(e.message), { name: e.name ?? "Error", code: e.code })

const decodeThreadError = Schema.decodeUnknownSync(Protocol.ThreadError)

/**
 * The main thread's end of the write thread: posts operations and resumes
 * each caller when its answer comes back. The worker keeps the process
 * alive only while an answer is awaited.
 */
class WriteThread {
  private readonly waiting = new Map<number, (reply: Protocol.Reply) => void>()
  private seq = 0
  private dead: Error | undefined
  readonly exited: Promise<void>
  constructor(readonly worker: Worker) {
    worker.on("message", (reply: Protocol.Reply) => {
      const answer = this.waiting.get(reply.seq)
      this.waiting.delete(reply.seq)
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
    for (const answer of waiting) answer({ seq: 0, ok: false, error: { name: e.name, message: e.message } })
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
  send(message: Protocol.Request): void {
    if (this.dead === undefined) this.worker.postMessage({ ...message, noReply: true })
  }
  call<A>(message: Protocol.Request): Effect.Effect<A, SqlError> {
    return Effect.async<A, SqlError>((resume) => {
      const answer = (reply: Protocol.Reply) =>
        resume(
          reply.ok
            ? Effect.succeed(reply.value as A)
            : Effect.fail(
              new SqlError({ cause: threadError(decodeThreadError(reply.error)), message: "Failed to execute statement" })
            )
        )
      if (this.dead !== undefined) return answer({ seq: 0, ok: false, error: { message: this.dead.message } })
      const seq = ++this.seq
      if (this.waiting.size === 0) this.worker.ref()
      this.waiting.set(seq, answer)
      this.worker.postMessage({ ...message, seq })
    })
  }
}

// ---------------------------------------------------------------------------
// the transaction
// ---------------------------------------------------------------------------

/** The operations of one open transaction, on the main thread's connection or the write thread's. */
interface SqliteTx extends Statements {
  /**
   * Inserts rows one by one (`INSERT ... ON CONFLICT DO NOTHING`); with
   * `then`, if every row went in and none of `unless` finds a row, also
   * runs `then` and commits, in the same operation.
   */
  readonly insertEach: (
    count: number,
    row: (i: number) => ReadonlyArray<unknown>,
    then?: { readonly then: ReadonlyArray<Statement>; readonly unless: ReadonlyArray<Statement> }
  ) => Effect.Effect<Protocol.InsertResult, SqlError>
  /** commits, unless `insertEach` already did */
  readonly commit: Effect.Effect<void, SqlError>
  readonly rollback: Effect.Effect<void>
}

/** A write connection: how a transaction begins on it, and its close. */
interface SqliteConnection {
  readonly begin: Effect.Effect<SqliteTx, SqlError>
  readonly close: Effect.Effect<void>
}

/** Commits on success, rolls back on failure; the one transaction runner of both connections. */
const transaction = (conn: SqliteConnection, afterCommit: () => void) =>
<A>(f: (tx: SqliteTx) => Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> =>
  Effect.uninterruptible(Effect.gen(function*() {
    const tx = yield* conn.begin
    const exit = yield* Effect.exit(f(tx))
    if (Exit.isSuccess(exit)) {
      const committed = yield* Effect.exit(tx.commit)
      if (Exit.isSuccess(committed)) {
        afterCommit()
        return exit.value
      }
      yield* tx.rollback
      return yield* Effect.failCause(committed.cause)
    }
    yield* tx.rollback
    return yield* Effect.failCause(exit.cause)
  }))

/**
 * Writes a batch in the open transaction. The common case, every event new
 * and none waiting for a parent, is inserted, summarised and committed in
 * one operation.
 */
const writeBatch = (
  tx: SqliteTx,
  keys: Keys,
  batch: ReadonlyArray<Stored>,
  options: WriterOptions
): Effect.Effect<WriteResult, SqlError> =>
  Effect.gen(function*() {
    const scope = new KeyScope(keys)
    yield* internKeys(tx, scope, batch)
    const lookup = (org: number, kind: number, v: string) => scope.customer(org, kind, v)!
    const todo = candidates("sqlite", scope, batch, options)
    const insert = (current: ReadonlyArray<Candidate>) =>
      Effect.map(tx.insertEach(current.length, (i) => rowValues("sqlite", current[i]!, lookup)), (r) => r.flags)
    const inserted: Array<boolean> = new Array(batch.length).fill(false)
    const added: Array<Candidate> = []
    let first: Uint8Array | undefined
    if (todo.every((c) => c.s.parentRef === null)) {
      const orgs = [...new Set(todo.map((c) => c.org))]
      const result = yield* tx.insertEach(todo.length, (i) => rowValues("sqlite", todo[i]!, lookup), {
        then: namesStatements(todo),
        unless: orgs.map((org) => ({ sql: PENDING_SQLITE, params: [org] }))
      })
      if (result.committed) {
        for (const c of todo) inserted[c.index] = true
        return { inserted, learned: scope.learned }
      }
      first = result.flags
    }
    yield* insertAll(tx, todo, insert, inserted, added, first)
    for (const st of namesStatements(added)) yield* tx.query(st.sql, st.params)
    if (added.length > 0) yield* resolveParents(tx, added, options, undefined)
    return { inserted, learned: scope.learned }
  })

const writerOf = (conn: SqliteConnection, afterCommit: () => void, pipelined: boolean): SqliteWriter => {
  const run = transaction(conn, afterCommit)
  return {
    write: (keys, batch, options) => run((tx) => writeBatch(tx, keys, batch, options)),
    close: conn.close,
    pipelined
  }
}

// ---------------------------------------------------------------------------
// the two connections
// ---------------------------------------------------------------------------

/** Statements that change rows and return none. */
const WRITE_ONLY = /^\s*(INSERT|UPDATE|DELETE)\b(?![\s\S]*\bRETURNING\b)/i

/** The write thread's transactions: several may be posted at once, the thread runs them one after another. */
const threadConnection = (thread: WriteThread, close: Effect.Effect<void>): SqliteConnection => {
  let lastTx = 0
  const begin = Effect.sync((): SqliteTx => {
    const id = ++lastTx
    let begun = false
    let ended = false
    /** the first operation of a transaction opens it */
    const call = <A>(message: Protocol.Request) => {
      if (begun) return thread.call<A>({ ...message, tx: id })
      begun = true
      return thread.call<A>({ ...message, tx: id, begin: true })
    }
    return {
      dialect: "sqlite",
      // a write that returns nothing is not waited for: the thread runs it in order, and a failure fails the commit
      query: (sql, params) =>
        begun && WRITE_ONLY.test(sql)
          ? Effect.sync(() => {
            thread.send({ op: "query", sql, params, tx: id })
            return []
          })
          : call<ReadonlyArray<any>>({ op: "query", sql, params }),
      insertEach: (count, row, then) =>
        Effect.suspend(() => {
          const rows: Array<ReadonlyArray<unknown>> = new Array(count)
          for (let i = 0; i < count; i++) rows[i] = row(i)
          return Effect.map(
            call<Protocol.InsertResult>({
              op: "insertEach",
              sql: INSERT_ONE_SQLITE,
              rows,
              then: then?.then,
              unless: then?.unless
            }),
            (r) => {
              if (r.committed) ended = true
              return r
            }
          )
        }),
      commit: Effect.suspend(() => (!begun || ended ? Effect.void : thread.call<void>({ op: "commit", tx: id }))),
      rollback: Effect.suspend(() =>
        !begun || ended ? Effect.void : Effect.ignore(thread.call({ op: "rollback", tx: id }))
      )
    }
  })
  return { begin, close }
}

/** The main thread's connection: each operation runs at once, synchronously. */
const directConnection = (db: Connection, close: Effect.Effect<void>): SqliteConnection => {
  const fail = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })
  let ended = false
  const tx: SqliteTx = {
    dialect: "sqlite",
    query: (sql, params) => Effect.try({ try: () => db.query(sql, params), catch: fail }),
    insertEach: (count, row, then) =>
      Effect.try({
        try: () => {
          const r = db.insertEach(INSERT_ONE_SQLITE, count, row, then?.then, then?.unless)
          if (r.committed) ended = true
          return r
        },
        catch: fail
      }),
    commit: Effect.suspend(() => (ended ? Effect.void : Effect.try({ try: () => db.commit(), catch: fail }))),
    rollback: Effect.sync(() => db.rollback())
  }
  return {
    begin: Effect.try({
      try: () => {
        ended = false
        db.begin()
        return tx
      },
      catch: fail
    }),
    close
  }
}

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
    const workerData: Protocol.WriterData = { filename }
    const thread = new WriteThread(
      // the rows it receives die young: a small young generation keeps the thread's memory down
      yield* Effect.try({
        try: () => startWorker("writer", { workerData, resourceLimits: { maxYoungGenerationSizeMb: 8 } }),
        catch: (cause) => new SqlError({ cause, message: "Failed to start the SQLite write thread" })
      })
    )
    const lazy = hasFile(filename)
    const pageSize = yield* thread.call<unknown>({ op: "open", pragmas, backstop: lazy ? BACKSTOP_PAGES : 0 }).pipe(
      Effect.map(Schema.decodeUnknownSync(Schema.Number)),
      Effect.tapError(() => Effect.promise(() => thread.worker.terminate()))
    )
    const afterCommit = checkpointWhenLarge(filename, lazy, CHECKPOINT_PAGES * pageSize, checkpointInterval)
    const close = Effect.suspend(() =>
      Effect.zipRight(afterCommit.stop, Effect.zipRight(Effect.ignore(thread.call({ op: "close" })), thread.stop))
    )
    return writerOf(threadConnection(thread, close), afterCommit.run, true)
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
  const db = new Connection(filename)
  const lazy = hasFile(filename)
  const pageSize = db.open(pragmas, lazy ? BACKSTOP_PAGES : 0)
  const afterCommit = checkpointWhenLarge(filename, lazy, CHECKPOINT_PAGES * pageSize, checkpointInterval)
  return writerOf(
    directConnection(db, Effect.zipRight(afterCommit.stop, Effect.sync(() => db.close()))),
    afterCommit.run,
    false
  )
}
