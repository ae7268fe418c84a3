/**
 * Streaming readers for `import`: NDJSON, a JSON array and CSV, each read
 * chunk by chunk in constant memory, each record tagged with the line it
 * starts on so that every problem can be reported as `line N: ...`.
 *
 * @internal
 */
import * as fs from "node:fs"
import { StringDecoder } from "node:string_decoder"

/** The input formats of `import`. @internal */
export type Format = "ndjson" | "json" | "csv"

/** The formats, for flags. @internal */
export const formats: ReadonlyArray<Format> = ["ndjson", "json", "csv"]

/**
 * One record of the input: a parsed value, or why the text at `line` could
 * not be read. `index` is set for the i-th event of an ingest body
 * (`{"events": [...]}`) on one line.
 *
 * @internal
 */
export type Item =
  | { readonly line: number; readonly index?: number | undefined; readonly value: unknown; readonly error?: undefined }
  | { readonly line: number; readonly index?: number | undefined; readonly error: string; readonly value?: undefined }

/** The place of an item, as shown to the user: `line 12` or `line 3, events[2]`. @internal */
export const where = (item: { readonly line: number; readonly index?: number | undefined }): string =>
  item.index === undefined ? `line ${item.line}` : `line ${item.line}, events[${item.index}]`

/** How many newlines the first `end` bytes of a file hold: the line number where a part starting there begins, less one. @internal */
export const newlinesBefore = (file: string, end: number): number => {
  const fd = fs.openSync(file, "r")
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024)
    let lines = 0
    for (let at = 0; at < end;) {
      const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at)
      if (n === 0) break
      for (let i = buffer.indexOf(10); i !== -1 && i < n; i = buffer.indexOf(10, i + 1)) lines++
      at += n
    }
    return lines
  } finally {
    fs.closeSync(fd)
  }
}

