/**
 * `polar-events quantities`: a meter over the local store, as Polar's
 * `GET /v1/meters/{id}/quantities` computes it, printed as a table with a
 * bar per bucket and a sparkline.
 *
 * @internal
 */
import { Command, Options } from "@effect/cli"
import { Meter, Timestamp } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { Effect, Either, Option, Schema } from "effect"
import { UsageError } from "../CliError.js"
import { CliSettings } from "../GlobalOptions.js"
import * as Output from "../Output.js"
import { Organization } from "../Storage.js"
import { storeCommand } from "../internal/context.js"
import { customerFlags, parseTime } from "../internal/filters.js"

const FUNCS = ["count", "sum", "max", "min", "avg", "unique"] as const

/** Reads `count`, `sum:PROP`, ... @internal */
export const parseAggregation = (text: string): Either.Either<Meter.Aggregation, UsageError> => {
  const s = text.trim()
  if (s === "count") return Either.right({ func: "count" })
  const colon = s.indexOf(":")
  const func = colon < 0 ? s : s.slice(0, colon)
  const property = colon < 0 ? "" : s.slice(colon + 1).trim()
  if (!(FUNCS as ReadonlyArray<string>).includes(func) || func === "count") {
    return Either.left(
      new UsageError({
        message: `--aggregation: '${text}' is not one of count, sum:PROP, max:PROP, min:PROP, avg:PROP, unique:PROP`
      })
    )
  }
  if (property === "") {
    return Either.left(new UsageError({ message: `--aggregation ${func} needs a property: ${func}:PROP` }))
  }
  return Either.right(
    func === "unique"
      ? { func: "unique", property }
      : { func: func as "sum" | "max" | "min" | "avg", property }
  )
}

const OPERATORS: Record<string, Meter.FilterOperator> = {
  eq: "eq",
  "=": "eq",
  "==": "eq",
  ne: "ne",
  "!=": "ne",
  gt: "gt",
  ">": "gt",
  gte: "gte",
  ">=": "gte",
  lt: "lt",
  "<": "lt",
  lte: "lte",
  "<=": "lte",
  like: "like",
  not_like: "not_like"
}

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/** Reads `--where 'PROP OP VALUE'` into a filter clause. @internal */
export const parseWhere = (text: string): Either.Either<Meter.FilterClause, UsageError> => {
  const m = /^\s*(\S+)\s+(\S+)\s+([\s\S]*?)\s*$/.exec(text)
  const bad = (why: string) =>
    Either.left(new UsageError({ message: `--where '${text}': ${why} (expected 'PROPERTY OPERATOR VALUE')` }))
  if (m === null) return bad("incomplete")
  const [, property, op, raw] = m as unknown as [string, string, string, string]
  const operator = OPERATORS[op]
  if (operator === undefined) return bad(`unknown operator '${op}' (eq ne gt gte lt lte like not_like, or = != > >= < <=)`)
  let value: string | number | boolean
  if (raw === "true" || raw === "false") value = raw === "true"
  else if (/^-?\d+$/.test(raw)) {
    const n = Number(raw)
    if (n < INT32_MIN || n > INT32_MAX) return bad("integers must fit in 32 bits")
    value = n
  } else if (/^-?\d*\.\d+$/.test(raw)) return bad("filter values are text, 32-bit integers or booleans, not decimals")
  else if (raw.length >= 2 && raw.startsWith("\"") && raw.endsWith("\"")) {
    try {
      value = JSON.parse(raw) as string
    } catch {
      return bad("bad quoted text")
    }
  } else value = raw
  if (typeof value === "string" && value.length > 1000) return bad("text values are at most 1000 characters")
  return Either.right({ property, operator, value })
}

