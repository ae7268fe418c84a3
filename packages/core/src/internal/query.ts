import { Either } from "effect"
import * as Timestamp from "../Timestamp.js"
import { type ErrorDetail, makeDetail, RequestValidationError } from "../ValidationError.js"
import { expected } from "./meterFilter.js"

/** @internal */
export type Entries = Iterable<readonly [string, string]>

/** Query parameters grouped by key, in order, plus `metadata[key]` values. @internal */
export interface Params {
  readonly values: Map<string, Array<string>>
  readonly metadata: Map<string, Array<string>>
}

const METADATA_KEY = /^metadata\[([^\]]+)\]/

/** @internal */
export const collect = (entries: Entries): Params => {
  const values = new Map<string, Array<string>>()
  const metadata = new Map<string, Array<string>>()
  for (const [key, value] of entries) {
    const m = METADATA_KEY.exec(key)
    const target = m === null ? values : metadata
    const k = m === null ? key : m[1]!
    const list = target.get(k)
    if (list === undefined) target.set(k, [value])
    else list.push(value)
  }
  return { values, metadata }
}

/** Decodes query parameters one at a time, gathering every problem. @internal */
export class Decoder {
  readonly details: Array<ErrorDetail> = []
  constructor(readonly params: Params) {}

  has(key: string): boolean {
    return this.params.values.has(key)
  }

  /** The last value of a scalar parameter (FastAPI's rule for repeated keys). */
  last(key: string): string | undefined {
    const list = this.params.values.get(key)
    return list === undefined ? undefined : list[list.length - 1]
  }

  all(key: string): Array<string> | undefined {
    return this.params.values.get(key)
  }

  fail(loc: ReadonlyArray<string | number>, type: string, msg: string, input: unknown, ctx?: object): undefined {
    this.details.push(makeDetail(["query", ...loc], type, msg, input, ctx))
    return undefined
  }

  /** A list parameter whose items each decode with `f`; `undefined` if absent or if any item fails. */
  list<A>(key: string, f: (s: string, loc: ReadonlyArray<string | number>) => A | undefined): [A, ...Array<A>] | undefined {
    const raw = this.all(key)
    if (raw === undefined) return undefined
    const out: Array<A> = []
    let ok = true
    raw.forEach((s, i) => {
      const a = f(s, [key, i])
      if (a === undefined) ok = false
      else out.push(a)
    })
    return ok ? (out as [A, ...Array<A>]) : undefined
  }

  /** Any UUID: event ids made by a local store are version 7. */
  uuid = (s: string, loc: ReadonlyArray<string | number>): string | undefined => {
    const r = parseUuid(s)
    return typeof r === "string" ? r : this.fail(loc, "uuid_parsing", `Input should be a valid UUID, ${r.reason}`, s)
  }

  uuid4 = (s: string, loc: ReadonlyArray<string | number>): string | undefined => {
    const r = parseUuid(s)
    if (typeof r !== "string") return this.fail(loc, "uuid_parsing", `Input should be a valid UUID, ${r.reason}`, s)
    if (r[14] !== "4") {
      return this.fail(loc, "uuid_version", "UUID version 4 expected", s, { expected_version: 4 })
    }
    return r
  }

  literal = <L extends string>(values: ReadonlyArray<L>) => (s: string, loc: ReadonlyArray<string | number>): L | undefined =>
    (values as ReadonlyArray<string>).includes(s)
      ? (s as L)
      : this.fail(loc, "enum", `Input should be ${expected(values)}`, s, { expected: expected(values) })

  timestamp(key: string): Date | undefined {
    const s = this.last(key)
    if (s === undefined) return undefined
    const r = Timestamp.parse(s)
    return r instanceof Date ? r : this.fail([key], r.type, r.msg, s)
  }