/** A whole input that cannot be read as its format (a bad CSV header, data after a JSON array). @internal */
export class InputError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`)
  }
}

/**
 * The format of an input: from the file's extension, else from its first
 * non-blank character (`[` a JSON array, `{` NDJSON, anything else CSV).
 *
 * @internal
 */
export const detectFormat = (path: string | undefined, head: string): Format => {
  const lower = path?.toLowerCase() ?? ""
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson"
  if (lower.endsWith(".csv")) return "csv"
  const first = /\S/.exec(head)?.[0]
  if (first === "[") return "json"
  if (first === "{") return "ndjson"
  if (lower.endsWith(".json")) return "json"
  return first === undefined ? "ndjson" : "csv"
}

const jsonError = (e: unknown): string => `invalid JSON: ${(e as Error).message}`

const expand = (line: number, value: unknown, out: Array<Item>): void => {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const events = (value as { readonly events?: unknown }).events
    if (Array.isArray(events) && !("name" in value)) {
      if (events.length === 0) out.push({ line, error: "an ingest body with no events" })
      for (let i = 0; i < events.length; i++) out.push({ line, index: i, value: events[i] })
      return
    }
  }
  out.push({ line, value })
}

/** Reads NDJSON: one JSON value per line; blank lines are skipped. */
async function* ndjson(chunks: AsyncIterable<string>, batchSize: number): AsyncGenerator<Array<Item>> {
  let rest = ""
  let line = 0
  let out: Array<Item> = []
  const take = (text: string) => {
    line++
    let s = text
    if (s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1)
    if (s.length === 0 || !/\S/.test(s)) return
    let value: unknown
    try {
      value = JSON.parse(s)
    } catch (e) {
      out.push({ line, error: jsonError(e) })
      return
    }
    expand(line, value, out)
  }
  for await (const chunk of chunks) {
    let start = 0
    let nl = chunk.indexOf("\n")
    if (nl >= 0 && rest.length > 0) {
      take(rest + chunk.slice(0, nl))
      rest = ""
      start = nl + 1
      nl = chunk.indexOf("\n", start)
    }
    while (nl >= 0) {
      take(chunk.slice(start, nl))
      start = nl + 1
      nl = chunk.indexOf("\n", start)
    }
    rest += chunk.slice(start)
    if (out.length >= batchSize) {
      yield out
      out = []
    }
  }
  if (rest.length > 0) take(rest)
  if (out.length > 0) yield out
}

const WS = (c: number) => c === 32 || c === 10 || c === 13 || c === 9

/**
 * Reads a JSON array element by element without holding the array: a small
 * scanner finds the top-level commas (outside strings and nested values) and
 * each element is parsed alone. A single top-level object (an ingest body
 * `{"events": [...]}` or one event) is read whole.
 */
async function* jsonArray(chunks: AsyncIterable<string>, batchSize: number): AsyncGenerator<Array<Item>> {
  let out: Array<Item> = []
  let line = 1
  /** 0: before `[`; 1: inside the array; 2: after `]`; 3: a whole top-level object */
  let phase = 0
  let depth = 0
  let inString = false
  let escaped = false
  let pending = ""
  let elementLine = 0
  let whole = ""
  let wholeLine = 1
  const finish = (text: string) => {
    const s = text.trim()
    if (s.length === 0) {
      out.push({ line: elementLine || line, error: "invalid JSON: an empty array element (a stray comma?)" })
      return
    }
    let value: unknown
    try {
      value = JSON.parse(s)
    } catch (e) {
      out.push({ line: elementLine, error: jsonError(e) })
      return
    }
    expand(elementLine, value, out)
  }
  let sawElement = false
  for await (const chunk of chunks) {
    if (phase === 3) {
      whole += chunk
      continue
    }
    let segStart = -1
    if (phase === 1 && elementLine > 0) segStart = 0
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i)
      if (c === 10) line++
      if (phase === 0) {
        if (WS(c)) continue
        if (c === 91) {
          phase = 1
          depth = 1
          continue
        }
        if (c === 123) {
          phase = 3
          wholeLine = line
          whole = chunk.slice(i)
          break
        }
        throw new InputError(line, "expected a JSON array `[...]` or an object")
      }
      if (phase === 2) {
        if (!WS(c)) throw new InputError(line, "unexpected data after the end of the JSON array")
        continue
      }
      if (inString) {
        if (escaped) escaped = false
        else if (c === 92) escaped = true
        else if (c === 34) inString = false
        continue
      }
      if (depth === 1 && (c === 44 || c === 93)) {
        if (c === 93 && !sawElement && elementLine === 0 && pending.trim() === "") {
          phase = 2
          depth = 0
          continue
        }
        const text = segStart >= 0 ? pending + chunk.slice(segStart, i) : pending
        finish(text)
        sawElement = true
        pending = ""
        segStart = -1
        elementLine = 0
        if (c === 93) {
          phase = 2
          depth = 0
        }
        continue
      }
      if (elementLine === 0) {
        if (WS(c)) continue
        elementLine = line
        segStart = i
      }
      if (c === 34) inString = true
      else if (c === 123 || c === 91) depth++
      else if (c === 125 || c === 93) depth--
    }
    if (phase === 1 && segStart >= 0) pending += chunk.slice(segStart)
    if (out.length >= batchSize) {
      yield out
      out = []
    }
  }
  if (phase === 3) {
    let value: unknown
    try {
      value = JSON.parse(whole)
    } catch (e) {
      throw new InputError(wholeLine, jsonError(e))
    }
    expand(wholeLine, value, out)
  } else if (phase === 1) {
    throw new InputError(line, "invalid JSON: the array is not closed (missing `]`)")
  } else if (phase === 0) {
    // an empty input holds no events
  }
  if (out.length > 0) yield out
}

/** The fixed CSV columns of an event, before its `metadata.*` columns. @internal */
export const csvFixedColumns: ReadonlyArray<string> = [
  "id",
  "timestamp",
  "name",
  "source",
  "label",
  "organization_id",
  "customer_id",
  "external_customer_id",
  "member_id",
  "external_member_id",
  "parent_id",
  "child_count"
]

/** The top-level columns a CSV may have besides `metadata.*` and `metadata`: what export writes, and `external_id`. @internal */
export const csvColumns: ReadonlyArray<string> = [...csvFixedColumns, "external_id"]

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/**
 * A metadata value written as text (a CSV cell, a `--meta key=value`):
 * `true`/`false` are booleans, JSON numbers are numbers, a JSON string
 * literal (`"123"`) is that string, a JSON object or array is that value,
 * anything else is the text itself.
 *
 * @internal
 */
export const parseScalar = (text: string): unknown => {
  if (text === "true") return true
  if (text === "false") return false
  if (NUMBER.test(text)) {
    const n = Number(text)
    if (Number.isFinite(n)) return n
  }
  const first = text.charCodeAt(0)
  if (text.length >= 2 && (first === 34 || first === 123 || first === 91)) {
    try {
      const value = JSON.parse(text)
      if (first === 34 ? typeof value === "string" : typeof value === "object") return value
    } catch {
      // plain text that happens to start like JSON
    }
  }
  return text
}

/**
 * The text of a metadata value such that `parseScalar` reads it back
 * unchanged: strings that would read as something else are JSON-quoted.
 *
 * @internal
 */
export const formatScalar = (value: unknown): string => {
  if (typeof value === "string") {
    return value === "true" || value === "false" || NUMBER.test(value) || value === "" || /^["{[]/.test(value)
      ? JSON.stringify(value)
      : value
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  if (value === null || value === undefined) return ""
  return JSON.stringify(value)
}

/**
 * Sets `metadata.a.b` style paths on an object: `_cost.amount` stays text
 * (Polar writes it as a decimal string), everything else goes through
 * `parseScalar`.
 *
 * @internal
 */
export const setPath = (target: Record<string, unknown>, path: ReadonlyArray<string>, text: string): void => {
  let node = target
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!
    const next = node[key]
    if (typeof next === "object" && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>
    else {
      const fresh: Record<string, unknown> = {}
      node[key] = fresh
      node = fresh
    }
  }
  const leaf = path[path.length - 1]!
  node[leaf] = path.length === 2 && path[0] === "_cost" && leaf === "amount" ? text : parseScalar(text)
}

/** What a CSV header says about its rows. */
interface CsvHeader {
  readonly columns: ReadonlyArray<{ readonly kind: "field" | "meta" | "metaJson"; readonly path: ReadonlyArray<string> }>
  /** rows are stored events (`id` and `source` columns), not events to ingest */
  readonly wire: boolean
}

const readHeader = (fields: ReadonlyArray<string>, line: number): CsvHeader => {
  const seen = new Set<string>()
  const columns = fields.map((raw) => {
    const name = raw.trim()
    if (name === "") throw new InputError(line, "the CSV header has an empty column name")
    if (seen.has(name)) throw new InputError(line, `the CSV header repeats the column '${name}'`)
    seen.add(name)
    if (name === "metadata") return { kind: "metaJson" as const, path: [] }
    if (name.startsWith("metadata.")) {
      const path = name.slice("metadata.".length).split(".")
      if (path.some((p) => p === "")) throw new InputError(line, `the CSV column '${name}' has an empty key`)
      return { kind: "meta" as const, path }
    }
    if (!csvColumns.includes(name)) {
      throw new InputError(
        line,
        `unknown CSV column '${name}' (expected ${csvColumns.join(", ")}, metadata or metadata.<key>)`
      )
    }
    return { kind: "field" as const, path: [name] }
  })
  if (!seen.has("name")) throw new InputError(line, "the CSV header has no 'name' column")
  return { columns, wire: seen.has("id") && seen.has("source") }
}

const NULLABLE_WIRE = ["customer_id", "external_customer_id", "parent_id"]

const csvRecord = (header: CsvHeader, fields: ReadonlyArray<string>, line: number): Item => {
  if (fields.length !== header.columns.length) {
    return { line, error: `expected ${header.columns.length} CSV fields, found ${fields.length}` }
  }
  const event: Record<string, unknown> = {}
  const metadata: Record<string, unknown> = {}
  for (let i = 0; i < fields.length; i++) {
    const column = header.columns[i]!
    const text = fields[i]!
    if (column.kind === "field") {
      const key = column.path[0]!
      if (text === "") {
        if (header.wire && NULLABLE_WIRE.includes(key)) event[key] = null
        continue
      }
      if (key === "child_count") {
        const n = Number(text)
        event[key] = Number.isInteger(n) && /^\d+$/.test(text) ? n : text
      } else event[key] = text
    } else if (column.kind === "meta") {
      if (text !== "") setPath(metadata, column.path, text)
    } else if (text !== "") {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (e) {
        return { line, error: `column 'metadata': ${jsonError(e)}` }
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return { line, error: "column 'metadata': expected a JSON object" }
      }
      Object.assign(metadata, parsed)
    }
  }
  event.metadata = metadata
  if (header.wire) {
    if (!("customer" in event)) event.customer = null
    for (const key of NULLABLE_WIRE) {
      if (!(key in event) && (key !== "parent_id" || header.columns.some((c) => c.path[0] === key))) event[key] = null
    }
  }
  return { line, value: event }
}

/**
 * Reads CSV (RFC 4180: `,` separated, `"` quoted with `""` escapes, quoted
 * fields may span lines). The first record is the header: `name`,
 * `timestamp`, `customer_id`, `external_customer_id`, `external_id`, ...,
 * and `metadata.<key>` columns (`metadata._llm.input_tokens` for nested
 * `_llm`/`_cost` values) or one `metadata` column of JSON. With `id` and
 * `source` columns the rows are stored events, else events to ingest.
 */
