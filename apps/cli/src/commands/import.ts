/**
 * `polar-events import FILE|-`: reads NDJSON, a JSON array or CSV in
 * constant memory, checks every record, reports every bad line, and writes
 * through the store's bulk path in large transactions.
 *
 * - By default nothing is written unless every line is good: a first pass
 *   checks the whole input (stdin is spooled to a temporary file for the
 *   second pass), a second one writes.
 * - `--skip-invalid` reads once and writes the good records.
 * - `--dry-run` only checks.
 *
 * Running the same import again never stores an event twice: stored events
 * keep their id (the store is idempotent by id), and an event to ingest
 * without `external_id` gets one derived from its text and line.
 *
 * @internal
 */
import { Args, Command, Options } from "@effect/cli"
import { EventStore } from "@polar-events/store"
import type { Event, EventCreate, ValidationError } from "@polar-events/core"
import { Effect, Fiber, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import type { CheckMessage, CheckRange } from "../checkWorker.js"
import { CommandError, Reported, UsageError } from "../CliError.js"
import { CliSettings, storage } from "../GlobalOptions.js"
import * as Output from "../Output.js"
import * as Progress from "../Progress.js"
import { Organization } from "../Storage.js"
import { withDatabase } from "../internal/context.js"
import { governor } from "../internal/memory.js"
import { formatProblems, prepare, type Problem } from "../internal/prepare.js"
import { decodeUtf8, detectFormat, type Format, formats, InputError, newlinesBefore, records } from "../internal/readers.js"

const READ_CHUNK = 512 * 1024
/** the heap kept while streaming (see `internal/memory.ts`) */
const HEAP_CEILING_MIB = 64
const PARSE_BATCH = 500
/** What a store write can fail with. */
type StoreFailure = ValidationError.RequestValidationError | EventStore.EventStoreError

/** store writes under way at once (one inserting, one waiting its turn) */
const WRITES_IN_FLIGHT = 2
/** NDJSON files at least this large are checked in two parts at once */
const SPLIT_MIN_BYTES = 4 * 1024 * 1024

/** Where the second part of a file starts: just after the first newline past the middle. */
const splitPoint = (file: string, size: number): number | undefined => {
  const fd = fs.openSync(file, "r")
  try {
    const buffer = Buffer.allocUnsafe(256 * 1024)
    for (let at = Math.floor(size / 2); at < size;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, at)
      if (n === 0) return undefined
      const nl = buffer.subarray(0, n).indexOf(10)
      if (nl !== -1) return at + nl + 1 < size ? at + nl + 1 : undefined
      at += n
    }
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Checks the part of a file from `range.start` on a worker thread
 * (`checkWorker.ts`); `undefined` when the worker cannot run (then the main
 * thread checks that part itself).
 */
const checkInWorker = (
  range: CheckRange,
  onBytes: (n: number) => void
): Effect.Effect<Extract<CheckMessage, { _tag: "Done" }> | undefined> =>
  Effect.async((resume) => {
    const url = new URL("./checkWorker.js", import.meta.url)
    if (url.protocol !== "file:" || !fs.existsSync(fileURLToPath(url))) return resume(Effect.succeed(undefined))
    // a small heap: the worker holds one batch at a time (running out falls back to the main thread)
    const worker = new Worker(url, { workerData: range, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } })
    let done = false
    const finish = (result: Extract<CheckMessage, { _tag: "Done" }> | undefined) => {
      if (done) return
      done = true
      void worker.terminate()
      resume(Effect.succeed(result))
    }
    worker.on("message", (m: CheckMessage) => {
      if (m._tag === "Progress") onBytes(m.bytes)
      else finish(m._tag === "Done" ? m : undefined)
    })
    worker.on("error", () => finish(undefined))
    worker.on("exit", () => finish(undefined))
    return Effect.sync(() => {
      done = true
      void worker.terminate()
    })
  })

/** A readable input: how big it is and how to open it. */
interface Input {
  readonly size: number | undefined
  readonly open: () => Readable
  readonly path: string | undefined
}

const fileInput = (file: string): Effect.Effect<Input, CommandError> =>
  Effect.try({
    try: () => {
      const stat = fs.statSync(file)
      if (stat.isDirectory()) throw new Error("it is a directory")
      return {
        size: stat.isFile() ? stat.size : undefined,
        open: () => fs.createReadStream(file, { highWaterMark: READ_CHUNK }),
        path: file
      }
    },
    catch: (e) =>
      new CommandError({
        message: (e as NodeJS.ErrnoException).code === "ENOENT"
          ? `cannot read ${file}: no such file`
          : `cannot read ${file}: ${(e as Error).message}`,
        cause: e
      })
  })

/** Reads the first bytes of a file to tell its format. */
const fileHead = (file: string): string => {
  const fd = fs.openSync(file, "r")
  try {
    const buffer = Buffer.alloc(4096)
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0)
    return buffer.subarray(0, n).toString("utf8")
  } finally {
    fs.closeSync(fd)
  }
}

