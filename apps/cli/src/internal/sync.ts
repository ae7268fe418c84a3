/**
 * The work of `push` and `pull`, loaded only when one of them runs (the
 * client and the HTTP stack are large; other commands never need them).
 *
 * `push` offers local user events, oldest first, to the client's durable
 * outbox (a table in the local SQLite file) and waits until they are
 * delivered. Each event is sent with its local id as `external_id`, so a
 * retry, a crash (even `kill -9`) or running `push` again never stores it
 * twice at the other end. A cursor remembers how far the outbox got.
 *
 * `pull` lists the remote events oldest first from after the last one seen
 * and stores them with their own ids (idempotent), in the local
 * organization.
 *
 * @internal
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { EventsClient, Outbox } from "@polar-events/client"
import { type Event, Timestamp } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { Chunk, Duration, Effect, Either, Layer, Logger, LogLevel, Option, Stream } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { CommandError, UsageError } from "../CliError.js"
import { baseUrl, CliSettings, type Remote, type RemoteInput, resolveRemote } from "../GlobalOptions.js"
import * as Output from "../Output.js"
import * as Progress from "../Progress.js"
import { Meta, Organization } from "../Storage.js"

const clientLayer = (target: Remote, options: { readonly timeout?: Duration.DurationInput } = {}) =>
  EventsClient.layer({
    accessToken: target.token,
    server: target.server,
    userAgent: "polar-events-cli/0.1",
    ...(options.timeout === undefined ? {} : { timeout: options.timeout })
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** A short stable key of a remote target and a local organization. */
const targetKey = (url: string, org: string) =>
  crypto.createHash("sha256").update(`${url}\n${org}`).digest("hex").slice(0, 12)

interface Position {
  readonly ts: number
  readonly id: string
}

const readPosition = (text: Option.Option<string>): Position | undefined => {
  if (Option.isNone(text)) return undefined
  try {
    const p = JSON.parse(text.value) as Position
    return typeof p.ts === "number" && typeof p.id === "string" ? p : undefined
  } catch {
    return undefined
  }
}

/** A local event as an event to ingest at the other end, keyed by its local id; undefined without a customer. */
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

/** The options of `push`. @internal */
export interface PushInput extends RemoteInput {
  readonly full: boolean
  readonly batchSize: number
  readonly timeout: number
  readonly outbox: Option.Option<string>
}

