/**
 * Polar's meter model: which events a meter counts (`Filter`), how it adds
 * them up (`Aggregation`), and the quantities it reports per time bucket
 * (`MeterQuantities`), with a pure evaluator that every store uses as the
 * reference.
 *
 * The schemas mirror Polar's JSON exactly (every field name is one word, so
 * the domain and the wire agree). `FilterClause.property` is kept as written;
 * the evaluator strips a leading `metadata.` the way Polar's validator does.
 *
 * Semantics (Polar `server/polar/meter/filter.py`, `aggregation.py`,
 * `kit/metadata.py`, `models/event.py`):
 * - Properties: `name`, `source` and `timestamp` (integer epoch seconds,
 *   truncated toward zero) are the event's own fields; anything else is a dot
 *   path into metadata (`_llm.total_tokens`). A missing or null value never
 *   matches, whatever the operator (`ne` and `not_like` included).
 * - Clauses follow Polar's in-memory `FilterClause.matches`, the one that
 *   decides at ingest which meters an event feeds: `name`/`source` need a
 *   string value and `timestamp` an integer (else false); `eq`…`lte` compare
 *   only values of the same JSON type (string, number, boolean), so `"1"` vs
 *   `1` is false for every operator; `like` is `str(value) in str(actual)`
 *   with Python's `str` (`True`/`False` for booleans), and `not_like` its
 *   negation; an empty clause list is true for `and` and for `or`.
 * - Where this differs from Polar's SQL variant (`get_sql_clause`, used for
 *   `/quantities` and customer balances): for `like`, SQL renders booleans as
 *   `t`/`f` (we use `True`/`False`), numbers as PostgreSQL writes them (we
 *   use Python's `str`, e.g. `1e-05`) and `timestamp` as the timestamp's text
 *   (we use the epoch seconds); SQL orders strings by the database collation
 *   (we compare code points, as Python does). Missing values are false in
 *   both. Where Python itself would be quirky we keep JSON types apart: a
 *   boolean is never a number (Python has `True == 1`), while an integer and
 *   a float compare as numbers (JSON cannot tell `2` from `2.0`). Non-scalar
 *   metadata values (objects, arrays) never match.
 * - `_cost.amount` is stored by Polar as a JSON number and only printed as a
 *   decimal string, so a decimal string there reads as a number.
 * - Aggregations: `count` counts events; `sum`/`max`/`min`/`avg` take only
 *   JSON numbers (booleans and numeric strings excluded; `timestamp` is epoch
 *   seconds rounded like PostgreSQL's `::bigint`; `name`/`source` never
 *   take part); `unique` counts distinct metadata values by JSON type and
 *   value (`1` and `"1"` differ), ignores missing keys, and always reads
 *   metadata, as Polar's SQL does. An empty set gives 0, `avg` included.
 *
 * @since 0.1.0
 */
import { Either, ParseResult, Schema } from "effect"
import * as internal from "./internal/meter.js"
import * as filterInternal from "./internal/meterFilter.js"
import * as time from "./internal/meterTime.js"
import { Timestamp } from "./Timestamp.js"
import { type ErrorDetail, type LocItem, makeDetail } from "./ValidationError.js"

/** How a clause compares the event's property with its value. @since 0.1.0 */
export const FilterOperator = Schema.Literal(...filterInternal.OPERATORS).annotations({ identifier: "FilterOperator" })
/** @since 0.1.0 */
export type FilterOperator = typeof FilterOperator.Type

/** How a filter combines its clauses. @since 0.1.0 */
export const FilterConjunction = Schema.Literal(...filterInternal.CONJUNCTIONS).annotations({
  identifier: "FilterConjunction"
})
/** @since 0.1.0 */
export type FilterConjunction = typeof FilterConjunction.Type

/**
 * The value of a clause: a string of at most 1000 characters, a 32-bit
 * integer or a boolean. Floats are not allowed.
 *
 * @since 0.1.0
 */
export const FilterValue = Schema.Union(
  Schema.String.pipe(Schema.maxLength(filterInternal.MAX_STRING_LENGTH)),
  Schema.Int.pipe(Schema.between(filterInternal.INT32_MIN, filterInternal.INT32_MAX)),
  Schema.Boolean
).annotations({ identifier: "FilterValue" })
/** @since 0.1.0 */
export type FilterValue = typeof FilterValue.Type

/** One comparison: `{property, operator, value}`. @since 0.1.0 */
export const FilterClause = Schema.Struct({
  property: Schema.String,
  operator: FilterOperator,
  value: FilterValue
}).annotations({ identifier: "FilterClause" })
/** @since 0.1.0 */
export type FilterClause = typeof FilterClause.Type

/**
 * A group of clauses and nested groups joined by `and` or `or`.
 *
 * @since 0.1.0
 */
