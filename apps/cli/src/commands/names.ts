/**
 * `polar-events names`: the event names seen, with how often and when, like
 * `GET /v1/events/names`.
 *
 * @internal
 */
import { Command, Options } from "@effect/cli"
import { EventQuery, Timestamp } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { Effect, Either, Option, Schema } from "effect"
import { UsageError } from "../CliError.js"
import { CliSettings } from "../GlobalOptions.js"
import * as Output from "../Output.js"
import { Organization } from "../Storage.js"
import { storeCommand } from "../internal/context.js"
import { customerFlags, toUsageError } from "../internal/filters.js"

const encodeName = Schema.encodeSync(EventQuery.EventName)

const columns: ReadonlyArray<Output.Column> = [
  { header: "NAME", max: 48 },
  { header: "SOURCE" },
  { header: "OCCURRENCES", align: "right" },
  { header: "FIRST SEEN" },
  { header: "LAST SEEN" }
]

/**
 * The command.
 *
 * @internal
 */
export const names = storeCommand(
  "names",
  {
    ...customerFlags,
    source: Options.choice("source", ["user", "system"]).pipe(
      Options.withDescription("Only user or system events (repeatable)."),
      Options.repeated
    ),
    query: Options.text("query").pipe(
      Options.withPseudoName("TEXT"),
      Options.withDescription("Only names containing this text."),
      Options.optional
    ),
    sorting: Options.choice("sorting", EventQuery.EventNamesSortProperty.literals).pipe(
      Options.withAlias("sort"),
      Options.withDescription("Order (default -last_seen)."),
      Options.optional
    ),
    limit: Options.integer("limit").pipe(Options.withDescription("How many names (default 100)."), Options.optional),
    all: Options.boolean("all").pipe(Options.withDescription("Every name.")),
    format: Options.choice("format", ["table", "json", "ndjson", "csv"]).pipe(
      Options.withDescription("How to print (default table; --json means json)."),
      Options.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      if (input.all && Option.isSome(input.limit)) {
        return yield* new UsageError({ message: "use either --limit N or --all, not both" })
      }
      const limit = input.all ? Number.POSITIVE_INFINITY : Option.getOrElse(input.limit, () => 100)
      if (limit < 1) return yield* new UsageError({ message: "--limit must be 1 or more" })
      const entries: Array<[string, string]> = []
      for (const id of input.customerId) entries.push(["customer_id", id])
      for (const id of input.externalCustomerId) entries.push(["external_customer_id", id])
      for (const source of input.source) entries.push(["source", source])
      if (Option.isSome(input.query)) entries.push(["query", input.query.value])
      if (Option.isSome(input.sorting)) entries.push(["sorting", input.sorting.value])
      const decoded = EventQuery.decodeNamesSearchParams(entries)
      if (Either.isLeft(decoded)) return yield* toUsageError(decoded.left)
      const store = yield* EventStore.EventStore
      const org = yield* Organization
      const settings = yield* CliSettings
      const items: Array<EventQuery.EventName> = []
      for (let page = 1; items.length < limit; page++) {
        const size = Math.min(EventQuery.MAX_LIMIT, limit - items.length)
        const result = yield* store.names(org, { ...decoded.right, page, limit: size })
        items.push(...result.items)
        if (result.items.length < size || page >= result.pagination.maxPage) break
      }
      const format = Option.getOrElse(input.format, () => (input.json ? "json" : "table"))
      const wire = items.map((n) => encodeName(n))
      let text: string
      switch (format) {
        case "json":
          text = JSON.stringify(wire, null, 2) + "\n"
          break
        case "ndjson":
          text = wire.map((w) => JSON.stringify(w) + "\n").join("")
          break
        case "csv":
          text = Output.csvRow(["name", "label", "source", "occurrences", "first_seen", "last_seen"]) +
            wire.map((w) =>
              Output.csvRow([w.name, w.label, w.source, String(w.occurrences), w.first_seen, w.last_seen])
            ).join("")
          break
        default:
          text = items.length === 0
            ? Output.styles(settings.color).dim("no events") + "\n"
            : Output.table(
              columns,
              items.map((n) => [
                n.name,
                n.source,
                Output.count(n.occurrences),
                Timestamp.format(n.firstSeen),
                Timestamp.format(n.lastSeen)
              ]),
              settings.color
            )
      }
      yield* Output.stdout.write(text)
      yield* Output.stdout.flush
    })
).pipe(Command.withDescription("List the event names seen, with occurrences and first/last seen."))
