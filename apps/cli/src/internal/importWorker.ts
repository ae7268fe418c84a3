/**
 * The second half of a two-part check: a large NDJSON file's part from its
 * split point is checked on a worker thread (`checkWorker.ts`) while the
 * main thread checks the first part; without a worker the main thread
 * checks it after the first.
 *
 * @internal
 */
import { Effect, Fiber } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import type { CheckMessage, CheckRange } from "../checkWorker.js"
import type { CommandError } from "../CliError.js"
import { READ_CHUNK } from "./importSource.js"
import { pass, PARSE_BATCH } from "./importPass.js"
import type { Prepared, PrepareOptions } from "./prepare.js"
import { type Format, newlinesBefore } from "./readers.js"

type Done = Extract<CheckMessage, { _tag: "Done" }>

/**
 * Checks the part of a file from `range.start` on a worker thread;
 * `undefined` when the worker cannot run (then the main thread checks that
 * part itself).
 */
const checkInWorker = (range: CheckRange, onBytes: (n: number) => void): Effect.Effect<Done | undefined> =>
  Effect.async((resume) => {
    const url = new URL("./checkWorker.js", import.meta.url)
    if (url.protocol !== "file:" || !fs.existsSync(fileURLToPath(url))) return resume(Effect.succeed(undefined))
    // a small heap: the worker holds one batch at a time (running out falls back to the main thread)
    const worker = new Worker(url, {
      workerData: range,
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 }
    })
    let done = false
    const finish = (result: Done | undefined) => {
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

/** Copies the worker's problem lines to stderr as they are: raw bytes, as many as the file has bad lines, never held whole. */
const copyToStderr = (file: string): void => {
  const fd = fs.openSync(file, "r")
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024)
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) {
      process.stderr.write(Buffer.from(buffer.subarray(0, n)))
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** How a split check runs. @internal */
export interface SplitCheck<E, R> {
  readonly file: string
  readonly split: number
  readonly format: Format
  readonly first: AsyncIterable<Buffer>
  readonly options: PrepareOptions
  readonly color: boolean
  readonly onBytes: (n: number) => void
  /** every checked batch of the main thread */
  readonly onBatch: (batch: Prepared) => Effect.Effect<void, E, R>
  /** the worker's counts, after its problems were printed (`before` clears the progress line) */
  readonly onWorker: (counts: Done) => void
  readonly beforeProblems: () => void
}

/**
 * Checks a split file: the first part here, the second on a worker at the
 * same time, its problems printed after the first part's so that every line
 * comes in order.
 *
 * @internal
 */
export const checkSplit = <E, R>(check: SplitCheck<E, R>): Effect.Effect<void, E | CommandError, R> =>
  Effect.scoped(Effect.gen(function*() {
    const spoolDir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "polar-events-check-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const spool = path.join(spoolDir, "problems")
    const second = yield* Effect.fork(checkInWorker({
      file: check.file,
      start: check.split,
      organizationId: check.options.organizationId,
      now: check.options.now.getTime(),
      spool,
      color: check.color,
      batchSize: PARSE_BATCH
    }, check.onBytes))
    yield* pass(check.first, check.format, check.options, check.onBytes, check.onBatch)
    const checked = yield* Fiber.join(second)
    if (checked === undefined) {
      // no worker: the second part here, its lines numbered from the file's start
      const rest = fs.createReadStream(check.file, { start: check.split, highWaterMark: READ_CHUNK })
      return yield* pass(rest, check.format, check.options, () => {}, check.onBatch, newlinesBefore(check.file, check.split))
    }
    if (checked.invalid > 0) {
      check.beforeProblems()
      copyToStderr(spool)
    }
    check.onWorker(checked)
  }))