/** Stdin, copied to a temporary file as it is read so that a second pass can read it again. */
const spooledStdin = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "polar-events-import-"))
    const file = path.join(dir, "stdin")
    return { dir, file, fd: fs.openSync(file, "w") }
  }),
  (spool) =>
    Effect.sync(() => {
      try {
        fs.closeSync(spool.fd)
      } catch {
        // already closed
      }
      fs.rmSync(spool.dir, { recursive: true, force: true })
    })
)

async function* teeTo(source: AsyncIterable<Buffer>, fd: number): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    fs.writeSync(fd, chunk)
    yield chunk
  }
}

async function* prepend(head: Buffer, source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head
  yield* source
}

/** Reads from stdin until there are enough bytes to tell the format. */
const peekStdin = Effect.promise(async () => {
  const iterator = (process.stdin as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  const parts: Array<Buffer> = []
  let size = 0
  let ended = false
  while (size < 4096) {
    const next = await iterator.next()
    if (next.done === true) {
      ended = true
      break
    }
    const chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value
    parts.push(chunk)
    size += chunk.length
    if (/\S/.test(chunk.toString("utf8"))) break
  }
  const head = Buffer.concat(parts)
  const rest: AsyncIterable<Buffer> = ended
    ? (async function*() {})()
    : { [Symbol.asyncIterator]: () => iterator }
  return { head, rest }
})

/** Counters of an import. */
interface Stats {
  records: number
  valid: number
  invalid: number
  inserted: number
  duplicates: number
}

/**
 * Runs one pass over a byte source: parse, prepare, and hand each prepared
 * batch to `onBatch`.
 */
const pass = <E, R>(
  source: AsyncIterable<Buffer>,
  format: Format,
  options: { readonly organizationId: string; readonly now: Date; readonly checkOnly: boolean },
  onBytes: (n: number) => void,
  onBatch: (batch: ReturnType<typeof prepare>) => Effect.Effect<void, E, R>,
  lineOffset = 0
): Effect.Effect<void, E | CommandError, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => records(decodeUtf8(source, onBytes), format, PARSE_BATCH)),
    (iterator) =>
      Effect.gen(function*() {
        const relieve = governor(HEAP_CEILING_MIB)
        while (true) {
          relieve()
          const next = yield* Effect.tryPromise({
            try: () => iterator.next(),
            catch: (e) =>
              e instanceof InputError
                ? new CommandError({ message: e.message, cause: e })
                : new CommandError({ message: `cannot read the input: ${(e as Error).message}`, cause: e })
          })
          if (next.done === true) return
          if (lineOffset > 0) for (const item of next.value) (item as { line: number }).line += lineOffset
          yield* onBatch(prepare(next.value, options))
        }
      }),
    (iterator) => Effect.promise(() => iterator.return(undefined)).pipe(Effect.ignore)
  )

/**
 * The command.
 *
 * @internal
 */