export interface Filter {
  readonly conjunction: FilterConjunction
  readonly clauses: ReadonlyArray<FilterClause | Filter>
}

/** The schema of `Filter` (recursive; Polar JSON on both sides). @since 0.1.0 */
export const Filter: Schema.Schema<Filter> = Schema.Struct({
  conjunction: FilterConjunction,
  clauses: Schema.Array(Schema.Union(FilterClause, Schema.suspend((): Schema.Schema<Filter> => Filter)))
}).annotations({ identifier: "Filter" })

/** Counts matching events. @since 0.1.0 */
export const CountAggregation = Schema.Struct({ func: Schema.Literal("count") }).annotations({
  identifier: "CountAggregation"
})
/** @since 0.1.0 */
export type CountAggregation = typeof CountAggregation.Type

/** Sums, maxes, mins or averages a numeric property. @since 0.1.0 */
export const PropertyAggregation = Schema.Struct({
  func: Schema.Literal("sum", "max", "min", "avg"),
  property: Schema.String
}).annotations({ identifier: "PropertyAggregation" })
/** @since 0.1.0 */
export type PropertyAggregation = typeof PropertyAggregation.Type

/** Counts the distinct values of a metadata property. @since 0.1.0 */
export const UniqueAggregation = Schema.Struct({
  func: Schema.Literal("unique"),
  property: Schema.String
}).annotations({ identifier: "UniqueAggregation" })
/** @since 0.1.0 */
export type UniqueAggregation = typeof UniqueAggregation.Type

/**
 * A meter's aggregation, discriminated by `func`. `func` is required: Polar
 * selects the variant by it (its spec gives `count` a default, but a
 * discriminated union cannot use it).
 *
 * @since 0.1.0
 */
export const Aggregation = Schema.Union(CountAggregation, PropertyAggregation, UniqueAggregation).annotations({
  identifier: "Aggregation"
})
/** @since 0.1.0 */
export type Aggregation = typeof Aggregation.Type

/** The width of a quantities bucket (Polar's `TimeInterval`). @since 0.1.0 */
export const Interval = Schema.Literal("year", "month", "week", "day", "hour").annotations({
  identifier: "TimeInterval"
})
/** @since 0.1.0 */
export type Interval = typeof Interval.Type

/** True for a time zone name the runtime knows (IANA, e.g. `Europe/Berlin`). @since 0.1.0 */
export const isTimeZone: (timeZone: string) => boolean = time.isTimeZone

const SAMPLE_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"] as const

/** An IANA time zone name. @since 0.1.0 */
export const TimeZone = Schema.String.pipe(
  Schema.filter(time.isTimeZone, { message: () => "Expected a known IANA time zone" })
).annotations({
  identifier: "TimeZone",
  arbitrary: () => (fc) => fc.constantFrom(...SAMPLE_ZONES)
})

/** One bucket of `/quantities`: its start and its value. @since 0.1.0 */
export const MeterQuantity = Schema.Struct({
  timestamp: Timestamp,
  quantity: Schema.Number
}).annotations({ identifier: "MeterQuantity" })
/** @since 0.1.0 */
export type MeterQuantity = typeof MeterQuantity.Type

/** The answer of `GET /v1/meters/{id}/quantities`. @since 0.1.0 */
export const MeterQuantities = Schema.Struct({
  quantities: Schema.Array(MeterQuantity),
  total: Schema.Number
}).annotations({ identifier: "MeterQuantities" })
/** @since 0.1.0 */
export type MeterQuantities = typeof MeterQuantities.Type

/**
 * What the evaluator needs of an event. Any domain `Event` (user or system)
 * fits.
 *
 * @since 0.1.0
 */
export interface Filterable {
  readonly name: string
  readonly source: string
  readonly timestamp: Date
  readonly metadata: object
}

/** A property name without its optional leading `metadata.`. @since 0.1.0 */
export const stripMetadataPrefix: (property: string) => string = internal.stripMetadataPrefix

/**
 * The value a filter clause sees for a property: the event's name or source,
 * its timestamp as integer epoch seconds, or the metadata value at the dot
 * path (`undefined` when missing or null).
 *
 * @since 0.1.0
 */
export const propertyValue: (event: Filterable, property: string) => unknown = internal.propertyValue

/** Whether one clause holds for an event. @since 0.1.0 */
export const clauseMatches: (clause: FilterClause, event: Filterable) => boolean = internal.clauseMatches

/** Whether a filter holds for an event (Polar's in-memory `Filter.matches`). @since 0.1.0 */
export const matches: (filter: Filter, event: Filterable) => boolean = internal.matches

/**
 * Whether an event takes part in an aggregation: always for `count` and
 * `unique`; for the others only when the property is a JSON number.
 *
 * @since 0.1.0
 */