/** Runs `push`. @internal */
export const push = (input: PushInput) =>
      Effect.gen(function*() {
        if (input.batchSize < 1 || input.batchSize > 1000) {
          return yield* new UsageError({ message: "--batch-size must be between 1 and 1000" })
        }
        const target = yield* resolveRemote(input)
        const url = baseUrl(target.server)
        const settings = yield* CliSettings
        const store = yield* EventStore.EventStore
        const meta = yield* Meta
        const org = yield* Organization
        const key = targetKey(url, org)
        const cursorKey = `push:${key}`
        const table = `polar_events_outbox_${key}`
        const sqlLayer: Layer.Layer<SqlClient.SqlClient, CommandError, SqlClient.SqlClient> = settings.database._tag === "sqlite"
          ? Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient)
          : (() => {
            const file = Option.getOrElse(input.outbox, () => ".polar-events/outbox.db")
            fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
            return SqliteClient.layer({ filename: file }).pipe(
              Layer.mapError((e) => new CommandError({ message: `cannot open the outbox ${file}: ${e.message}`, cause: e }))
            )
          })()
        const outboxLayer = Outbox.layer({
          table,
          maxBatchSize: input.batchSize,
          maxBatchAge: Duration.millis(100),
          retryInterval: Duration.seconds(1),
          shutdownTimeout: Duration.seconds(5)
        }).pipe(
          Layer.provide(clientLayer(target)),
          Layer.provide(sqlLayer),
          Layer.mapError((e) => new CommandError({ message: `cannot open the outbox: ${e.message}`, cause: e }))
        )

        const work = Effect.gen(function*() {
          const outbox = yield* Outbox.Outbox
          const sql = yield* SqlClient.SqlClient
          const start = input.full ? undefined : readPosition(yield* meta.get(cursorKey))
          const before = yield* outbox.stats
          const events = store.stream(org, {
            source: ["user"],
            sorting: ["timestamp"],
            ...(start === undefined ? {} : { startTimestamp: Timestamp.fromEpochMicros(start.ts - 1) })
          })
          let offered = 0
          let skipped = 0
          const rejectedLocally: Array<string> = []
          const progress = Progress.make({ label: "pushing", unit: "events", silent: settings.json })
          const offer = (chunk: ReadonlyArray<Event.Event>) =>
            Effect.gen(function*() {
              let inputs: Array<{ readonly event: Event.Event; readonly input: EventsClient.EventInput }> = []
              for (const e of chunk) {
                if (start !== undefined && Timestamp.toEpochMicros(e.timestamp) === start.ts && e.id <= start.id) continue
                const i = toInput(e)
                if (i === undefined) skipped++
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
                  if (x !== undefined) rejectedLocally.push(`${x.event.id}: ${error.detail.find((d) => d.loc[2] === i)?.msg}`)
                }
                skipped += bad.size
                inputs = inputs.filter((_, i) => !bad.has(i))
              }
              offered += inputs.length
              const last = chunk[chunk.length - 1]
              if (last !== undefined) {
                yield* meta.set(cursorKey, JSON.stringify({ ts: Timestamp.toEpochMicros(last.timestamp), id: last.id }))
              }
              const stats = yield* outbox.stats
              progress.update(stats.delivered + stats.duplicates - before.delivered - before.duplicates)
            })
          yield* events.pipe(
            Stream.rechunk(OFFER_CHUNK),
            Stream.runForEachChunk((chunk) => offer(Chunk.toReadonlyArray(chunk)))
          )
          // wait for delivery, retrying while something moves
          let lastMoved = Date.now()
          let lastDone = -1
          while (true) {
            const stats = yield* outbox.stats
            const done = stats.delivered + stats.duplicates + stats.dead
            if (done !== lastDone) {
              lastDone = done
              lastMoved = Date.now()
            }
            progress.update(stats.delivered + stats.duplicates - before.delivered - before.duplicates)
            if (stats.pending === 0) break
            if (Date.now() - lastMoved > input.timeout * 1000) break
            yield* outbox.flush.pipe(Effect.timeoutOption(Duration.seconds(1)))
            const after = yield* outbox.stats
            if (after.pending > 0 && after.delivered + after.duplicates + after.dead === done) {
              yield* Effect.sleep(Duration.millis(500))
            }
          }
          const stats = yield* outbox.stats
          progress.done()
          const deadRows = stats.dead > before.dead
            ? yield* sql<{ external_id: string; error: string | null }>`SELECT external_id, error FROM ${sql(table)}
                WHERE dead_at IS NOT NULL ORDER BY seq DESC LIMIT 5`.pipe(Effect.orElseSucceed(() => []))
            : []
          return { stats, before, offered, skipped, rejectedLocally, deadRows }
        })

        const started = Date.now()
        const problem = lastProblem()
        const { before, deadRows, offered, rejectedLocally, skipped, stats } = yield* Effect.scoped(
          work.pipe(Effect.provide(Layer.merge(outboxLayer, sqlLayer)))
        ).pipe(Effect.provide(problem.layer))
        const delivered = stats.delivered - before.delivered
        const duplicates = stats.duplicates - before.duplicates
        const dead = stats.dead - before.dead
        const summary = {
          server: url,
          offered,
          delivered,
          duplicates,
          rejected: dead + rejectedLocally.length,
          skipped,
          pending: stats.pending,
          retried: stats.retried - before.retried,
          seconds: (Date.now() - started) / 1000
        }
        yield* Effect.sync(() => {
          for (const line of rejectedLocally.slice(0, 10)) process.stderr.write(`rejected: ${line}\n`)
          for (const row of deadRows) process.stderr.write(`rejected by the server: ${row.external_id}: ${row.error}\n`)
          if (settings.json) process.stdout.write(JSON.stringify(summary) + "\n")
          else {
            process.stdout.write(
              `pushed to ${url}: ${Output.count(delivered)} delivered, ${Output.count(duplicates)} already there` +
                (summary.rejected > 0 ? `, ${Output.count(summary.rejected)} rejected` : "") +
                (skipped > rejectedLocally.length ? `, ${Output.count(skipped - rejectedLocally.length)} without a customer skipped` : "") +
                ` in ${summary.seconds.toFixed(1)}s\n`
            )
          }
        })
        if (stats.pending > 0) {
          return yield* new CommandError({
            message: `${Output.count(stats.pending)} events are not delivered yet (${
              problem.get() ?? "the server kept failing"
            }); run push again to resume`
          })
        }
        if (summary.rejected > 0) {
          return yield* new CommandError({ message: `${Output.count(summary.rejected)} events were rejected` })
        }
      })