async function* csv(chunks: AsyncIterable<string>, batchSize: number): AsyncGenerator<Array<Item>> {
  let out: Array<Item> = []
  let header: CsvHeader | undefined
  let line = 1
  let recordLine = 1
  let fields: Array<string> = []
  let field = ""
  /** 0: start of a field; 1: unquoted field; 2: quoted; 3: a quote inside a quoted field */
  let state = 0
  let rowHasData = false
  const endRecord = () => {
    fields.push(field)
    field = ""
    const isBlank = !rowHasData && fields.length === 1 && fields[0] === ""
    if (!isBlank) {
      if (header === undefined) header = readHeader(fields, recordLine)
      else out.push(csvRecord(header, fields, recordLine))
    }
    fields = []
    rowHasData = false
    state = 0
  }
  for await (const chunk of chunks) {
    let i = 0
    const n = chunk.length
    while (i < n) {
      const c = chunk.charCodeAt(i)
      if (state === 2) {
        const q = chunk.indexOf("\"", i)
        if (q < 0) {
          const piece = chunk.slice(i)
          for (let k = 0; k < piece.length; k++) if (piece.charCodeAt(k) === 10) line++
          field += piece
          i = n
          continue
        }
        const piece = chunk.slice(i, q)
        for (let k = 0; k < piece.length; k++) if (piece.charCodeAt(k) === 10) line++
        field += piece
        state = 3
        i = q + 1
        continue
      }
      if (state === 3) {
        if (c === 34) {
          field += "\""
          state = 2
          i++
          continue
        }
        state = 1
      }
      if (c === 44) {
        fields.push(field)
        field = ""
        state = 0
        rowHasData = true
        i++
        continue
      }
      if (c === 10) {
        if (field.charCodeAt(field.length - 1) === 13) field = field.slice(0, -1)
        endRecord()
        line++
        recordLine = line
        i++
        continue
      }
      if (state === 0 && c === 34) {
        state = 2
        rowHasData = true
        i++
        continue
      }
      state = 1
      let j = i
      while (j < n) {
        const d = chunk.charCodeAt(j)
        if (d === 44 || d === 10) break
        j++
      }
      field += chunk.slice(i, j)
      i = j
    }
    if (out.length >= batchSize) {
      yield out
      out = []
    }
  }
  if (state === 2) throw new InputError(recordLine, "a quoted CSV field is not closed")
  if (field !== "" || fields.length > 0) endRecord()
  if (out.length > 0) yield out
}

