import { toEpochMicros } from "../Timestamp.js"
import { bucketStarts, isTimeZone, type Interval, truncateMs } from "./meterTime.js"

/** @internal */
export interface Filterable {
  readonly name: string
  readonly source: string
  readonly timestamp: Date
  readonly metadata: object
}

/** @internal */
export type FilterValue = string | number | boolean

/** @internal */
export type FilterOperator = "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "like" | "not_like"

/** @internal */
export interface FilterClause {
  readonly property: string
  readonly operator: FilterOperator
  readonly value: FilterValue
}

/** @internal */
export interface Filter {
  readonly conjunction: "and" | "or"
  readonly clauses: ReadonlyArray<FilterClause | Filter>
}

/** @internal */
export type Aggregation =
  | { readonly func: "count" }
  | { readonly func: "sum" | "max" | "min" | "avg"; readonly property: string }
  | { readonly func: "unique"; readonly property: string }

const PREFIX = "metadata."

/** @internal */
export const stripMetadataPrefix = (property: string): string =>
  property.startsWith(PREFIX) ? property.slice(PREFIX.length) : property

const hasOwn = Object.prototype.hasOwnProperty

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/

/**
 * The raw value at a dot path of metadata; `undefined` when a segment is
 * missing or crosses something that is not an object. `_cost.amount` written
 * as a decimal string reads as the number Polar stores.
 */
const metadataPath = (metadata: object, path: string): unknown => {
  if (path === "") return undefined
  const segments = path.split(".")
  let cursor: unknown = metadata
  for (const segment of segments) {
    if (!isRecord(cursor) || !hasOwn.call(cursor, segment)) return undefined
    cursor = cursor[segment]
  }
  if (
    typeof cursor === "string" && segments.length === 2 && segments[0] === "_cost" &&
    segments[1] === "amount" && DECIMAL.test(cursor)
  ) {
    return Number(cursor)
  }
  return cursor
}

const MICROS = 1_000_000

/** Epoch seconds truncated toward zero, as Python's `int(dt.timestamp())`. @internal */
export const epochSeconds = (date: Date): number => {
  const us = toEpochMicros(date)
  return (us - (us % MICROS)) / MICROS + 0
}

/** Epoch seconds rounded half away from zero, as PostgreSQL's `extract(epoch …)::bigint`. */
const epochSecondsRounded = (date: Date): number => {
  const us = toEpochMicros(date)
  const whole = (us - (us % MICROS)) / MICROS
  const rest = us % MICROS
  return (rest >= MICROS / 2 ? whole + 1 : rest <= -MICROS / 2 ? whole - 1 : whole) + 0
}

/** @internal */
export const propertyValue = (event: Filterable, property: string): unknown => {
  const p = stripMetadataPrefix(property)
  switch (p) {
    case "name":
      return event.name
    case "source":
      return event.source
    case "timestamp":
      return epochSeconds(event.timestamp)
  }
  const v = metadataPath(event.metadata, p)
  return v === null ? undefined : v
}

const pyFloat = (n: number): string => {
  const exp = n.toExponential()
  const [mantissa, e] = exp.split("e") as [string, string]
  const power = Number(e)
  if (power < -4) return `${mantissa}e${power < 0 ? "-" : "+"}${String(Math.abs(power)).padStart(2, "0")}`
  return String(n)
}

/**
 * Python's `str()` of a JSON scalar: `True`/`False` for booleans, integral
 * numbers as integers, other numbers in `repr` style.
 *
 * @internal
 */
export const pyStr = (v: unknown): string => {
  switch (typeof v) {
    case "string":
      return v
    case "boolean":
      return v ? "True" : "False"
    case "number":
      if (Number.isNaN(v)) return "nan"
      if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf"
      if (Number.isInteger(v)) return BigInt(v).toString()
      return pyFloat(v)
    default:
      return String(v)
  }
}

/** Compares strings by code point, as Python does. @internal */
export const compareCodePoints = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff
      const ys = y >= 0xd800 && y <= 0xdfff
      if (xs === ys) return x < y ? -1 : 1
      return xs ? 1 : -1
    }
  }
  return a.length - b.length
}

const compareNumbers = (x: number, y: number): number => (x < y ? -1 : x > y ? 1 : 0)

const isScalar = (v: unknown): v is FilterValue =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && !Number.isNaN(v))

const compareScalars = (operator: FilterOperator, actual: FilterValue, value: FilterValue): boolean => {
  if (operator === "like" || operator === "not_like") {
    const hit = pyStr(actual).includes(pyStr(value))
    return operator === "like" ? hit : !hit
  }
  if (typeof actual !== typeof value) return false
  const c = typeof actual === "string" ? compareCodePoints(actual, value as string) : compareNumbers(+actual, +value)
  switch (operator) {
    case "eq": return c === 0
    case "ne": return c !== 0
    case "gt": return c > 0
    case "gte": return c >= 0
    case "lt": return c < 0
    case "lte": return c <= 0
  }
}

/** @internal */
export const clauseMatches = (clause: FilterClause, event: Filterable): boolean => {
  const p = stripMetadataPrefix(clause.property)
  const value = clause.value
  if (p === "name" || p === "source") {
    if (typeof value !== "string") return false
    return compareScalars(clause.operator, p === "name" ? event.name : event.source, value)
  }
  if (p === "timestamp") {
    if (typeof value !== "number") return false
    return compareScalars(clause.operator, epochSeconds(event.timestamp), value)
  }
  const actual = metadataPath(event.metadata, p)
  if (!isScalar(actual)) return false
  return compareScalars(clause.operator, actual, value)
}

const isClause = (c: FilterClause | Filter): c is FilterClause => !("clauses" in c)

