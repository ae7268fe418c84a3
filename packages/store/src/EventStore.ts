/**
 * The `EventStore` port: where events live so that they can be listed,
 * counted and metered. Every operation is scoped to one organization.
 *
 * Adapters: `MemoryEventStore.layerMemory` (the reference, built on core's
 * pure evaluator) and `SqlEventStore` (`layerSqlite`, `layerPg`, or `layer`
 * over any `@effect/sql` client of those dialects).
 *
 * @since 0.1.0
 */
import type { EventCreate, ValidationError } from "@polar-events/core"
import { Context, type Effect, type Option, Schema, type Stream } from "effect"
import type * as T from "./internal/types.js"

/**
 * A storage failure: the database could not be reached, a statement failed,
 * a transaction could not commit. Never a validation problem (those are
 * `RequestValidationError`).
 *
 * @since 0.1.0
 */
export class EventStoreError extends Schema.TaggedError<EventStoreError>()("EventStoreError", {
  operation: Schema.String,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

/**
 * The answer of `ingest` and `insert`: how many events were written and how
 * many were skipped as duplicates (`inserted + duplicates` is the batch size).
 *
 * @since 0.1.0
 */
export type IngestResult = T.EventsIngestResponse

/**
 * Options of `ingest`: core's validation options (`now`, `clockSkew`,
 * `organizationToken`, `forbidExtra`, and `reuse` for a caller that never
 * changes the events afterwards, such as a server that parsed them: the
 * memory store may then keep their metadata objects instead of copies).
 *
 * @since 0.1.0
 */
export interface IngestOptions extends EventCreate.ValidateEventsOptions {}

/**
 * The query of `list` and `stream`: core's `ListEventsQuery`, every field
 * optional (`sorting` defaults to `-timestamp`, `page` to 1, `limit` to 10;
 * a `limit` above 100 is 100).
 *
 * Two ways to page:
 * - page numbers (`page`, `limit`), answered with Polar's
 *   `{totalCount, maxPage}`;
 * - an opaque cursor (our extension): set `cursorPagination: true` for the
 *   first page, then pass the returned `nextCursor` as `cursor`. Cursor pages
 *   are keyed by `(timestamp, id)`, so they stay stable while events are
 *   inserted: nothing is skipped or repeated.
 *
 * @since 0.1.0
 */
export type ListQuery = { readonly [K in keyof T.ListEventsQuery]?: T.ListEventsQuery[K] }

/**
 * The query of `names`: core's `ListEventNamesQuery`, every field optional
 * (`sorting` defaults to `-last_seen`).
 *
 * @since 0.1.0
 */
export type NamesQuery = { readonly [K in keyof T.ListEventNamesQuery]?: T.ListEventNamesQuery[K] }

/**
 * A page of events. With page numbers `pagination` is Polar's
 * `{totalCount, maxPage}`; in cursor mode it is `{hasNextPage}` and
 * `nextCursor` continues after the last item.
 *
 * @since 0.1.0
 */
export interface EventsPage {
  readonly items: ReadonlyArray<T.Event>
  readonly pagination: T.Pagination | T.CursorPagination
  readonly nextCursor?: string
}

/**
 * A page of event names (`GET /v1/events/names`).
 *
 * @since 0.1.0
 */
export interface NamesPage {
  readonly items: ReadonlyArray<T.EventName>
  readonly pagination: T.Pagination
}

/**
 * The query of `quantities`: a meter's filter and aggregation over a period,
 * bucketed by `interval` in `timezone` (IANA, default `UTC`), optionally for
 * some customers (an event counts when its `customer_id` or its
 * `external_customer_id` is listed).
 *
 * @since 0.1.0
 */
export interface QuantitiesQuery {
  readonly filter?: T.Filter | undefined
  readonly aggregation: T.Aggregation
  readonly start: Date
  readonly end: Date
  readonly interval: T.Interval
  readonly timezone?: string | undefined
  readonly customerId?: ReadonlyArray<string> | undefined
  readonly externalCustomerId?: ReadonlyArray<string> | undefined
}

/**
 * The operations of a store.
 *
 * @since 0.1.0
 */
export interface Service {
  /**
   * Validates a batch with core's rules and stores it atomically: any
   * invalid event rejects the whole batch with every error and nothing is
   * written. Events get `source: "user"`, a fresh UUID v7 id and `timestamp`
   * now unless given. An `externalId` seen before in the organization (or
   * earlier in the batch) makes the event a duplicate: the first write wins,
   * forever. Events without `externalId` are never duplicates.
   */
  readonly ingest: (
    organizationId: T.OrganizationId | string,
    events: ReadonlyArray<T.EventCreate | unknown>,
    options?: IngestOptions
  ) => Effect.Effect<IngestResult, ValidationError.RequestValidationError | EventStoreError>
  /**
   * Stores events as they are (their own id, source, organization, system
   * events included): the bulk path for import and for pulling from Polar.
   * Idempotent by id. Every event is checked against core's `Event` schema
   * first; an invalid one rejects the call and nothing is written. One call
   * is one transaction: pass large batches (10,000 to 100,000).
   */
  readonly insert: (
    events: Iterable<T.Event>
  ) => Effect.Effect<IngestResult, ValidationError.RequestValidationError | EventStoreError>
  /** One event of the organization by id. */
  readonly get: (
    organizationId: T.OrganizationId | string,
    id: T.EventId | string
  ) => Effect.Effect<Option.Option<T.Event>, EventStoreError>
  /**
   * A page of events with Polar's list semantics (`GET /v1/events/`):
   * filters, order by timestamp with id as tiebreak, page numbers or a
   * cursor.
   */
  readonly list: (
    organizationId: T.OrganizationId | string,
    query?: ListQuery
  ) => Effect.Effect<EventsPage, ValidationError.RequestValidationError | EventStoreError>
  /**
   * Every event matching the query's filters, in its order, in constant
   * memory (keyset pages); `page`, `limit` and `cursor` are ignored.
   */
  readonly stream: (
    organizationId: T.OrganizationId | string,
    query?: ListQuery
  ) => Stream.Stream<T.Event, ValidationError.RequestValidationError | EventStoreError>
  /**
   * The event names seen in the organization, with how often and when
   * (`GET /v1/events/names`), from a summary kept up to date at ingest.
   */
  readonly names: (
    organizationId: T.OrganizationId | string,
    query?: NamesQuery
  ) => Effect.Effect<NamesPage, EventStoreError>
  /**
   * A meter's quantities (`GET /v1/meters/{id}/quantities`) with Polar's
   * semantics, as core's `Meter.quantities` computes them.
   */
  readonly quantities: (
    organizationId: T.OrganizationId | string,
    query: QuantitiesQuery
  ) => Effect.Effect<T.MeterQuantities, ValidationError.RequestValidationError | EventStoreError>
}

type Service_ = Service

/**
 * @since 0.1.0
 */
export declare namespace EventStore {
  /**
   * The operations of a store (the same as the module's `Service`).
   *
   * @since 0.1.0
   */
  export interface Service extends Service_ {}
}

/**
 * The service tag of the store.
 *
 * @since 0.1.0
 */
export class EventStore extends Context.Tag("@polar-events/store/EventStore")<EventStore, EventStore.Service>() {}
