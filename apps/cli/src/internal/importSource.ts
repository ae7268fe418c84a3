/**
 * The input of an import: a file (its size, its format from the extension
 * or the first bytes, a second read for the writing pass, a split point for
 * a two-part check) or stdin (peeked for its format, spooled to a temporary
 * file when a second pass must read it again).
 *
 * @internal
 */
import { Effect, Option, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CommandError } from "../CliError.js"
import { detectFormat, type Format } from "./readers.js"

/** The size of a read of the input. @internal */
export const READ_CHUNK = 512 * 1024

/** NDJSON files at least this large are checked in two parts at once. */
const SPLIT_MIN_BYTES = 4 * 1024 * 1024

/** An opened input. @internal */
export interface Source {
  readonly format: Format
  /** the file, or undefined for stdin */
  readonly file: string | undefined
  /** bytes in all, when known */
  readonly size: number | undefined
  /** what the first pass reads (only the first part of a split file) */
  readonly first: AsyncIterable<Buffer>
  /** a fresh read of the whole input for the writing pass, when there is one */
  readonly again: (() => AsyncIterable<Buffer>) | undefined
  /** where the second part of a split file starts */
  readonly split: number | undefined
  /** ends the spool of stdin once the first pass has read everything */
  readonly endSpool: () => void
}

/** How an input is read. @internal */
export interface SourceOptions {
  /** the file, or `-` for stdin */
  readonly file: string
  readonly format: Option.Option<Format>
  /** a second pass will read the input again (stdin is then spooled) */
  readonly twoPass: boolean
  /** a large NDJSON file may be checked in two parts at once */
  readonly maySplit: boolean
}

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

const statFile = (file: string): Effect.Effect<number | undefined, CommandError> =>
  Effect.try({
    try: () => {
      const stat = fs.statSync(file)
      if (stat.isDirectory()) throw new Error("it is a directory")
      return stat.isFile() ? stat.size : undefined
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

const openStdin = (options: SourceOptions): Effect.Effect<Source, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { head, rest } = yield* peekStdin
    const format = Option.getOrElse(options.format, () => detectFormat(undefined, head.toString("utf8")))
    const all = prepend(head, rest)
    const base = { format, file: undefined, size: undefined, split: undefined }
    if (!options.twoPass) return { ...base, first: all, again: undefined, endSpool: () => {} }
    const spool = yield* spooledStdin
    let open = true
    return {
      ...base,
      first: teeTo(all, spool.fd),
      again: () => fs.createReadStream(spool.file, { highWaterMark: READ_CHUNK }),
      endSpool: () => {
        if (open) fs.closeSync(spool.fd)
        open = false
      }
    }
  })

const openFile = (options: SourceOptions): Effect.Effect<Source, CommandError> =>
  Effect.map(statFile(options.file), (size) => {
    const file = options.file
    const format = Option.getOrElse(options.format, () => detectFormat(file, fileHead(file)))
    const open = () => fs.createReadStream(file, { highWaterMark: READ_CHUNK })
    const split = options.maySplit && format === "ndjson" && size !== undefined && size >= SPLIT_MIN_BYTES
      ? splitPoint(file, size)
      : undefined
    return {
      format,
      file,
      size,
      first: split === undefined ? open() : fs.createReadStream(file, { end: split - 1, highWaterMark: READ_CHUNK }),
      again: open,
      split,
      endSpool: () => {}
    }
  })

/**
 * Opens the input of an import.
 *
 * @internal
 */
export const open = (options: SourceOptions): Effect.Effect<Source, CommandError, Scope.Scope> =>
  options.file === "-" ? openStdin(options) : openFile(options)