/** @internal */
export const matches = (filter: Filter, event: Filterable): boolean => {
  if (filter.conjunction === "and") {
    for (const c of filter.clauses) {
      if (!(isClause(c) ? clauseMatches(c, event) : matches(c, event))) return false
    }
    return true
  }
  if (filter.clauses.length === 0) return true
  for (const c of filter.clauses) {
    if (isClause(c) ? clauseMatches(c, event) : matches(c, event)) return true
  }
  return false
}

/**
 * The number an event contributes to sum/max/min/avg, or `undefined` when it
 * does not take part (not a JSON number, or `name`/`source`).
 *
 * @internal
 */
export const numericValue = (event: Filterable, property: string): number | undefined => {
  const p = stripMetadataPrefix(property)
  if (p === "timestamp") return epochSecondsRounded(event.timestamp)
  if (p === "name" || p === "source") return undefined
  const v = metadataPath(event.metadata, p)
  return typeof v === "number" && Number.isFinite(v) ? v : undefined
}

const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
  if (isRecord(v)) {
    const keys = Object.keys(v).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`
  }
  if (typeof v === "number") return String(v)
  return JSON.stringify(v) ?? "null"
}

/**
 * The identity `unique` counts for an event: the metadata value's JSON type
 * and value (`1` and `"1"` differ, `1` and `1.0` do not), or `undefined`
 * when the key is missing.
 *
 * @internal
 */
export const uniqueKey = (event: Filterable, property: string): string | undefined => {
  const v = metadataPath(event.metadata, stripMetadataPrefix(property))
  if (v === undefined) return undefined
  if (typeof v === "string") return "s" + v
  if (typeof v === "number") return "n" + String(v)
  if (typeof v === "boolean") return "b" + String(v)
  return "j" + canonical(v)
}

/** Whether an event takes part in an aggregation (Polar's `aggregation.matches`). @internal */
export const takesPart = (aggregation: Aggregation, event: Filterable): boolean =>
  aggregation.func === "count" || aggregation.func === "unique"
    ? true
    : numericValue(event, aggregation.property) !== undefined

/** @internal */
export const aggregate = (aggregation: Aggregation, events: Iterable<Filterable>): number => {
  switch (aggregation.func) {
    case "count": {
      let n = 0
      for (const _ of events) n++
      return n
    }
    case "unique": {
      const seen = new Set<string>()
      for (const e of events) {
        const k = uniqueKey(e, aggregation.property)
        if (k !== undefined) seen.add(k)
      }
      return seen.size
    }
    default: {
      let n = 0
      let acc = 0
      for (const e of events) {
        const v = numericValue(e, aggregation.property)
        if (v === undefined) continue
        switch (aggregation.func) {
          case "sum":
          case "avg":
            acc += v
            break
          case "max":
            acc = n === 0 || v > acc ? v : acc
            break
          case "min":
            acc = n === 0 || v < acc ? v : acc
            break
        }
        n++
      }
      if (n === 0) return 0
      return aggregation.func === "avg" ? acc / n : acc
    }
  }
}

/** @internal */
export interface QuantitiesOptions {
  readonly filter?: Filter | undefined
  readonly aggregation: Aggregation
  readonly start: Date
  readonly end: Date
  readonly interval: Interval
  readonly timezone?: string | undefined
}

/** @internal */
export interface Quantities {
  readonly quantities: ReadonlyArray<{ readonly timestamp: Date; readonly quantity: number }>
  readonly total: number
}

/** @internal */
export const quantities = (events: Iterable<Filterable>, options: QuantitiesOptions): Quantities => {
  const timeZone = options.timezone ?? "UTC"
  if (!isTimeZone(timeZone)) throw new RangeError(`Unknown time zone: ${JSON.stringify(timeZone)}`)
  const { aggregation, filter, interval } = options
  const starts = bucketStarts(options.start.getTime(), options.end.getTime(), interval, timeZone)
  const index = new Map<number, number>()
  starts.forEach((b, i) => index.set(b, i))
  const buckets: Array<Array<Filterable>> = starts.map(() => [])
  for (const e of events) {
    if (filter !== undefined && !matches(filter, e)) continue
    if (!takesPart(aggregation, e)) continue
    const i = index.get(truncateMs(e.timestamp.getTime(), interval, timeZone))
    if (i !== undefined) buckets[i]!.push(e)
  }
  const values = buckets.map((b) => aggregate(aggregation, b))
  const total = totalOfBuckets(aggregation.func, values, buckets.map((b) => b.length)) ??
    aggregate(aggregation, buckets.flat())
  return {
    quantities: starts.map((b, i) => ({ timestamp: new Date(b), quantity: values[i]! })),
    total
  }
}

/**
 * Polar's meter total from the buckets: their sum for `count` and `sum`, the
 * max or min of the non-empty buckets for `max` and `min`. `undefined` for
 * `avg` and `unique`, whose total is the aggregation recomputed over every
 * event of the period.
 *
 * @internal
 */
export const totalOfBuckets = (
  func: Aggregation["func"],
  values: ReadonlyArray<number>,
  counts: ReadonlyArray<number>
): number | undefined => {
  switch (func) {
    case "count":
    case "sum": {
      let total = 0
      for (const v of values) total += v
      return total
    }
    case "max":
    case "min": {
      let total = 0
      let seen = false
      for (let i = 0; i < values.length; i++) {
        if (counts[i] === 0) continue
        const v = values[i]!
        total = !seen ? v : func === "max" ? Math.max(total, v) : Math.min(total, v)
        seen = true
      }
      return total
    }
    case "avg":
    case "unique":
      return undefined
  }
}
