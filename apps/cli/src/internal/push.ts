/**
 * The steps of `push`: opening the durable outbox, offering the local
 * events to it chunk by chunk (dropping those the client refuses, moving
 * the cursor), and waiting until they are delivered while something moves.
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { type EventsClient, Outbox } from "@polar-events/client"
import { type Event, Timestamp } from "@polar-events/core"
import { Chunk, Duration, Effect, Either, Layer, Logger, LogLevel, Option, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { CommandError } from "../CliError.js"
import * as Progress from "../Progress.js"

/** A cursor: the timestamp (epoch µs) and id of the last event handled. @internal */
export interface Position {
  readonly ts: number
  readonly id: string
}

/** A saved cursor, if it reads as one. @internal */
export const readPosition = (text: Option.Option<string>): Position | undefined => {
  if (Option.isNone(text)) return undefined
  try {
    const p = JSON.parse(text.value) as Position
    return typeof p.ts === "number" && typeof p.id === "string" ? p : undefined
  } catch {
    return undefined
  }
}

/** A local event as an event to ingest at the other end, keyed by its local id; undefined without a customer. @internal */
export const toInput = (event: Event.Event): EventsClient.EventInput | undefined => {
  const common = {
    name: event.name,
    timestamp: event.timestamp,
    externalId: event.id,
    metadata: event.metadata as EventsClient.EventInput["metadata"] & {},
    ...(event.parentId === undefined || event.parentId === null ? {} : { parentId: event.parentId })
  }
  if (event.customerId !== null) {
    return {
      ...common,
      customerId: event.customerId,
      ...(event.memberId === undefined || event.memberId === null ? {} : { memberId: event.memberId })
    }
  }
  if (event.externalCustomerId !== null) {
    return {
      ...common,
      externalCustomerId: event.externalCustomerId,
      ...(event.externalMemberId === undefined || event.externalMemberId === null
        ? {}
        : { externalMemberId: event.externalMemberId })
    }
  }
  return undefined
}

/** The outbox in a SQLite file of its own (when the events are in PostgreSQL). @internal */
export const outboxFile = (file: string): Layer.Layer<SqlClient.SqlClient, CommandError> =>
  Layer.unwrapEffect(Effect.sync(() => {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    return SqliteClient.layer({ filename: file }).pipe(
      Layer.mapError((e) => new CommandError({ message: `cannot open the outbox ${file}: ${e.message}`, cause: e }))
    )
  }))

const OFFER_CHUNK = 1_000

/** Remembers the last warning or error logged (a failed request and why), for the final message. */
const lastProblem = () => {
  let last: string | undefined
  const logger = Logger.make(({ logLevel, message }) => {
    if (LogLevel.lessThan(logLevel, LogLevel.Warning) || !Array.isArray(message) || message.length < 2) return
    last = message.slice(1).map(String).join(" ")
  })
  return { layer: Logger.add(logger), get: () => last }
}

/** What one push is given. @internal */
export interface PushRun {
  readonly table: string
  readonly batchSize: number
  readonly timeout: number
  readonly progress: boolean
  readonly client: Layer.Layer<EventsClient.EventsClient>
  readonly sql: Layer.Layer<SqlClient.SqlClient, CommandError>
  /** the local user events, oldest first, from the cursor on */
  readonly events: Stream.Stream<Event.Event, unknown>
  readonly start: Position | undefined
  readonly saveCursor: (position: Position) => Effect.Effect<void, CommandError>
}

/** Counts of the offering. */
interface Offered {
  offered: number
  skipped: number
  readonly rejectedLocally: Array<string>
}

/** Offers one chunk, dropping the events the client refuses (and telling which). */
const offerChunk = (outbox: Outbox.Outbox["Type"], run: PushRun, counts: Offered, chunk: ReadonlyArray<Event.Event>) =>
  Effect.gen(function*() {
    let inputs: Array<{ readonly event: Event.Event; readonly input: EventsClient.EventInput }> = []
    for (const e of chunk) {
      const start = run.start
      if (start !== undefined && Timestamp.toEpochMicros(e.timestamp) === start.ts && e.id <= start.id) continue
      const i = toInput(e)
      if (i === undefined) counts.skipped++
      else inputs.push({ event: e, input: i })
    }
    while (inputs.length > 0) {
      const result = yield* Effect.either(outbox.offerAll(inputs.map((x) => x.input)))
      if (Either.isRight(result)) break
      const error = result.left
      if (error._tag !== "ValidationFailed") return yield* error
      const bad = new Set<number>()
      for (const d of error.detail) if (typeof d.loc[2] === "number") bad.add(d.loc[2])
      if (bad.size === 0) return yield* error
      for (const i of bad) {
        const x = inputs[i]
        if (x !== undefined) counts.rejectedLocally.push(`${x.event.id}: ${error.detail.find((d) => d.loc[2] === i)?.msg}`)
      }
      counts.skipped += bad.size
      inputs = inputs.filter((_, i) => !bad.has(i))
    }
    counts.offered += inputs.length
    const last = chunk[chunk.length - 1]
    if (last !== undefined) yield* run.saveCursor({ ts: Timestamp.toEpochMicros(last.timestamp), id: last.id })
  })

