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
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { EventsClient } from "@polar-events/client"
import { type Event, Timestamp } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { Chunk, Console, Effect, Layer, Option, Stream } from "effect"
import * as crypto from "node:crypto"
import { CommandError } from "./CliError.js"
import type { Database, Remote } from "./GlobalOptions.js"
import * as Pushing from "./internal/push.js"
import * as Output from "./Output.js"
import * as Progress from "./Progress.js"
import { Meta, type MetaService, Organization } from "./Storage.js"

/**
 * The client for a remote target, over undici.
 *
 * @since 0.1.0
 */
export const clientLayer = (target: Remote): Layer.Layer<EventsClient.EventsClient> =>
  EventsClient.layer({ accessToken: target.token, server: target.server, userAgent: "polar-events-cli/0.1" }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )

/** A short stable key of a remote target and a local organization. */
const targetKey = (url: string, org: string) =>
  crypto.createHash("sha256").update(`${url}\n${org}`).digest("hex").slice(0, 12)

/** A local event as an event to ingest at the other end, keyed by its local id; undefined without a customer. @since 0.1.0 */
export const toInput = Pushing.toInput

/**
 * What `push` does.
 *
 * @since 0.1.0
 */
export interface PushOptions {
  readonly remote: Remote
  /** offer every local event again, not only those after the last push */
  readonly full: boolean
  /** events per request */
  readonly batchSize: number
  /** give up when nothing could be delivered for this many seconds */
  readonly timeout: number
  /** the SQLite file of the outbox; none: the store's own database (SQLite) */
  readonly outbox: Option.Option<string>
  readonly progress: boolean
}

/**
 * How a `push` ended.
 *
 * @since 0.1.0
 */
export interface PushReport {
  readonly summary: {
    readonly server: string
    readonly offered: number
    readonly delivered: number
    readonly duplicates: number
    readonly rejected: number
    readonly skipped: number
    readonly pending: number
    readonly retried: number
    readonly seconds: number
  }
  /** events the client refused before sending, `id: why` */
  readonly rejectedLocally: ReadonlyArray<string>
  /** the last events the server refused */
  readonly deadRows: ReadonlyArray<{ readonly external_id: string; readonly error: string | null }>
  /** the last failure logged, for the message when events are left */
  readonly problem: string | undefined
}

/**
 * What `pull` does.
 *
 * @since 0.1.0
 */
export interface PullOptions {
  readonly remote: Remote
  /** pull everything again, not only what came after the last pull */
  readonly full: boolean
  readonly progress: boolean
}

/**
 * How a `pull` ended.
 *
 * @since 0.1.0
 */
export interface PullReport {
  readonly server: string
  readonly seen: number
  readonly inserted: number
  readonly duplicates: number
  readonly seconds: number
}

/**
 * Where the outbox of a push lives: in the SQLite file of the events (none),
 * or, when the events are in PostgreSQL, in `--outbox` (default
 * `.polar-events/outbox.db`).
 *
 * @since 0.1.0
 */
export const outboxOf = (database: Database, outbox: Option.Option<string>): Option.Option<string> =>
  database._tag === "sqlite" ? Option.none() : Option.some(Option.getOrElse(outbox, () => ".polar-events/outbox.db"))

const PULL_BATCH = 1_000

/** Stores one chunk of remote events and moves the cursor forward. */
const storeChunk = (
  store: EventStore.EventStore.Service,
  meta: MetaService,
  org: string,
  cursorKey: string,
  chunk: ReadonlyArray<Event.Event>
) =>
  Effect.gen(function*() {
    const events = chunk.map((e) => ({ ...e, organizationId: org }) as Event.Event)
    const r = yield* store.insert(events)
    let last = events[0]!
    for (const e of events) {
      if (Timestamp.toEpochMicros(e.timestamp) >= Timestamp.toEpochMicros(last.timestamp)) last = e
    }
    const position = { ts: Timestamp.toEpochMicros(last.timestamp), id: last.id }
    const previous = Pushing.readPosition(yield* meta.get(cursorKey))
    if (previous === undefined || position.ts >= previous.ts) yield* meta.set(cursorKey, JSON.stringify(position))
    return r
  })