const LABEL: Record<Meter.Interval, Intl.DateTimeFormatOptions> = {
  hour: { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  day: { year: "numeric", month: "2-digit", day: "2-digit" },
  week: { year: "numeric", month: "2-digit", day: "2-digit" },
  month: { year: "numeric", month: "2-digit" },
  year: { year: "numeric" }
}

/** A bucket start as a short label in the zone: `2025-06-01`, `2025-06`, `2025-06-01 14:00`. @internal */
export const bucketLabel = (date: Date, interval: Meter.Interval, timeZone: string): string => {
  const parts = new Intl.DateTimeFormat("en-CA", { ...LABEL[interval], timeZone }).formatToParts(date)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ""
  switch (interval) {
    case "year":
      return get("year")
    case "month":
      return `${get("year")}-${get("month")}`
    case "day":
      return `${get("year")}-${get("month")}-${get("day")}`
    case "week":
      return `${get("year")}-${get("month")}-${get("day")} (week)`
    case "hour":
      return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`
  }
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
const SPARKS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

/** A horizontal bar of `value` out of `max`, `width` cells at most. @internal */
export const bar = (value: number, max: number, width: number): string => {
  if (max <= 0 || value <= 0) return ""
  const eighths = Math.round((value / max) * width * 8)
  return "█".repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]
}

/** A one-line chart of values. @internal */
export const sparkline = (values: ReadonlyArray<number>): string => {
  const max = Math.max(0, ...values)
  const min = Math.min(0, ...values)
  return values.map((v) => max === min ? SPARKS[0] : SPARKS[Math.round(((v - min) / (max - min)) * 7)]).join("")
}

const MAX_BUCKETS = 5_000
const encodeQuantities = Schema.encodeSync(Meter.MeterQuantities)

/**
 * The command.
 *
 * @internal
 */
export const quantities = storeCommand(
  "quantities",
  {
    ...customerFlags,
    aggregation: Options.text("aggregation").pipe(
      Options.withAlias("a"),
      Options.withPseudoName("count|sum:PROP|max:PROP|min:PROP|avg:PROP|unique:PROP"),
      Options.withDescription("What to compute per bucket (default count). PROP: name, timestamp or a metadata path."),
      Options.withDefault("count")
    ),
    filter: Options.text("filter").pipe(
      Options.withPseudoName("JSON"),
      Options.withDescription("The meter's filter as JSON."),
      Options.optional
    ),
    where: Options.text("where").pipe(
      Options.withPseudoName("'PROP OP VALUE'"),
      Options.withDescription("A filter clause, e.g. 'name eq llm.request' or '_llm.total_tokens > 100' (repeatable, AND-ed)."),
      Options.repeated
    ),
    or: Options.boolean("or").pipe(Options.withDescription("Combine the --where clauses with OR instead of AND.")),
    name: Options.text("name").pipe(
      Options.withPseudoName("NAME"),
      Options.withDescription("Only events with this name (repeatable, OR-ed)."),
      Options.repeated
    ),
    interval: Options.choice("interval", Meter.Interval.literals).pipe(
      Options.withDescription("The bucket size (default day)."),
      Options.withDefault("day" as const)
    ),
    start: Options.text("start").pipe(
      Options.withPseudoName("TIME"),
      Options.withDescription("The first bucket holds this time (ISO-8601, a date in --tz, or 'now'; default: the first event)."),
      Options.optional
    ),
    end: Options.text("end").pipe(
      Options.withPseudoName("TIME"),
      Options.withDescription("The last bucket holds this time (default: the last event)."),
      Options.optional
    ),
    tz: Options.text("tz").pipe(
      Options.withPseudoName("ZONE"),
      Options.withDescription("The IANA time zone of the buckets (default UTC)."),
      Options.withDefault("UTC")
    ),
    format: Options.choice("format", ["table", "json", "csv"]).pipe(
      Options.withDescription("How to print (default table with a chart; --json means json)."),
      Options.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      if (!Meter.isTimeZone(input.tz)) return yield* new UsageError({ message: `--tz: unknown time zone '${input.tz}'` })
      const aggregation = parseAggregation(input.aggregation)
      if (Either.isLeft(aggregation)) return yield* aggregation.left
      const clauses: Array<Meter.FilterClause | Meter.Filter> = []
      if (Option.isSome(input.filter)) {
        const parsed = Meter.parseFilterJson(input.filter.value)
        if (Either.isLeft(parsed)) {
          const d = parsed.left[0]!
          return yield* new UsageError({
            message: `--filter: ${d.loc.length > 0 ? `${d.loc.join(".")}: ` : ""}${d.msg}`
          })
        }
        clauses.push(parsed.right)
      }
      const where: Array<Meter.FilterClause> = []
      for (const w of input.where) {
        const clause = parseWhere(w)
        if (Either.isLeft(clause)) return yield* clause.left
        where.push(clause.right)
      }
      if (where.length > 0) clauses.push({ conjunction: input.or ? "or" : "and", clauses: where })
      if (input.name.length > 0) {
        clauses.push({
          conjunction: "or",
          clauses: input.name.map((name) => ({ property: "name", operator: "eq" as const, value: name }))
        })
      }
      const filter: Meter.Filter | undefined = clauses.length === 0
        ? undefined
        : clauses.length === 1 && "conjunction" in clauses[0]!
        ? clauses[0] as Meter.Filter
        : { conjunction: "and", clauses }

      const store = yield* EventStore.EventStore
      const org = yield* Organization
      const settings = yield* CliSettings
      const customers = {
        ...(input.customerId.length > 0 ? { customerId: input.customerId } : {}),
        ...(input.externalCustomerId.length > 0 ? { externalCustomerId: input.externalCustomerId } : {})
      }
      const edge = (sorting: "timestamp" | "-timestamp") =>
        store.list(org, {
          ...(customers.customerId === undefined ? {} : { customerId: customers.customerId as [string] }),
          ...(customers.externalCustomerId === undefined
            ? {}
            : { externalCustomerId: customers.externalCustomerId as [string] }),
          ...(filter === undefined ? {} : { filter }),
          sorting: [sorting],
          limit: 1
        } as unknown as EventStore.ListQuery).pipe(Effect.map((page) => page.items[0]?.timestamp))
      const time = (flag: string, value: Option.Option<string>) =>
        Option.isNone(value)
          ? Effect.succeed(undefined)
          : Either.match(parseTime(flag, value.value, input.tz), {
            onLeft: (e) => Effect.fail(e),
            onRight: (d) => Effect.succeed(d as Date | undefined)
          })
      let start = yield* time("--start", input.start)
      let end = yield* time("--end", input.end)
      if (start === undefined) start = (yield* edge("timestamp")) ?? new Date(Date.now() - 29 * 86_400_000)
      if (end === undefined) end = (yield* edge("-timestamp")) ?? new Date()
      if (end.getTime() < start.getTime()) {
        return yield* new UsageError({ message: "--end is before --start" })
      }
      const count = Meter.buckets(start, end, input.interval, input.tz).length
      if (count > MAX_BUCKETS) {
        return yield* new UsageError({
          message: `${Output.count(count)} ${input.interval} buckets is too many: use a larger --interval or a shorter --start/--end`
        })
      }
      const result = yield* store.quantities(org, {
        aggregation: aggregation.right,
        filter,
        start,
        end,
        interval: input.interval,
        timezone: input.tz,
        ...customers
      })
      const format = Option.getOrElse(input.format, () => (input.json ? "json" : "table"))
      let text: string
      if (format === "json") text = JSON.stringify(encodeQuantities(result), null, 2) + "\n"
      else if (format === "csv") {
        text = Output.csvRow(["timestamp", "quantity"]) +
          result.quantities.map((q) => Output.csvRow([Timestamp.format(q.timestamp), String(q.quantity)])).join("") +
          Output.csvRow(["total", String(result.total)])
      } else {
        const s = Output.styles(settings.color)
        const rows = result.quantities.map((q) => [bucketLabel(q.timestamp, input.interval, input.tz), Output.quantity(q.quantity)])
        const labelWidth = Math.max(6, ...rows.map((r) => r[0]!.length))
        const valueWidth = Math.max(8, ...rows.map((r) => r[1]!.length))
        const max = Math.max(0, ...result.quantities.map((q) => q.quantity))
        const barWidth = Math.max(10, Math.min(50, Output.terminalWidth() - labelWidth - valueWidth - 6))
        const what = aggregation.right.func === "count"
          ? "count"
          : `${aggregation.right.func}(${aggregation.right.property})`
        const lines = [
          s.bold(`${"BUCKET".padEnd(labelWidth)}  ${what.toUpperCase().padStart(valueWidth)}`),
          ...rows.map((r, i) =>
            `${r[0]!.padEnd(labelWidth)}  ${r[1]!.padStart(valueWidth)}  ${s.cyan(bar(result.quantities[i]!.quantity, max, barWidth))}`.trimEnd()
          ),
          `${"total".padEnd(labelWidth)}  ${s.bold(Output.quantity(result.total).padStart(valueWidth))}`,
          "",
          `${s.dim(`${input.interval}s in ${input.tz}:`)} ${s.cyan(sparkline(result.quantities.map((q) => q.quantity)))}`
        ]
        text = lines.join("\n") + "\n"
      }
      yield* Output.stdout.write(text)
      yield* Output.stdout.flush
    })
).pipe(
  Command.withDescription(
    "Compute a meter (count, sum, max, min, avg, unique) per hour/day/week/month/year; prints a table and a chart."
  )
)
