/**
 * The filter flags of `list`, `export` and `names`, mirroring the query
 * parameters of `GET /v1/events/`, and their translation to core's
 * `ListEventsQuery` through the same decoder the server uses (so a flag is
 * checked exactly as the API would check its parameter).
 *
 * @internal
 */
import { Options } from "@effect/cli"
import { EventQuery, Meter, Timestamp, ValidationError } from "@polar-events/core"
import { Either, Option } from "effect"
import { UsageError } from "../CliError.js"

/** Flags naming customers, shared by every filtering command. @internal */
export const customerFlags = {
  customerId: Options.text("customer-id").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("Only events of this Polar customer (repeatable; customers are OR-ed)."),
    Options.repeated
  ),
  externalCustomerId: Options.text("external-customer-id").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("Only events of this customer of yours (repeatable)."),
    Options.repeated
  )
}

/** The event filters of `list` and `export`. @internal */
export const eventFlags = {
  ...customerFlags,
  name: Options.text("name").pipe(
    Options.withPseudoName("NAME"),
    Options.withDescription("Only events with this name (repeatable)."),
    Options.repeated
  ),
  source: Options.choice("source", ["user", "system"]).pipe(
    Options.withDescription("Only user (ingested) or system events (repeatable)."),
    Options.repeated
  ),
  start: Options.text("start-timestamp").pipe(
    Options.withAlias("start"),
    Options.withPseudoName("TIME"),
    Options.withDescription("Only events after this time (exclusive): ISO-8601 with a zone, a date, or 'now'."),
    Options.optional
  ),
  end: Options.text("end-timestamp").pipe(
    Options.withAlias("end"),
    Options.withPseudoName("TIME"),
    Options.withDescription("Only events before this time (exclusive)."),
    Options.optional
  ),
  metadata: Options.text("metadata").pipe(
    Options.withPseudoName("KEY=VALUE"),
    Options.withDescription("Only events whose metadata KEY is VALUE (repeatable; values of one key are OR-ed)."),
    Options.repeated
  ),
  filter: Options.text("filter").pipe(
    Options.withPseudoName("JSON"),
    Options.withDescription("A meter filter as JSON: {\"conjunction\":\"and\",\"clauses\":[...]}."),
    Options.optional
  ),
  parentId: Options.text("parent-id").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("Only children of this event (with --depth: descendants)."),
    Options.optional
  ),
  depth: Options.integer("depth").pipe(
    Options.withDescription("0: root events only; N: at most N levels below --parent-id or the root."),
    Options.optional
  ),
  query: Options.text("query").pipe(
    Options.withPseudoName("TEXT"),
    Options.withDescription("Free-text search in names, sources and metadata (3 characters or more)."),
    Options.optional
  ),
  sorting: Options.choice("sorting", ["-timestamp", "timestamp"]).pipe(
    Options.withAlias("sort"),
    Options.withDescription("Newest first (-timestamp, the default) or oldest first (timestamp)."),
    Options.optional
  )
}