/** Lists the remote pages after `since` and stores them. */
const pullPages = (
  store: EventStore.EventStore.Service,
  meta: MetaService,
  org: string,
  cursorKey: string,
  options: PullOptions & { readonly since: Pushing.Position | undefined }
) =>
  Effect.gen(function*() {
    const client = yield* EventsClient.EventsClient
    const query = {
      sorting: ["timestamp"] as const,
      page: 1,
      limit: 100,
      ...(options.since === undefined ? {} : { startTimestamp: Timestamp.fromEpochMicros(options.since.ts - 1) })
    }
    const first = yield* client.listPage({ ...query, limit: 1 } as EventsClient.ListQuery)
    const total = first.pagination.totalCount
    const progress = Progress.make({ label: "pulling", unit: "events", silent: !options.progress })
    const counts = { seen: 0, inserted: 0, duplicates: 0 }
    yield* client.list(query as EventsClient.ListQuery).pipe(
      Stream.rechunk(PULL_BATCH),
      Stream.runForEachChunk((chunk) =>
        Effect.map(storeChunk(store, meta, org, cursorKey, Chunk.toReadonlyArray(chunk)), (r) => {
          counts.inserted += r.inserted
          counts.duplicates += r.duplicates
          counts.seen += chunk.length
          progress.update(counts.seen, total > 0 ? Math.min(1, counts.seen / total) : undefined)
        })
      )
    )
    progress.done()
    return counts
  })

/**
 * Pushing to and pulling from a remote events API, over the store, the
 * CLI's table and the organization in context.
 *
 * @since 0.1.0
 */
export class Sync extends Effect.Service<Sync>()("polar-events/Sync", {
  effect: Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const meta = yield* Meta
    const org = yield* Organization
    const sql = yield* SqlClient.SqlClient

    const push = (options: PushOptions) =>
      Effect.gen(function*() {
        const url = EventsClient.baseUrlOf(options.remote.server)
        const key = targetKey(url, org)
        const cursorKey = `push:${key}`
        const start = options.full ? undefined : Pushing.readPosition(yield* meta.get(cursorKey))
        const started = Date.now()
        const result = yield* Pushing.run({
          ...options,
          table: `polar_events_outbox_${key}`,
          client: clientLayer(options.remote),
          sql: Option.isNone(options.outbox) ? Layer.succeed(SqlClient.SqlClient, sql) : Pushing.outboxFile(options.outbox.value),
          events: store.stream(org, {
            source: ["user"],
            sorting: ["timestamp"],
            ...(start === undefined ? {} : { startTimestamp: Timestamp.fromEpochMicros(start.ts - 1) })
          }),
          start,
          saveCursor: (position) => meta.set(cursorKey, JSON.stringify(position))
        })
        return Pushing.report(url, result, (Date.now() - started) / 1000)
      })

    const pull = (options: PullOptions) =>
      Effect.gen(function*() {
        const url = EventsClient.baseUrlOf(options.remote.server)
        const cursorKey = `pull:${targetKey(url, org)}`
        const since = options.full ? undefined : Pushing.readPosition(yield* meta.get(cursorKey))
        const started = Date.now()
        const counts = yield* pullPages(store, meta, org, cursorKey, { ...options, since }).pipe(
          Effect.provide(clientLayer(options.remote))
        )
        return { server: url, ...counts, seconds: (Date.now() - started) / 1000 } satisfies PullReport
      })

    return { push, pull }
  })
}) {}

/**
 * Prints how a push ended and fails when events are left undelivered or
 * were rejected.
 *
 * @since 0.1.0
 */
export const renderPush = (report: PushReport, json: boolean): Effect.Effect<void, CommandError> =>
  Effect.gen(function*() {
    const { rejectedLocally, summary } = report
    for (const line of rejectedLocally.slice(0, 10)) yield* Console.error(`rejected: ${line}`)
    for (const row of report.deadRows) yield* Console.error(`rejected by the server: ${row.external_id}: ${row.error}`)
    if (json) yield* Console.log(JSON.stringify(summary))
    else {
      yield* Console.log(
        `pushed to ${summary.server}: ${Output.count(summary.delivered)} delivered, ${
          Output.count(summary.duplicates)
        } already there` +
          (summary.rejected > 0 ? `, ${Output.count(summary.rejected)} rejected` : "") +
          (summary.skipped > rejectedLocally.length
            ? `, ${Output.count(summary.skipped - rejectedLocally.length)} without a customer skipped`
            : "") +
          ` in ${summary.seconds.toFixed(1)}s`
      )
    }
    if (summary.pending > 0) {
      return yield* new CommandError({
        message: `${Output.count(summary.pending)} events are not delivered yet (${
          report.problem ?? "the server kept failing"
        }); run push again to resume`
      })
    }
    if (summary.rejected > 0) {
      return yield* new CommandError({ message: `${Output.count(summary.rejected)} events were rejected` })
    }
  })

/**
 * Prints how a pull ended.
 *
 * @since 0.1.0
 */
export const renderPull = (report: PullReport, json: boolean): Effect.Effect<void> =>
  Console.log(
    json
      ? JSON.stringify(report)
      : `pulled from ${report.server}: ${Output.count(report.inserted)} new events, ${
        Output.count(report.duplicates)
      } already stored in ${report.seconds.toFixed(1)}s`
  )
