/**
 * `list`, `get` and `export`: reading events out of the local store in
 * every output format.
 *
 * @internal
 */
import { Args, Command, Options } from "@effect/cli"
import { EventStore } from "@polar-events/store"
import type { Event } from "@polar-events/core"
import { Chunk, Console, Effect, Either, Option, Stream } from "effect"
import { CommandError, UsageError } from "../CliError.js"
import { CliSettings } from "../GlobalOptions.js"
import * as Output from "../Output.js"
import * as Progress from "../Progress.js"
import { Organization } from "../Storage.js"
import { storeCommand } from "../internal/context.js"
import { governor } from "../internal/memory.js"
import { type EventFlags, eventFlags, toListQuery } from "../internal/filters.js"
import { csvEvent, csvHeader, eventColumns, eventRow, flattenMetadata, toWire } from "../internal/render.js"

/** The output formats of events. @internal */
export type EventFormat = "table" | "json" | "ndjson" | "csv"

const TABLE_SAMPLE = 200
const HEAP_CEILING_MIB = 64

/**
 * Writes a stream of events in a format, in constant memory. CSV needs the
 * metadata columns first: `columns` reads them (a first pass over the same
 * events).
 *
 * @internal
 */
export const writeEvents = <E, R>(
  events: Stream.Stream<Event.Event, E, R>,
  format: EventFormat,
  writer: Output.Writer,
  options: {
    readonly color: boolean
    readonly columns?: Effect.Effect<ReadonlyArray<string>, E, R>
    readonly onWritten?: (n: number) => void
  }
): Effect.Effect<number, E | CommandError, R> =>
  Effect.gen(function*() {
    let n = 0
    const relieve = governor(HEAP_CEILING_MIB)
    const counted = (k: number) => {
      n += k
      relieve()
      options.onWritten?.(n)
    }
    switch (format) {
      case "ndjson": {
        yield* Stream.runForEachChunk(events, (chunk) => {
          let text = ""
          for (const e of chunk) text += JSON.stringify(toWire(e)) + "\n"
          counted(chunk.length)
          return writer.write(text)
        })
        break
      }
      case "json": {
        yield* writer.write("[")
        yield* Stream.runForEachChunk(events, (chunk) => {
          let text = ""
          for (const e of chunk) {
            text += (n === 0 && text === "" ? "\n" : ",\n") + JSON.stringify(toWire(e), null, 2)
          }
          counted(chunk.length)
          return writer.write(text)
        })
        yield* writer.write(n === 0 ? "]\n" : "\n]\n")
        break
      }
      case "csv": {
        const columns = options.columns === undefined ? [] : yield* options.columns
        yield* writer.write(csvHeader(columns))
        yield* Stream.runForEachChunk(events, (chunk) => {
          let text = ""
          for (const e of chunk) text += csvEvent(e, columns)
          counted(chunk.length)
          return writer.write(text)
        })
        break
      }
      case "table": {
        const s = Output.styles(options.color)
        let widths: Array<number> | undefined
        let sample: Array<Array<string>> = []
        const flushSample = Effect.suspend(() => {
          widths = Output.columnWidths(eventColumns, sample)
          const header = s.bold(Output.tableLine(eventColumns, widths, eventColumns.map((c) => c.header)).trimEnd())
          const text = header + "\n" + sample.map((r) => Output.tableLine(eventColumns, widths!, r)).join("")
          sample = []
          return writer.write(text)
        })
        yield* Stream.runForEachChunk(events, (chunk) => {
          counted(chunk.length)
          if (widths === undefined) {
            for (const e of chunk) sample.push(eventRow(e))
            return sample.length >= TABLE_SAMPLE ? flushSample : Effect.void
          }
          let text = ""
          for (const e of chunk) text += Output.tableLine(eventColumns, widths, eventRow(e))
          return writer.write(text)
        })
        if (widths === undefined) {
          if (sample.length === 0) yield* writer.write(s.dim("no events") + "\n")
          else yield* flushSample
        }
        break
      }
    }
    yield* writer.flush
    return n
  })

/** The metadata columns of some events, sorted, for CSV. @internal */
export const metadataColumns = <E, R>(events: Stream.Stream<Event.Event, E, R>) =>
  Stream.runFold(events, new Set<string>(), (keys, e) => {
    for (const key of flattenMetadata(e.metadata as Record<string, unknown>).keys()) keys.add(key)
    return keys
  }).pipe(Effect.map((keys) => [...keys].sort()))

