/**
 * The `EventStore` port: where events live so that they can be listed,
 * counted and metered. Every operation is scoped to one organization.
 *
 * Adapters: `MemoryEventStore.layerMemory` (the reference, built on core's
 * pure evaluator, in this entry) and `SqlEventStore` (`layerSqlite`,
 * `layerPg`, or `layer` over any `@effect/sql` client of those dialects), in
 * the entry `@polar-events/store/sql`, which alone loads database drivers.
 *
 * `ingest` takes events already checked with core's rules
 * (`EventCreate.Checked`, from `EventCreate.validate` or `validateEvents`):
 * the program checks a batch once, where it enters, and the store does not
 * check it again. `validateAndIngest` does both for input still unchecked.
 *
 * @since 0.1.0
 */
import { EventCreate, type ValidationError } from "@polar-events/core"
import { Context, Effect, Either, type Option, Schema, type Stream } from "effect"
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
 * How many events one organization holds (`stats`).
 *
 * @since 0.1.0
 */
export interface OrganizationStats {
  readonly organizationId: string
  readonly events: number
}

/**
 * What a store holds (`stats`): every event of every organization, and each
 * organization with events, by id.
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly events: number
  readonly organizations: ReadonlyArray<OrganizationStats>
}

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
   * Stores a batch of checked events atomically. Events get `source:
   * "user"`, a fresh UUID v7 id and `timestamp` now unless given. An
   * `externalId` seen before in the organization (or earlier in the batch)
   * makes the event a duplicate: the first write wins, forever. Events
   * without `externalId` are never duplicates. An event naming another
   * `organizationId` rejects the batch (`RequestValidationError`) and nothing
   * is written. The store may keep the events' objects: do not change them
   * afterwards.
   */
  readonly ingest: (
    organizationId: T.OrganizationId | string,
    events: ReadonlyArray<EventCreate.Checked>
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
  /**
   * How many events the store holds, in all and per organization (ordered
   * by id): the one operation across organizations, for operators.
   */
  readonly stats: Effect.Effect<Stats, EventStoreError>
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

/**
 * Checks raw events with core's rules (`EventCreate.validateEvents` and its
 * options; `organizationToken` defaults to false here, so an event may name
 * the store's organization) and ingests them: for input not yet checked,
 * such as a script's or a test's. Any invalid event rejects the whole batch
 * with every error and nothing is written.
 *
 * @since 0.1.0
 */
export const validateAndIngest = (
  store: Service,
  organizationId: T.OrganizationId | string,
  events: ReadonlyArray<T.EventCreate | unknown>,
  options?: EventCreate.ValidateEventsOptions
): Effect.Effect<IngestResult, ValidationError.RequestValidationError | EventStoreError> =>
  Effect.suspend(() => {
    const checked = EventCreate.validateEvents(events, { ...options, organizationToken: options?.organizationToken ?? false })
    return Either.isLeft(checked) ? Effect.fail(checked.left) : store.ingest(organizationId, checked.right)
  })
