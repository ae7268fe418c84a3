/**
 * Core's types, derived from its functions. Core's bundled `.d.ts` keeps
 * only one meaning of a name that is both a schema and a type (sometimes the
 * schema, sometimes the type), so types are read off function signatures,
 * which survive bundling either way.
 *
 * @internal
 */
import type { Event as CoreEvent, EventCreate as CoreEventCreate, EventQuery, Ids, Meter } from "@polar-events/core"

/** @internal */
export type Event = Parameters<typeof CoreEvent.isUserEvent>[0]
/** @internal */
export type EventCreate = Parameters<typeof CoreEventCreate.isCustomer>[0]
/** @internal */
export type Metadata = NonNullable<EventCreate["metadata"]>
/** @internal */
export interface EventsIngestResponse {
  readonly inserted: number
  readonly duplicates: number
}
/** @internal */
export type Filter = Parameters<typeof Meter.matches>[0]
/** @internal */
export type FilterClause = Parameters<typeof Meter.clauseMatches>[0]
/** @internal */
export type Aggregation = Parameters<typeof Meter.aggregate>[0]
/** @internal */
export type Interval = Parameters<typeof Meter.truncate>[1]
/** @internal */
export interface MeterQuantities {
  readonly quantities: ReadonlyArray<{ readonly timestamp: Date; readonly quantity: number }>
  readonly total: number
}
/** @internal */
export type ListEventsQuery = Parameters<typeof EventQuery.encodeSearchParams>[0]
/** @internal */
export type ListEventNamesQuery = Parameters<typeof EventQuery.encodeNamesSearchParams>[0]
/** @internal */
export type EventSource = "user" | "system"
/** @internal */
export type EventNamesSortProperty = ListEventNamesQuery["sorting"][number]
/** @internal */
export interface EventName {
  readonly name: string
  readonly label: string
  readonly source: EventSource
  readonly occurrences: number
  readonly firstSeen: Date
  readonly lastSeen: Date
}
/** @internal */
export type Pagination = ReturnType<typeof EventQuery.makePagination>
/** @internal */
export interface CursorPagination {
  readonly hasNextPage: boolean
}
/** @internal */
export type OrganizationId = Ids.OrganizationId
/** @internal */
export type EventId = Ids.EventId