export const importCommand = Command.make(
  "import",
  {
    ...storage,
    file: Args.text({ name: "FILE|-" }).pipe(
      Args.withDescription("The file to import, or - for stdin.")
    ),
    format: Options.choice("format", formats).pipe(
      Options.withDescription("ndjson, json (an array) or csv (default: from the extension or the first character)."),
      Options.optional
    ),
    skipInvalid: Options.boolean("skip-invalid").pipe(
      Options.withDescription("Import the valid records and skip the bad ones (default: import nothing if any is bad).")
    ),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("Check the input; write nothing.")),
    batchSize: Options.integer("batch-size").pipe(
      Options.withDescription("Events per transaction (default 5,000)."),
      Options.withDefault(5_000)
    ),
    noProgress: Options.boolean("no-progress").pipe(Options.withDescription("Print no progress."))
  },
  (input) =>
    withDatabase(
      input,
      Effect.gen(function*() {
        if (input.batchSize < 1) return yield* new UsageError({ message: "--batch-size must be 1 or more" })
        const settings = yield* CliSettings
        const store = yield* EventStore.EventStore
        const org = yield* Organization
        const stdin = input.file === "-"
        const started = Date.now()
        const now = new Date()
        const s = Output.styles(settings.colorErr)

        let format: Format
        let firstSource: AsyncIterable<Buffer>
        let again: (() => AsyncIterable<Buffer>) | undefined
        let size: number | undefined
        let spoolFd: number | undefined
        if (stdin) {
          const { head, rest } = yield* peekStdin
          format = Option.getOrElse(input.format, () => detectFormat(undefined, head.toString("utf8")))
          const all = prepend(head, rest)
          if (input.skipInvalid || input.dryRun) firstSource = all
          else {
            const spool = yield* spooledStdin
            spoolFd = spool.fd
            firstSource = teeTo(all, spool.fd)
            again = () => fs.createReadStream(spool.file, { highWaterMark: READ_CHUNK })
          }
        } else {
          const file: Input = yield* fileInput(input.file)
          size = file.size
          format = Option.getOrElse(input.format, () => detectFormat(file.path, fileHead(input.file)))
          firstSource = file.open()
          again = file.open
        }

        const stats: Stats = { records: 0, valid: 0, invalid: 0, inserted: 0, duplicates: 0 }
        const twoPass = !input.skipInvalid && !input.dryRun
        const writeNow = input.skipInvalid && !input.dryRun
        // a large NDJSON file is checked in two parts at once: the first here, the second on a worker thread
        const split = !stdin && !writeNow && format === "ndjson" && size !== undefined && size >= SPLIT_MIN_BYTES
          ? splitPoint(input.file, size)
          : undefined
        if (split !== undefined) {
          firstSource = fs.createReadStream(input.file, { end: split - 1, highWaterMark: READ_CHUNK })
        }

        yield* Progress.withProgress(
          {
            label: writeNow ? "importing" : "checking",
            unit: "records",
            silent: input.noProgress
          },
          (progress) =>
            Effect.gen(function*() {
              let bytes = 0
              const onBytes = (n: number) => {
                bytes += n
              }
              const fraction = () => (size !== undefined && size > 0 ? Math.min(1, bytes / size) : undefined)
              const report = (problems: ReadonlyArray<Problem>) =>
                Effect.sync(() => {
                  if (problems.length === 0) return
                  progress.clear()
                  process.stderr.write(formatProblems(problems, s.red))
                })

              let events: Array<Event.Event> = []
              let creates: Array<EventCreate.EventCreate> = []
              // writes in flight: the store's write thread inserts one batch while the next is read and decoded
              const writing: Array<Fiber.RuntimeFiber<void, StoreFailure>> = []
              const count = (r: { readonly inserted: number; readonly duplicates: number }) => {
                stats.inserted += r.inserted
                stats.duplicates += r.duplicates
              }
              const startWrite = (write: Effect.Effect<void, StoreFailure>) =>
                Effect.gen(function*() {
                  while (writing.length >= WRITES_IN_FLIGHT) yield* Fiber.join(writing.shift()!)
                  writing.push(yield* Effect.fork(write))
                })
              const flushEvents = Effect.suspend(() => {
                if (events.length === 0) return Effect.void
                const batch = events
                events = []
                return startWrite(Effect.map(store.insert(batch), count))
              })
              const flushCreates = Effect.suspend(() => {
                if (creates.length === 0) return Effect.void
                const batch = creates
                creates = []
                return startWrite(Effect.map(store.ingest(org, batch), count))
              })
              /** writes what is left and waits for every write */
              const finishWrites = Effect.zipRight(
                Effect.zipRight(flushEvents, flushCreates),
                Effect.suspend(() => Effect.forEach(writing.splice(0), Fiber.join, { discard: true }))
              )
              const write = (batch: ReturnType<typeof prepare>) =>
                Effect.gen(function*() {
                  for (const e of batch.events) events.push(e)
                  for (const c of batch.creates) creates.push(c)
                  if (events.length >= input.batchSize) yield* flushEvents
                  if (creates.length >= input.batchSize) yield* flushCreates
                })

              // first pass: check (and, with --skip-invalid, write)
              const onFirst = (batch: ReturnType<typeof prepare>) =>
                Effect.gen(function*() {
                  stats.records += batch.records
                  stats.valid += batch.valid
                  stats.invalid += batch.problems.length
                  yield* report(batch.problems)
                  if (writeNow) yield* write(batch)
                  progress.update(stats.records, fraction())
                })
              const checkOptions = { organizationId: org, now, checkOnly: !writeNow }
              if (split === undefined) {
                yield* pass(firstSource, format, checkOptions, onBytes, onFirst)
              } else {
                const spoolDir = yield* Effect.acquireRelease(
                  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "polar-events-check-"))),
                  (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
                )
                const spool = path.join(spoolDir, "problems")
                const second = yield* Effect.fork(checkInWorker({
                  file: input.file,
                  start: split,
                  organizationId: org,
                  now: now.getTime(),
                  spool,
                  color: settings.colorErr,
                  batchSize: PARSE_BATCH
                }, onBytes))
                yield* pass(firstSource, format, checkOptions, onBytes, onFirst)
                const checked = yield* Fiber.join(second)
                if (checked !== undefined) {
                  // the second part's problems, after the first part's: every line in order
                  if (checked.invalid > 0) {
                    progress.clear()
                    const fd = fs.openSync(spool, "r")
                    try {
                      const buffer = Buffer.allocUnsafe(1024 * 1024)
                      for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) {
                        process.stderr.write(Buffer.from(buffer.subarray(0, n)))
                      }
                    } finally {
                      fs.closeSync(fd)
                    }
                  }
                  stats.records += checked.records
                  stats.valid += checked.valid
                  stats.invalid += checked.invalid
                  progress.update(stats.records, fraction())
                } else {
                  // no worker: the second part here, its lines numbered from the file's start
                  yield* pass(
                    fs.createReadStream(input.file, { start: split, highWaterMark: READ_CHUNK }),
                    format,
                    checkOptions,
                    () => {},
                    onFirst,
                    newlinesBefore(input.file, split)
                  )
                }
              }
              if (spoolFd !== undefined) fs.closeSync(spoolFd)

              if (writeNow) yield* finishWrites
              if (stats.invalid > 0 && !input.skipInvalid) {
                progress.clear()
                const what = `${Output.count(stats.invalid)} of ${Output.count(stats.records)} records ${
                  stats.invalid === 1 ? "is" : "are"
                } invalid`
                process.stderr.write(
                  `error: ${what}; ${input.dryRun ? "an import would write nothing" : "nothing was imported"} ` +
                    `(fix them, or pass --skip-invalid to import the ${Output.count(stats.valid)} valid ones)\n`
                )
                if (settings.json) process.stdout.write(JSON.stringify({ ...stats, imported: false }) + "\n")
                return yield* new Reported({ exitCode: 1 })
              }
              if (twoPass && again !== undefined) {
                progress.phase("importing")
                bytes = 0
                let written = 0
                let changed = 0
                yield* pass(again(), format, { organizationId: org, now, checkOnly: false }, onBytes, (batch) =>
                  Effect.gen(function*() {
                    written += batch.records
                    changed += batch.problems.length
                    yield* report(batch.problems)
                    yield* write(batch)
                    progress.update(written, fraction())
                  }))
                yield* finishWrites
                if (changed > 0 || written !== stats.records) {
                  progress.clear()
                  process.stderr.write(
                    `error: the input changed while it was imported (${Output.count(written)} records instead of ` +
                      `${Output.count(stats.records)}, ${Output.count(changed)} invalid ones skipped); check what was stored\n`
                  )
                  return yield* new Reported({ exitCode: 1 })
                }
              }
            })
        )

        const seconds = (Date.now() - started) / 1000
        const rate = seconds > 0 ? Math.round(stats.valid / seconds) : stats.valid
        if (settings.json) {
          process.stdout.write(JSON.stringify({ ...stats, dryRun: input.dryRun, seconds, eventsPerSecond: rate }) + "\n")
          return
        }
        if (input.dryRun) {
          process.stdout.write(
            `dry run: ${Output.count(stats.valid)} valid events` +
              (stats.invalid > 0 ? `, ${Output.count(stats.invalid)} invalid records` : "") + "; nothing written\n"
          )
          return
        }
        const parts = [`imported ${Output.count(stats.valid)} event${stats.valid === 1 ? "" : "s"} in ${seconds.toFixed(1)}s (${Output.count(rate)}/s)`]
        const detail = [`${Output.count(stats.inserted)} new`]
        if (stats.duplicates > 0) detail.push(`${Output.count(stats.duplicates)} already stored`)
        if (stats.invalid > 0) detail.push(`${Output.count(stats.invalid)} invalid skipped`)
        process.stdout.write(`${parts.join("")}: ${detail.join(", ")}\n`)
      }).pipe(Effect.scoped),
      // SQLite writes on a thread of its own while the next batches are read and decoded
      { writeThread: true }
    )
).pipe(
  Command.withDescription(
    "Import events from NDJSON, a JSON array or CSV (a file or - for stdin): streamed, checked, all or nothing."
  )
)
