/**
 * A worker thread of `polar-events import`: checks the second part of a
 * large NDJSON file while the main thread checks the first, so the check
 * pass of an all-or-nothing import uses two cores. It counts the lines
 * before its part (line numbers stay those of the file), writes every
 * problem it finds to a spool file in order, and answers with its counts.
 *
 * @internal
 */
import * as fs from "node:fs"
import { parentPort, workerData } from "node:worker_threads"
import { formatProblems, prepare } from "./internal/prepare.js"
import { decodeUtf8, newlinesBefore, records } from "./internal/readers.js"
import * as Output from "./Output.js"

/** What the main thread gives the worker. @internal */
export interface CheckRange {
  readonly file: string
  /** the byte where the part starts: just after a newline */
  readonly start: number
  readonly organizationId: string
  /** epoch ms that timestamps are checked against */
  readonly now: number
  /** where problems go, one `where: message` line each */
  readonly spool: string
  readonly color: boolean
  readonly batchSize: number
}

/** What the worker answers: progress while it reads, its counts at the end. @internal */
export type CheckMessage =
  | { readonly _tag: "Progress"; readonly bytes: number }
  | { readonly _tag: "Done"; readonly records: number; readonly valid: number; readonly invalid: number }
  | { readonly _tag: "Failed"; readonly message: string }

const check = async (range: CheckRange, post: (m: CheckMessage) => void) => {
  const offset = newlinesBefore(range.file, range.start)
  const out = fs.openSync(range.spool, "w")
  const s = Output.styles(range.color)
  const now = new Date(range.now)
  let records_ = 0
  let valid = 0
  let invalid = 0
  let bytes = 0
  let reported = 0
  try {
    const source = fs.createReadStream(range.file, { start: range.start, highWaterMark: 512 * 1024 })
    for await (const batch of records(decodeUtf8(source, (n) => (bytes += n)), "ndjson", range.batchSize)) {
      for (const item of batch) (item as { line: number }).line += offset
      const r = prepare(batch, { organizationId: range.organizationId, now, checkOnly: true })
      records_ += r.records
      valid += r.valid
      invalid += r.problems.length
      if (r.problems.length > 0) fs.writeSync(out, formatProblems(r.problems, s.red))
      if (bytes - reported >= 4 * 1024 * 1024) {
        post({ _tag: "Progress", bytes: bytes - reported })
        reported = bytes
      }
    }
  } finally {
    fs.closeSync(out)
  }
  if (bytes > reported) post({ _tag: "Progress", bytes: bytes - reported })
  post({ _tag: "Done", records: records_, valid, invalid })
}

if (parentPort !== null) {
  const port = parentPort
  check(workerData as CheckRange, (m) => port.postMessage(m)).catch((e: unknown) =>
    port.postMessage({ _tag: "Failed", message: e instanceof Error ? e.message : String(e) } satisfies CheckMessage)
  )
}