const formatOption = Options.choice("format", ["table", "json", "ndjson", "csv"]).pipe(
  Options.withDescription("How to print events (default table; --json means json)."),
  Options.optional
)

const chooseFormat = (format: Option.Option<EventFormat>, json: boolean, fallback: EventFormat): EventFormat =>
  Option.getOrElse(format, () => (json ? "json" : fallback))

const matching = (flags: EventFlags) =>
  Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const org = yield* Organization
    const query = toListQuery(flags, org)
    if (Either.isLeft(query)) return yield* query.left
    return (q = query.right) => store.stream(org, q)
  })

/**
 * `polar-events list`: events of the local store, newest first, filtered
 * like `GET /v1/events/`.
 *
 * @internal
 */
export const list = storeCommand(
  "list",
  {
    ...eventFlags,
    limit: Options.integer("limit").pipe(
      Options.withDescription("How many events to show (default 10)."),
      Options.optional
    ),
    all: Options.boolean("all").pipe(Options.withDescription("Show every matching event.")),
    format: formatOption
  },
  (input) =>
    Effect.gen(function*() {
      if (input.all && Option.isSome(input.limit)) {
        return yield* new UsageError({ message: "use either --limit N or --all, not both" })
      }
      const limit = Option.getOrElse(input.limit, () => 10)
      if (limit < 1) return yield* new UsageError({ message: `--limit must be 1 or more, got ${limit}` })
      const settings = yield* CliSettings
      const stream = yield* matching(input)
      const events = input.all ? stream() : Stream.take(stream(), limit)
      const format = chooseFormat(input.format, input.json, "table")
      yield* writeEvents(events, format, Output.stdout, {
        color: settings.color,
        columns: metadataColumns(events)
      })
    })
).pipe(Command.withDescription("List events of the local store (newest first), with the API's filters."))

/**
 * `polar-events get ID`: one event as JSON (or another format).
 *
 * @internal
 */
export const get = storeCommand(
  "get",
  {
    id: Args.text({ name: "ID" }).pipe(Args.withDescription("The event's id.")),
    format: Options.choice("format", ["json", "table", "ndjson", "csv"]).pipe(
      Options.withDescription("How to print the event (default json)."),
      Options.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const org = yield* Organization
      const settings = yield* CliSettings
      const found = yield* store.get(org, input.id.trim())
      if (Option.isNone(found)) {
        return yield* new CommandError({ message: `no event with id ${input.id} in organization ${org}` })
      }
      const format = Option.getOrElse(input.format, () => "json" as const)
      if (format === "json") {
        const wire = toWire(found.value)
        yield* Output.stdout.write((input.json ? JSON.stringify(wire) : JSON.stringify(wire, null, 2)) + "\n")
        return yield* Output.stdout.flush
      }
      const one = Stream.fromChunk(Chunk.of(found.value))
      yield* writeEvents(one, format, Output.stdout, { color: settings.color, columns: metadataColumns(one) })
    })
).pipe(Command.withDescription("Show one event by id."))

/**
 * `polar-events export`: every matching event as NDJSON or CSV, to stdout
 * or a file, in constant memory.
 *
 * @internal
 */
export const exportCommand = storeCommand(
  "export",
  {
    ...eventFlags,
    format: Options.choice("format", ["ndjson", "csv"]).pipe(
      Options.withDescription("ndjson (default; lossless, what import reads) or csv."),
      Options.withDefault("ndjson" as const)
    ),
    output: Options.text("output").pipe(
      Options.withAlias("o"),
      Options.withPseudoName("FILE"),
      Options.withDescription("Write to this file instead of stdout."),
      Options.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      const settings = yield* CliSettings
      const stream = yield* matching(input)
      const file = Option.getOrUndefined(input.output)
      const toFile = file !== undefined
      const writer = file !== undefined ? yield* Output.fileWriter(file) : Output.stdout
      const n = yield* Progress.withProgress(
        { label: "exporting", unit: "events", silent: !toFile },
        (progress) =>
          writeEvents(stream(), input.format, writer, {
            color: false,
            columns: metadataColumns(stream()),
            onWritten: (n) => progress.update(n)
          })
      )
      if (toFile) {
        const summary = { exported: n, file, format: input.format }
        yield* settings.json
          ? Console.log(JSON.stringify(summary))
          : Console.error(`exported ${Output.count(n)} events to ${file}`)
      }
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Export events as NDJSON or CSV (stdout or --output FILE), in constant memory."))
