/**
 * Event timestamps: ISO-8601 strings with a zone offset on the wire, `Date` in
 * the domain.
 *
 * Polar keeps microseconds and a JavaScript `Date` keeps milliseconds, so a
 * decoded `Date` remembers the text it came from: encoding it again gives back
 * that exact text for as long as the `Date` is not changed. A `Date` made in
 * code is written the way Polar writes it (UTC, `Z`, six fraction digits only
 * when the fraction is not zero).
 *
 * @since 0.1.0
 */
import { ParseResult, Schema } from "effect"
import * as internal from "./internal/timestamp.js"

const wire: unique symbol = Symbol.for("@polar-events/core/Timestamp/wire") as never
const micros: unique symbol = Symbol.for("@polar-events/core/Timestamp/micros") as never

interface Precise extends Date {
  [wire]?: string
  /** microseconds past the millisecond (0-999) */
  [micros]?: number
  /** the epoch milliseconds when the extra precision was attached, to notice a later setTime */
  __ms?: number
}

/** Why a string is not a timestamp, in Polar's words (pydantic's error types). @since 0.1.0 */
export type ParseFailure = internal.Failure

/**
 * Parses an ISO-8601 date-time into epoch milliseconds and the microseconds
 * past the millisecond, or says why it is not one. A string without a zone
 * offset is `timezone_aware`, as on Polar. The usual wire form is read by
 * hand; anything else by a regular expression.
 *
 * @since 0.1.0
 */
export const parseParts = (s: string): internal.Parts | ParseFailure => internal.parseFast(s) ?? internal.parseSlow(s)

/**
 * Parses an ISO-8601 date-time to epoch microseconds (exact for the years
 * 1685 to 2254, where they fit in a double), or says why it is not one.
 *
 * @since 0.1.0
 */
export const parseEpochMicros = (s: string): number | ParseFailure => {
  const r = parseParts(s)
  return "ms" in r ? r.ms * 1000 + r.micros : r
}

const pad2 = (n: number) => (n < 10 ? "0" + n : "" + n)

const formatParts = (ms: number, sub: number): string => {
  const msPart = ((ms % 1000) + 1000) % 1000
  const d = new Date(ms - msPart)
  const y = d.getUTCFullYear()
  const base = y < 0 || y > 9999
    ? d.toISOString().slice(0, -5)
    : `${y.toString().padStart(4, "0")}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${
      pad2(d.getUTCMinutes())
    }:${pad2(d.getUTCSeconds())}`
  const frac = msPart * 1000 + sub
  return frac === 0 ? base + "Z" : `${base}.${frac.toString().padStart(6, "0")}Z`
}

/**
 * Writes epoch microseconds the way Polar does: UTC with `Z`, and a six-digit
 * fraction only when it is not zero.
 *
 * @since 0.1.0
 */
export const formatEpochMicros = (us: number): string => {
  const ms = Math.floor(us / 1000)
  return formatParts(ms, us - ms * 1000)
}

/**
 * A `Date` for epoch microseconds that keeps the microseconds, so that
 * `format` and `toEpochMicros` give them back. With `text` (the wire text the
 * microseconds were read from), `format` gives back that text.
 *
 * @since 0.1.0
 */
export const fromEpochMicros = (us: number, text?: string): Date => {
  const ms = Math.floor(us / 1000)
  return precise(ms, us - ms * 1000, text)
}

const precise = (ms: number, sub: number, text: string | undefined): Date => {
  const d = new Date(ms) as Precise
  d.__ms = ms
  if (sub !== 0) d[micros] = sub
  if (text !== undefined) d[wire] = text
  return d
}

const stillPrecise = (d: Precise): boolean => d.__ms !== undefined && d.__ms === d.getTime()

/** The epoch microseconds of a `Date`: exact for one decoded or made by `fromEpochMicros`. @since 0.1.0 */
export const toEpochMicros = (date: Date): number => {
  const d = date as Precise
  const ms = d.getTime()
  return stillPrecise(d) && d[micros] !== undefined ? ms * 1000 + d[micros] : ms * 1000
}

/** The wire text of a `Date`: the text it was decoded from, else Polar's format. @since 0.1.0 */
export const format = (date: Date): string => {
  const d = date as Precise
  if (stillPrecise(d)) {
    if (d[wire] !== undefined) return d[wire]
    return formatParts(d.getTime(), d[micros] ?? 0)
  }
  return formatParts(date.getTime(), 0)
}

/**
 * Decodes wire text to a `Date`, or returns why it is not a timestamp.
 *
 * @since 0.1.0
 */
export const parse = (s: string): Date | ParseFailure => {
  const r = parseParts(s)
  return "ms" in r ? precise(r.ms, r.micros, s) : r
}

/**
 * An ISO-8601 date-time with a zone offset (`Z` or `±hh:mm`) as a `Date`,
 * lossless in both directions.
 *
 * @since 0.1.0
 */
export const Timestamp: Schema.Schema<Date, string> = Schema.transformOrFail(
  Schema.String.annotations({ jsonSchema: { type: "string", format: "date-time" } }),
  Schema.DateFromSelf,
  {
    strict: true,
    decode: (s, _, ast) => {
      const r = parse(s)
      return r instanceof Date ? ParseResult.succeed(r) : ParseResult.fail(new ParseResult.Type(ast, s, r.msg))
    },
    encode: (d, _, ast) =>
      Number.isNaN(d.getTime())
        ? ParseResult.fail(new ParseResult.Type(ast, d, "Invalid Date"))
        : ParseResult.succeed(format(d))
  }
).annotations({
  identifier: "Timestamp",
  description: "An ISO-8601 date-time with a zone offset.",
  arbitrary: () => (fc) =>
    fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2199-12-31T23:59:59Z"), noInvalidDate: true })
})