  /** An integer parameter; `undefined` if absent or invalid. Above `clamp` it is silently `clamp`. */
  int(
    key: string,
    bounds: { readonly gt?: number; readonly ge?: number; readonly le?: number; readonly clamp?: number }
  ): number | undefined {
    const s = this.last(key)
    if (s === undefined) return undefined
    let n = parseInteger(s)
    if (n === undefined) {
      return this.fail([key], "int_parsing", "Input should be a valid integer, unable to parse string as an integer", s)
    }
    if (bounds.clamp !== undefined && n > bounds.clamp) n = bounds.clamp
    if (bounds.gt !== undefined && !(n > bounds.gt)) {
      return this.fail([key], "greater_than", `Input should be greater than ${bounds.gt}`, s, { gt: bounds.gt })
    }
    if (bounds.ge !== undefined && !(n >= bounds.ge)) {
      return this.fail([key], "greater_than_equal", `Input should be greater than or equal to ${bounds.ge}`, s, {
        ge: bounds.ge
      })
    }
    if (bounds.le !== undefined && !(n <= bounds.le)) {
      return this.fail([key], "less_than_equal", `Input should be less than or equal to ${bounds.le}`, s, {
        le: bounds.le
      })
    }
    if (!Number.isSafeInteger(n)) {
      return this.fail([key], "int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size", s)
    }
    return n
  }

  bool(key: string): boolean | undefined {
    const s = this.last(key)
    if (s === undefined) return undefined
    const v = s.trim().toLowerCase()
    if (TRUE.has(v)) return true
    if (FALSE.has(v)) return false
    return this.fail([key], "bool_parsing", "Input should be a valid boolean, unable to interpret input", s)
  }

  metadata(): Record<string, [string, ...Array<string>]> | undefined {
    if (this.params.metadata.size === 0) return undefined
    const out: Record<string, [string, ...Array<string>]> = {}
    for (const [k, v] of this.params.metadata) {
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
    }
    return out
  }

  result<A>(value: A): Either.Either<A, RequestValidationError> {
    return this.details.length === 0
      ? Either.right(value)
      : Either.left(new RequestValidationError({ detail: this.details }))
  }
}

const TRUE = new Set(["1", "on", "t", "true", "y", "yes"])
const FALSE = new Set(["0", "off", "f", "false", "n", "no"])

const INTEGER = /^\s*[+-]?\d+\s*$/

const parseInteger = (s: string): number | undefined => (INTEGER.test(s) ? Number(s.trim()) + 0 : undefined)

const HEX = /^[0-9a-f]$/i

/**
 * Parses a UUID the way pydantic does (hyphenated, 32 hex digits, `{…}` or
 * `urn:uuid:…`) into its lowercase hyphenated form.
 *
 * @internal
 */
export const parseUuid = (input: string): string | { readonly reason: string } => {
  let s = input
  let offset = 0
  if (s.toLowerCase().startsWith("urn:uuid:")) {
    s = s.slice(9)
    offset = 9
  } else if (s.startsWith("{") && s.endsWith("}") && s.length > 1) {
    s = s.slice(1, -1)
    offset = 1
  }
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c !== "-" && !HEX.test(c)) {
      return {
        reason: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${c}\` at ${
          i + offset + 1
        }`
      }
    }
  }
  if (!s.includes("-")) {
    if (s.length !== 32) return { reason: `invalid length: expected length 32 for simple format, found ${s.length}` }
    s = `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }
  const groups = s.split("-")
  const lengths = [8, 4, 4, 4, 12]
  if (groups.length !== 5) return { reason: `invalid group count: expected 5, found ${groups.length}` }
  for (let i = 0; i < 5; i++) {
    if (groups[i]!.length !== lengths[i]) {
      return { reason: `invalid group length in group ${i}: expected ${lengths[i]}, found ${groups[i]!.length}` }
    }
  }
  return s.toLowerCase()
}

/** Appends one entry per item of a list parameter. @internal */
export const pushAll = (out: Array<[string, string]>, key: string, values: ReadonlyArray<string> | undefined) => {
  if (values !== undefined) for (const v of values) out.push([key, v])
}

/** Appends the `metadata[key]=value` entries. @internal */
export const pushMetadata = (
  out: Array<[string, string]>,
  metadata: { readonly [key: string]: ReadonlyArray<string> } | undefined
) => {
  if (metadata === undefined) return
  for (const key of Object.keys(metadata)) pushAll(out, `metadata[${key}]`, metadata[key])
}

/** Whether two lists hold the same strings in the same order. @internal */
export const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((x, i) => x === b[i])