/** The parsed event filter flags. @internal */
export interface EventFlags {
  readonly customerId: ReadonlyArray<string>
  readonly externalCustomerId: ReadonlyArray<string>
  readonly name: ReadonlyArray<string>
  readonly source: ReadonlyArray<"user" | "system">
  readonly start: Option.Option<string>
  readonly end: Option.Option<string>
  readonly metadata: ReadonlyArray<string>
  readonly filter: Option.Option<string>
  readonly parentId: Option.Option<string>
  readonly depth: Option.Option<number>
  readonly query: Option.Option<string>
  readonly sorting: Option.Option<"-timestamp" | "timestamp">
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * Reads a time flag: ISO-8601 with a zone offset, `now`, or a date
 * (`2025-06-01`, midnight in `timeZone`, UTC by default).
 *
 * @internal
 */
export const parseTime = (flag: string, text: string, timeZone = "UTC"): Either.Either<Date, UsageError> => {
  const s = text.trim()
  if (s === "now") return Either.right(new Date())
  const date = DATE.exec(s)
  if (date !== null) {
    const noon = new Date(`${s}T12:00:00Z`)
    if (Number.isNaN(noon.getTime())) {
      return Either.left(new UsageError({ message: `${flag}: '${text}' is not a valid date` }))
    }
    try {
      return Either.right(Meter.truncate(noon, "day", timeZone))
    } catch {
      return Either.left(new UsageError({ message: `unknown time zone '${timeZone}'` }))
    }
  }
  const parsed = Timestamp.parse(s)
  if (parsed instanceof Date) return Either.right(parsed)
  return Either.left(
    new UsageError({
      message: parsed.type === "timezone_aware"
        ? `${flag}: '${text}' has no time zone; add Z or an offset like +02:00`
        : `${flag}: '${text}' is not a time (expected ISO-8601 like 2025-06-01T12:00:00Z, a date, or 'now')`
    })
  )
}

const FLAG_OF: Record<string, string> = {
  customer_id: "--customer-id",
  external_customer_id: "--external-customer-id",
  name: "--name",
  source: "--source",
  start_timestamp: "--start-timestamp",
  end_timestamp: "--end-timestamp",
  filter: "--filter",
  parent_id: "--parent-id",
  depth: "--depth",
  query: "--query",
  sorting: "--sorting",
  metadata: "--metadata",
  limit: "--limit",
  page: "--page"
}

/** A `RequestValidationError` of query parameters as a usage error naming the flags. @internal */
export const toUsageError = (error: ValidationError.RequestValidationError): UsageError => {
  const parts = error.detail.slice(0, 3).map((d) => {
    const key = typeof d.loc[1] === "string" ? d.loc[1] : "query"
    const flag = FLAG_OF[key] ?? (key.startsWith("metadata") ? "--metadata" : `--${key.replace(/_/g, "-")}`)
    const value = d.input === undefined ? "" : ` '${typeof d.input === "string" ? d.input : JSON.stringify(d.input)}'`
    const inner = d.loc.length > 2 && key === "filter" ? ` at ${d.loc.slice(2).join(".")}` : ""
    return `${flag}${value}${inner}: ${d.msg}`
  })
  return new UsageError({ message: parts.join("; ") })
}

/**
 * The flags as the query-string entries of `GET /v1/events/`.
 *
 * @internal
 */
export const toEntries = (flags: EventFlags, organizationId?: string): Either.Either<Array<[string, string]>, UsageError> => {
  const entries: Array<[string, string]> = []
  if (organizationId !== undefined && Option.isSome(flags.query)) entries.push(["organization_id", organizationId])
  for (const id of flags.customerId) entries.push(["customer_id", id])
  for (const id of flags.externalCustomerId) entries.push(["external_customer_id", id])
  for (const name of flags.name) entries.push(["name", name])
  for (const source of flags.source) entries.push(["source", source])
  for (const [flag, key, value] of [
    ["--start-timestamp", "start_timestamp", flags.start],
    ["--end-timestamp", "end_timestamp", flags.end]
  ] as const) {
    if (Option.isNone(value)) continue
    const time = parseTime(flag, value.value)
    if (Either.isLeft(time)) return Either.left(time.left)
    entries.push([key, Timestamp.format(time.right)])
  }
  for (const pair of flags.metadata) {
    const eq = pair.indexOf("=")
    if (eq <= 0) return Either.left(new UsageError({ message: `--metadata expects KEY=VALUE, got '${pair}'` }))
    entries.push([`metadata[${pair.slice(0, eq)}]`, pair.slice(eq + 1)])
  }
  if (Option.isSome(flags.filter)) entries.push(["filter", flags.filter.value])
  if (Option.isSome(flags.parentId)) entries.push(["parent_id", flags.parentId.value])
  if (Option.isSome(flags.depth)) entries.push(["depth", String(flags.depth.value)])
  if (Option.isSome(flags.query)) entries.push(["query", flags.query.value])
  if (Option.isSome(flags.sorting)) entries.push(["sorting", flags.sorting.value])
  return Either.right(entries)
}

/**
 * The flags as a list query, checked like the API checks its parameters.
 *
 * @internal
 */
export const toListQuery = (
  flags: EventFlags,
  organizationId: string
): Either.Either<EventQuery.ListEventsQuery, UsageError> =>
  Either.flatMap(toEntries(flags, organizationId), (entries) =>
    Either.mapLeft(EventQuery.decodeSearchParams(entries), toUsageError))