/**
 * The text of a decoded slice stays below V8's large-object size, so it dies
 * young instead of waiting for a full collection.
 */
const DECODE_SLICE = 64 * 1024

/** Decodes byte chunks to text chunks, UTF-8, without splitting a character. @internal */
export async function* decodeUtf8(
  source: AsyncIterable<Buffer | string>,
  onBytes?: (n: number) => void
): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8")
  let first = true
  for await (const chunk of source) {
    if (typeof chunk === "string") {
      onBytes?.(Buffer.byteLength(chunk))
      yield chunk
      continue
    }
    for (let at = 0; at < chunk.length; at += DECODE_SLICE) {
      const part = chunk.subarray(at, at + DECODE_SLICE)
      onBytes?.(part.length)
      let text = decoder.write(part)
      if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      first = false
      if (text.length > 0) yield text
    }
  }
  const tail = decoder.end()
  if (tail.length > 0) yield tail
}

/**
 * The records of a text input in the given format, in batches of about
 * `batchSize` (a batch may be larger when one chunk holds more).
 *
 * @internal
 */
export const records = (
  text: AsyncIterable<string>,
  format: Format,
  batchSize: number
): AsyncGenerator<Array<Item>> =>
  format === "ndjson" ? ndjson(text, batchSize) : format === "json" ? jsonArray(text, batchSize) : csv(text, batchSize)