const PULL_BATCH = 1_000

/** The options of `pull`. @internal */
export interface PullInput extends RemoteInput {
  readonly full: boolean
}

/** Runs `pull`. @internal */
export const pull = (input: PullInput) =>
      Effect.gen(function*() {
        const target = yield* resolveRemote(input)
        const url = baseUrl(target.server)
        const settings = yield* CliSettings
        const store = yield* EventStore.EventStore
        const meta = yield* Meta
        const org = yield* Organization
        const cursorKey = `pull:${targetKey(url, org)}`
        const since = input.full ? undefined : readPosition(yield* meta.get(cursorKey))
        const started = Date.now()
        const result = yield* Effect.gen(function*() {
          const client = yield* EventsClient.EventsClient
          const query = {
            sorting: ["timestamp"] as const,
            page: 1,
            limit: 100,
            ...(since === undefined ? {} : { startTimestamp: Timestamp.fromEpochMicros(since.ts - 1) })
          }
          const first = yield* client.listPage({ ...query, limit: 1 } as EventsClient.ListQuery)
          const total = first.pagination.totalCount
          const progress = Progress.make({ label: "pulling", unit: "events", silent: settings.json })
          let seen = 0
          let inserted = 0
          let duplicates = 0
          yield* client.list(query as EventsClient.ListQuery).pipe(
            Stream.rechunk(PULL_BATCH),
            Stream.runForEachChunk((chunk) =>
              Effect.gen(function*() {
                const events = Chunk.toReadonlyArray(chunk).map((e) => ({ ...e, organizationId: org }) as Event.Event)
                const r = yield* store.insert(events)
                inserted += r.inserted
                duplicates += r.duplicates
                seen += events.length
                let last = events[0]!
                for (const e of events) {
                  if (Timestamp.toEpochMicros(e.timestamp) >= Timestamp.toEpochMicros(last.timestamp)) last = e
                }
                const position = { ts: Timestamp.toEpochMicros(last.timestamp), id: last.id }
                const previous = readPosition(yield* meta.get(cursorKey))
                if (previous === undefined || position.ts >= previous.ts) {
                  yield* meta.set(cursorKey, JSON.stringify(position))
                }
                progress.update(seen, total > 0 ? Math.min(1, seen / total) : undefined)
              })
            )
          )
          progress.done()
          return { server: url, seen, inserted, duplicates, seconds: (Date.now() - started) / 1000 }
        }).pipe(Effect.provide(clientLayer(target)))
        yield* Effect.sync(() => {
          if (settings.json) process.stdout.write(JSON.stringify(result) + "\n")
          else {
            process.stdout.write(
              `pulled from ${url}: ${Output.count(result.inserted)} new events, ${
                Output.count(result.duplicates)
              } already stored in ${result.seconds.toFixed(1)}s\n`
            )
          }
        })
      })
