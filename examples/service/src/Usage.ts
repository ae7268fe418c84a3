/**
 * Usage metering: one `api.request` event per request, recorded through the
 * client's `Ingester` interface with the client's SQLite `Outbox` behind it,
 * and the meter that counts those events, read from an `EventStore`.
 *
 *   request -> Ingester.offer -> Outbox (committed to SQLite; offers from
 *              concurrent requests share one transaction)
 *           -> EventsClient (sent to Polar in batches, retried, exactly once
 *              by external_id, resumed after a crash)
 *
 * Handlers only know `Ingester`: the layer decides that offering means
 * committing to the outbox, so a response is sent once its event is durable.
 * (`Ingester.layer()` alone would batch in memory instead: faster to
 * acknowledge, but a crash loses what is queued.)
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { type ClientError, type EventsClient, Ingester, Outbox } from "@polar-events/client"
import type { Meter } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { Duration, Effect, Layer } from "effect"

/** The event every request records. */
export const EVENT_NAME = "api.request"

/** The meter: how many `api.request` events. */
export const meter: { readonly filter: Meter.Filter; readonly aggregation: Meter.Aggregation } = {
  filter: { conjunction: "and", clauses: [{ property: "name", operator: "eq", value: EVENT_NAME }] },
  aggregation: { func: "count" }
}

/** Options of the pipeline. */
export interface Options {
  /** the outbox's SQLite file */
  readonly outboxFile: string
  /** how long a committed event may wait for its batch to Polar to fill (default 200 ms) */
  readonly maxBatchAge?: Duration.DurationInput | undefined
}

/**
 * The `Ingester` over the outbox: `offer` returns once the event is
 * committed. A failing disk is a defect (the request fails with a 500).
 * Its stats are the outbox's: `sent` = delivered to Polar, `failed` =
 * rejected by Polar for good, `queued` = committed and not yet delivered,
 * `batches` = outbox commits; nothing is ever dropped.
 */
export const layerIngester: Layer.Layer<Ingester.Ingester, never, Outbox.Outbox> = Layer.effect(
  Ingester.Ingester,
  Effect.map(Outbox.Outbox, (outbox) =>
    Ingester.Ingester.of({
      offer: (event) => outbox.offer(event).pipe(Effect.as(true), Effect.catchTag("SqlError", Effect.die)),
      offerAll: (events) => outbox.offerAll(events).pipe(Effect.as(events.length), Effect.catchTag("SqlError", Effect.die)),
      flush: outbox.flush,
      stats: Effect.map(outbox.stats, (s) => ({
        sent: s.delivered,
        duplicates: s.duplicates,
        retried: s.retried,
        failed: s.dead,
        dropped: 0,
        batches: s.commits,
        queued: s.pending,
        inFlight: 0
      }))
    }))
)

/**
 * The recording pipeline: the `Ingester` over the SQLite `Outbox`, over an
 * `EventsClient` (which says where Polar is).
 */
export const layer = (
  options: Options
): Layer.Layer<Ingester.Ingester | Outbox.Outbox, unknown, EventsClient.EventsClient> => {
  const outbox = Outbox.layer({ maxBatchAge: options.maxBatchAge ?? Duration.millis(200) }).pipe(
    Layer.provide(SqliteClient.layer({ filename: options.outboxFile }))
  )
  return layerIngester.pipe(Layer.provideMerge(outbox))
}

/** Records one request of a customer. */
export const record = (
  customer: string,
  route: string
): Effect.Effect<void, ClientError.ValidationFailed | ClientError.PayloadTooLarge, Ingester.Ingester> =>
  Effect.flatMap(Ingester.Ingester, (ingester) =>
    ingester.offer({ name: EVENT_NAME, externalCustomerId: customer, metadata: { route } }))

/** Sends everything recorded so far to Polar, and waits. */
export const flush: Effect.Effect<void, never, Ingester.Ingester> = Effect.flatMap(Ingester.Ingester, (i) => i.flush)

/** A period of the meter, optionally for one customer. */
export interface UsageQuery {
  readonly organizationId: string
  readonly start: Date
  readonly end: Date
  readonly interval: Meter.Interval
  readonly timezone?: string | undefined
  readonly customer?: string | undefined
}

/** The meter's quantities over a period, from the store. */
export const quantities = (query: UsageQuery) =>
  Effect.flatMap(EventStore.EventStore, (store) =>
    store.quantities(query.organizationId, {
      ...meter,
      start: query.start,
      end: query.end,
      interval: query.interval,
      timezone: query.timezone,
      externalCustomerId: query.customer === undefined ? undefined : [query.customer]
    }))