export const takesPart: (aggregation: Aggregation, event: Filterable) => boolean = internal.takesPart

/**
 * Aggregates events that already passed the filter. 0 for an empty set.
 *
 * @since 0.1.0
 */
export const aggregate: (aggregation: Aggregation, events: Iterable<Filterable>) => number = internal.aggregate

/**
 * PostgreSQL's `date_trunc(interval, date, timeZone)`: the start of the
 * bucket holding `date` in that zone. Weeks start on Monday. Throws a
 * `RangeError` for an unknown zone.
 *
 * @since 0.1.0
 */
export const truncate = (date: Date, interval: Interval, timeZone: string): Date =>
  new Date(time.truncateMs(date.getTime(), interval, timeZone))

/**
 * The bucket starts Polar reports for a period: from the bucket holding
 * `start`, one interval at a time in the zone, while not after `end`.
 *
 * @since 0.1.0
 */
export const buckets = (start: Date, end: Date, interval: Interval, timeZone: string): Array<Date> =>
  time.bucketStarts(start.getTime(), end.getTime(), interval, timeZone).map((ms) => new Date(ms))

/** Options of `quantities`; `timezone` defaults to `UTC`. @since 0.1.0 */
export interface QuantitiesOptions extends internal.QuantitiesOptions {}

/**
 * A meter's quantities over a period, as `GET /v1/meters/{id}/quantities`
 * computes them:
 * - one bucket per element of `buckets(start, end, interval, timezone)`, each
 *   holding the events (matching `filter`, taking part in `aggregation`)
 *   whose truncated timestamp is that bucket, so the first and last buckets
 *   are whole intervals, not clipped to `start`/`end`; an empty bucket is 0;
 * - `total`: the sum of the buckets for `count` and `sum`, the max/min of
 *   the non-empty buckets for `max`/`min`, and for `avg` and `unique` the
 *   aggregation recomputed over every event in the buckets.
 *
 * Only the filter and the aggregation apply: `meter.credited`/`meter.reset`
 * are not added (that is customer-meter bookkeeping, not usage). Throws a
 * `RangeError` for an unknown zone.
 *
 * Polar's SQL steps `generate_series` from `start` itself and joins on
 * `date_trunc` of each element, reporting the untruncated element; here the
 * series starts at `truncate(start)`, so every reported timestamp is a bucket
 * start, and a last bucket that starts before `end` is not dropped when
 * `end` is earlier in its day (hour, …) than `start` was. Bucket arithmetic
 * and truncation were checked against PostgreSQL 15 (`date_trunc` with a
 * zone, `generate_series` under `SET TIME ZONE`).
 *
 * @since 0.1.0
 */
export const quantities: (events: Iterable<Filterable>, options: QuantitiesOptions) => MeterQuantities =
  internal.quantities

/**
 * A meter's total from its bucket values and event counts, as Polar computes
 * it: the sum for `count` and `sum`, the max or min of the non-empty buckets
 * for `max` and `min`; `undefined` for `avg` and `unique`, whose total is the
 * aggregation recomputed over every event of the period. Stores that
 * aggregate buckets in SQL use it so their totals follow the same rule.
 *
 * @since 0.1.0
 */
export const totalOfBuckets: (
  func: Aggregation["func"],
  values: ReadonlyArray<number>,
  counts: ReadonlyArray<number>
) => number | undefined = internal.totalOfBuckets

const decodeFilter = Schema.decodeUnknownEither(Filter)

/**
 * Validates a value as a `Filter` (e.g. parsed JSON). On failure, every
 * problem in Polar's 422 shape, located under `loc`.
 *
 * @since 0.1.0
 */
export const validateFilter = (
  input: unknown,
  loc: ReadonlyArray<LocItem> = []
): Either.Either<Filter, ReadonlyArray<ErrorDetail>> => {
  const decoded = decodeFilter(input)
  if (Either.isRight(decoded)) return Either.right(decoded.right)
  const details = filterInternal.filterErrors(input, loc)
  if (details.length > 0) return Either.left(details)
  return Either.left(
    ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((issue) =>
      makeDetail([...loc, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))], "value_error", issue.message)
    )
  )
}

/**
 * Parses a JSON string holding a `Filter` (the `filter` query parameter).
 * Invalid JSON is a `json_invalid` error at `loc`.
 *
 * @since 0.1.0
 */
export const parseFilterJson = (
  text: string,
  loc: ReadonlyArray<LocItem> = []
): Either.Either<Filter, ReadonlyArray<ErrorDetail>> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left([makeDetail(loc, "json_invalid", `Invalid JSON: ${(e as Error).message}`, text)])
  }
  return validateFilter(json, loc)
}