/** Waits until nothing is pending, or nothing moved for `timeout` seconds. */
const awaitDelivery = (outbox: Outbox.Outbox["Type"], timeout: number, onStats: (stats: Outbox.Stats) => void) =>
  Effect.gen(function*() {
    let lastMoved = Date.now()
    let lastDone = -1
    while (true) {
      const stats = yield* outbox.stats
      const done = stats.delivered + stats.duplicates + stats.dead
      if (done !== lastDone) {
        lastDone = done
        lastMoved = Date.now()
      }
      onStats(stats)
      if (stats.pending === 0) break
      if (Date.now() - lastMoved > timeout * 1000) break
      yield* outbox.flush.pipe(Effect.timeoutOption(Duration.seconds(1)))
      const after = yield* outbox.stats
      if (after.pending > 0 && after.delivered + after.duplicates + after.dead === done) {
        yield* Effect.sleep(Duration.millis(500))
      }
    }
  })

/** The outbox's stats before and after, what was offered, and the last rows the server refused. @internal */
export interface PushResult extends Offered {
  readonly before: Outbox.Stats
  readonly stats: Outbox.Stats
  readonly deadRows: ReadonlyArray<{ readonly external_id: string; readonly error: string | null }>
  readonly problem: string | undefined
}

/**
 * Pushes: opens the outbox, offers every event, waits for delivery.
 *
 * @internal
 */
export const run = (options: PushRun) => {
  const outboxLayer = Outbox.layer({
    table: options.table,
    maxBatchSize: options.batchSize,
    maxBatchAge: Duration.millis(100),
    retryInterval: Duration.seconds(1),
    shutdownTimeout: Duration.seconds(5)
  }).pipe(
    Layer.provide(options.client),
    Layer.provide(options.sql),
    Layer.mapError((e) => new CommandError({ message: `cannot open the outbox: ${e.message}`, cause: e }))
  )
  const work = Effect.gen(function*() {
    const outbox = yield* Outbox.Outbox
    const sql = yield* SqlClient.SqlClient
    const before = yield* outbox.stats
    const counts: Offered = { offered: 0, skipped: 0, rejectedLocally: [] }
    const progress = Progress.make({ label: "pushing", unit: "events", silent: !options.progress })
    const onStats = (s: Outbox.Stats) =>
      progress.update(s.delivered + s.duplicates - before.delivered - before.duplicates)
    yield* options.events.pipe(
      Stream.rechunk(OFFER_CHUNK),
      Stream.runForEachChunk((chunk) =>
        Effect.zipRight(offerChunk(outbox, options, counts, Chunk.toReadonlyArray(chunk)), Effect.map(outbox.stats, onStats))
      )
    )
    yield* awaitDelivery(outbox, options.timeout, onStats)
    const stats = yield* outbox.stats
    progress.done()
    const deadRows = stats.dead > before.dead
      ? yield* sql<{ external_id: string; error: string | null }>`SELECT external_id, error FROM ${sql(options.table)}
          WHERE dead_at IS NOT NULL ORDER BY seq DESC LIMIT 5`.pipe(Effect.orElseSucceed(() => []))
      : []
    return { ...counts, before, stats, deadRows }
  })
  const problem = lastProblem()
  return Effect.scoped(work.pipe(Effect.provide(Layer.merge(outboxLayer, options.sql)))).pipe(
    Effect.provide(problem.layer),
    Effect.map((result): PushResult => ({ ...result, problem: problem.get() }))
  )
}

/** The summary of a push. @internal */
export const report = (server: string, result: PushResult, seconds: number) => {
  const { before, stats } = result
  return {
    summary: {
      server,
      offered: result.offered,
      delivered: stats.delivered - before.delivered,
      duplicates: stats.duplicates - before.duplicates,
      rejected: stats.dead - before.dead + result.rejectedLocally.length,
      skipped: result.skipped,
      pending: stats.pending,
      retried: stats.retried - before.retried,
      seconds
    },
    rejectedLocally: result.rejectedLocally,
    deadRows: result.deadRows,
    problem: result.problem
  }
}
