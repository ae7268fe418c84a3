/**
 * The list endpoints of Polar's events API: the query parameters of
 * `GET /v1/events/` and `GET /v1/events/names`, and the pages they return.
 *
 * Each query is a Schema (domain camelCase ⇄ JSON snake_case, for storing or
 * logging a query) plus a search-parameter codec with Polar's encoding:
 * - list parameters are repeated keys (`?name=a&name=b`); scalar parameters
 *   repeated take their last value, as FastAPI does; unknown keys are ignored;
 * - `metadata` is deepObject style, `?metadata[key]=value` (repeatable);
 * - `filter` is a JSON string holding a meter `Filter`;
 * - timestamps must carry a zone offset (`timezone_aware` otherwise); both
 *   bounds are exclusive;
 * - `limit` above 100 is silently 100; `page` >= 1; `depth` 0..5;
 * - `query` needs `organization_id` and at least 3 characters (events only);
 * - UUIDs are read as pydantic reads them (hyphenated, bare, `{…}`,
 *   `urn:uuid:…`), must be version 4, and come back lowercase hyphenated.
 *
 * Problems are reported all at once as a `RequestValidationError` with Polar's
 * 422 details, located at `["query", key]` (`["query", key, i]` for the i-th
 * value of a list parameter, `["query", "filter", ...path]` inside a filter).
 *
 * @since 0.1.0
 */
import { type Either, Schema } from "effect"
import { CustomerId, EventId, OrganizationId } from "./Ids.js"
import * as internal from "./internal/query.js"
import * as Meter from "./Meter.js"
import { EventSource } from "./Event.js"
import * as Timestamp from "./Timestamp.js"
import type { RequestValidationError } from "./ValidationError.js"

/** Where an event comes from: ingested (`user`) or made by Polar (`system`). @since 0.1.0 */
export { EventSource }

/** The sort keys of `GET /v1/events/` (`-` = descending). @since 0.1.0 */
export const EventSortProperty = Schema.Literal("timestamp", "-timestamp").annotations({
  identifier: "EventSortProperty"
})
/** @since 0.1.0 */
export type EventSortProperty = typeof EventSortProperty.Type

/** The sort keys of `GET /v1/events/names` (`-` = descending). @since 0.1.0 */
export const EventNamesSortProperty = Schema.Literal(
  "name",
  "-name",
  "occurrences",
  "-occurrences",
  "first_seen",
  "-first_seen",
  "last_seen",
  "-last_seen"
).annotations({ identifier: "EventNamesSortProperty" })
/** @since 0.1.0 */
export type EventNamesSortProperty = typeof EventNamesSortProperty.Type

/** The largest page Polar serves; a larger `limit` is silently this. @since 0.1.0 */
export const MAX_LIMIT = 100
/** The page size when `limit` is not given. @since 0.1.0 */
export const DEFAULT_LIMIT = 10

const uuid4 = <A extends string>(schema: Schema.Schema<A, string>): Schema.Schema<A, string> =>
  schema.pipe(
    Schema.filter((s: string) => s[14] === "4", { message: () => "UUID version 4 expected" })
  ).annotations({ arbitrary: () => (fc) => fc.uuid({ version: 4 }).map((s) => s as A) })

const QueryTimestamp = Timestamp.Timestamp.annotations({
  arbitrary: () => (fc) =>
    fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
})

const NonEmpty = <A, I>(item: Schema.Schema<A, I>) => Schema.NonEmptyArray(item)

/**
 * A key of `metadata[key]`: non-empty, without `]`.
 *
 * @since 0.1.0
 */
export const MetadataKey = Schema.String.pipe(Schema.minLength(1), Schema.pattern(/^[^\]]+$/)).annotations({
  arbitrary: () => (fc) => fc.stringMatching(/^[^\]]+$/).filter((k) => k !== "__proto__")
})

/** Whether decoding assigned a `__proto__` key, which replaces the object's prototype instead of adding a key. */
const keptEveryKey = (r: object): boolean => {
  const proto = Object.getPrototypeOf(r)
  return proto === Object.prototype || proto === null
}

/**
 * `metadata[key]=value` pairs: values of a key are OR-ed, keys AND-ed. At
 * least one key (no keys is written by leaving `metadata` out). The JSON form
 * refuses a `__proto__` key (ingest refuses it as a metadata key too) rather
 * than lose that filter and widen the query; `decodeSearchParams` keeps it,
 * as Polar does.
 *
 * @since 0.1.0
 */
export const MetadataQuery = Schema.Record({ key: MetadataKey, value: NonEmpty(Schema.String) }).pipe(
  Schema.filter(keptEveryKey, { message: () => "__proto__ is not allowed as a metadata key" }),
  Schema.filter((r) => Object.keys(r).length > 0, { message: () => "Expected at least one metadata key" })
).annotations({ identifier: "MetadataQuery" })
/** @since 0.1.0 */
export type MetadataQuery = typeof MetadataQuery.Type

const Limit = Schema.Int.pipe(Schema.between(1, MAX_LIMIT))
const Page = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))

const optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })

const optionalFrom = <A, I>(schema: Schema.Schema<A, I>, key: string) =>
  optional(schema).pipe(Schema.fromKey(key))

/**
 * The parameters of `GET /v1/events/`. `sorting`, `page` and `limit` have
 * Polar's defaults (`["-timestamp"]`, 1, 10), so `ListEventsQuery.make({})`
 * is the default listing. `sorting` is a list, as in the spec; Polar orders
 * by the direction of its first criterion only (see `timestampOrder`).
 * `cursor` is this library's extension for stores that page by key;
 * `cursorPagination` is Polar's hidden `cursor_pagination`.
 *
 * @since 0.1.0
 */
export const ListEventsQuery = Schema.Struct({
  filter: optional(Meter.Filter),
  startTimestamp: optionalFrom(QueryTimestamp, "start_timestamp"),
  endTimestamp: optionalFrom(QueryTimestamp, "end_timestamp"),
  organizationId: optionalFrom(NonEmpty(uuid4(OrganizationId)), "organization_id"),
  customerId: optionalFrom(NonEmpty(uuid4(CustomerId)), "customer_id"),
  externalCustomerId: optionalFrom(NonEmpty(Schema.String), "external_customer_id"),
  meterId: optionalFrom(uuid4(Schema.UUID), "meter_id"),
  name: optional(NonEmpty(Schema.String)),
  source: optional(NonEmpty(EventSource)),
  query: optional(Schema.String.pipe(Schema.minLength(3))),
  // any UUID version: Polar's ids are v4, a local store's are v7
  parentId: optionalFrom(EventId, "parent_id"),
  depth: optional(Schema.Int.pipe(Schema.between(0, 5))),
  metadata: optional(MetadataQuery),
  sorting: Schema.optionalWith(NonEmpty(EventSortProperty), { default: () => ["-timestamp"] as const }),
  page: Schema.optionalWith(Page, { default: () => 1 }),
  limit: Schema.optionalWith(Limit, { default: () => DEFAULT_LIMIT }),
  cursor: optional(Schema.String),
  cursorPagination: optionalFrom(Schema.Boolean, "cursor_pagination")
}).annotations({ identifier: "ListEventsQuery" })
/** @since 0.1.0 */
export interface ListEventsQuery extends Schema.Schema.Type<typeof ListEventsQuery> {}
/** @since 0.1.0 */
export interface ListEventsQueryEncoded extends Schema.Schema.Encoded<typeof ListEventsQuery> {}

/**
 * The parameters of `GET /v1/events/names`. `sorting` defaults to
 * `["-last_seen"]`, `page` to 1, `limit` to 10.
 *
 * @since 0.1.0
 */
export const ListEventNamesQuery = Schema.Struct({
  organizationId: optionalFrom(NonEmpty(uuid4(OrganizationId)), "organization_id"),
  customerId: optionalFrom(NonEmpty(uuid4(CustomerId)), "customer_id"),
  externalCustomerId: optionalFrom(NonEmpty(Schema.String), "external_customer_id"),
  source: optional(NonEmpty(EventSource)),
  query: optional(Schema.String),
  sorting: Schema.optionalWith(NonEmpty(EventNamesSortProperty), { default: () => ["-last_seen"] as const }),
  page: Schema.optionalWith(Page, { default: () => 1 }),
  limit: Schema.optionalWith(Limit, { default: () => DEFAULT_LIMIT })
}).annotations({ identifier: "ListEventNamesQuery" })
/** @since 0.1.0 */
export interface ListEventNamesQuery extends Schema.Schema.Type<typeof ListEventNamesQuery> {}
/** @since 0.1.0 */
export interface ListEventNamesQueryEncoded extends Schema.Schema.Encoded<typeof ListEventNamesQuery> {}

/** One row of `GET /v1/events/names`: an event name and how often it was seen. @since 0.1.0 */
export const EventName = Schema.Struct({
  name: Schema.String,
  label: Schema.String,
  source: EventSource,
  occurrences: Schema.Int,
  firstSeen: Schema.propertySignature(Timestamp.Timestamp).pipe(Schema.fromKey("first_seen")),
  lastSeen: Schema.propertySignature(Timestamp.Timestamp).pipe(Schema.fromKey("last_seen"))
}).annotations({ identifier: "EventName" })
/** @since 0.1.0 */
export type EventName = typeof EventName.Type

/** Page-number pagination: how many items match and the last page. @since 0.1.0 */
export const Pagination = Schema.Struct({
  totalCount: Schema.propertySignature(Schema.Int).pipe(Schema.fromKey("total_count")),
  maxPage: Schema.propertySignature(Schema.Int).pipe(Schema.fromKey("max_page"))
}).annotations({ identifier: "Pagination" })
/** @since 0.1.0 */
export type Pagination = typeof Pagination.Type

/** Polar's pagination for a count and a page size: `maxPage = ceil(totalCount / limit)`. @since 0.1.0 */
export const makePagination = (totalCount: number, limit: number): Pagination => ({
  totalCount,
  maxPage: Math.ceil(totalCount / limit)
})

/** Cursor pagination (Polar's hidden `cursor_pagination=true`): whether more follows. @since 0.1.0 */
export const CursorPagination = Schema.Struct({
  hasNextPage: Schema.propertySignature(Schema.Boolean).pipe(Schema.fromKey("has_next_page"))
}).annotations({ identifier: "CursorPagination" })
/** @since 0.1.0 */
export type CursorPagination = typeof CursorPagination.Type

/** A page of items with page-number pagination (Polar's `ListResource[T]`). @since 0.1.0 */
export const ListResource = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Struct({ items: Schema.Array(item), pagination: Pagination })

/** A page of items with cursor pagination (`{items, pagination: {has_next_page}}`). @since 0.1.0 */
export const CursorListResource = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Struct({ items: Schema.Array(item), pagination: CursorPagination })

/** The order of a listing by time: the direction of its first `sorting` criterion. @since 0.1.0 */
export const timestampOrder = (query: Pick<ListEventsQuery, "sorting">): "asc" | "desc" =>
  query.sorting[0] === "timestamp" ? "asc" : "desc"

const SOURCES = EventSource.literals
const EVENT_SORTS = EventSortProperty.literals
const NAMES_SORTS = EventNamesSortProperty.literals

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

type Common = Mutable<Partial<Pick<ListEventNamesQuery, "organizationId" | "customerId" | "externalCustomerId">>>

const decodeCommon = (d: internal.Decoder, out: Common) => {
  const organizationId = d.list("organization_id", d.uuid4)
  if (organizationId !== undefined) out.organizationId = organizationId as unknown as Common["organizationId"] & {}
  const customerId = d.list("customer_id", d.uuid4)
  if (customerId !== undefined) out.customerId = customerId as unknown as Common["customerId"] & {}
  const externalCustomerId = d.all("external_customer_id")
  if (externalCustomerId !== undefined) out.externalCustomerId = externalCustomerId as [string, ...Array<string>]
}

/**
 * Reads the query string of `GET /v1/events/` (e.g. a `URLSearchParams`).
 *
 * @since 0.1.0
 */
export const decodeSearchParams = (
  entries: Iterable<readonly [string, string]>
): Either.Either<ListEventsQuery, RequestValidationError> => {
  const d = new internal.Decoder(internal.collect(entries))
  const out: Mutable<Partial<ListEventsQuery>> = {}
  const filterText = d.last("filter")
  if (filterText !== undefined) {
    const filter = Meter.parseFilterJson(filterText, ["query", "filter"])
    if (filter._tag === "Right") out.filter = filter.right
    else d.details.push(...filter.left)
  }
  const start = d.timestamp("start_timestamp")
  if (start !== undefined) out.startTimestamp = start
  const end = d.timestamp("end_timestamp")
  if (end !== undefined) out.endTimestamp = end
  decodeCommon(d, out)
  const meterId = d.last("meter_id")
  if (meterId !== undefined) {
    const id = d.uuid4(meterId, ["meter_id"])
    if (id !== undefined) out.meterId = id
  }
  const name = d.all("name")
  if (name !== undefined) out.name = name as [string, ...Array<string>]
  const source = d.list("source", d.literal(SOURCES))
  if (source !== undefined) out.source = source
  const query = d.last("query")
  if (query !== undefined) {
    if (!d.has("organization_id")) {
      d.fail(["query"], "query", "Query is only supported when organization_id is provided.", query)
    }
    if (query.length < 3) {
      d.fail(["query"], "string_too_short", "String should have at least 3 characters", query, { min_length: 3 })
    }
    out.query = query
  }
  const parentId = d.last("parent_id")
  if (parentId !== undefined) {
    const id = d.uuid(parentId, ["parent_id"])
    if (id !== undefined) out.parentId = id as EventId
  }
  const depth = d.int("depth", { ge: 0, le: 5 })
  if (depth !== undefined) out.depth = depth
  const metadata = d.metadata()
  if (metadata !== undefined) out.metadata = metadata
  out.sorting = d.list("sorting", d.literal(EVENT_SORTS)) ?? ["-timestamp"]
  out.page = d.int("page", { gt: 0 }) ?? 1
  out.limit = d.int("limit", { gt: 0, clamp: MAX_LIMIT }) ?? DEFAULT_LIMIT
  const cursor = d.last("cursor")
  if (cursor !== undefined) out.cursor = cursor
  const cursorPagination = d.bool("cursor_pagination")
  if (cursorPagination !== undefined) out.cursorPagination = cursorPagination
  return d.result(out as ListEventsQuery)
}

const pushDefaults = (
  out: Array<[string, string]>,
  q: { readonly sorting: ReadonlyArray<string>; readonly page: number; readonly limit: number },
  defaultSorting: ReadonlyArray<string>
) => {
  if (q.page !== 1) out.push(["page", String(q.page)])
  if (q.limit !== DEFAULT_LIMIT) out.push(["limit", String(q.limit)])
  if (!internal.sameList(q.sorting, defaultSorting)) internal.pushAll(out, "sorting", q.sorting)
}

const encodeFilter = Schema.encodeSync(Meter.Filter)

/**
 * Writes a `ListEventsQuery` as the query string a client sends (pass it to
 * `new URLSearchParams(...)`). Defaults are left out.
 *
 * @since 0.1.0
 */
export const encodeSearchParams = (query: ListEventsQuery): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  if (query.filter !== undefined) out.push(["filter", JSON.stringify(encodeFilter(query.filter))])
  if (query.startTimestamp !== undefined) out.push(["start_timestamp", Timestamp.format(query.startTimestamp)])
  if (query.endTimestamp !== undefined) out.push(["end_timestamp", Timestamp.format(query.endTimestamp)])
  internal.pushAll(out, "organization_id", query.organizationId)
  internal.pushAll(out, "customer_id", query.customerId)
  internal.pushAll(out, "external_customer_id", query.externalCustomerId)
  if (query.meterId !== undefined) out.push(["meter_id", query.meterId])
  internal.pushAll(out, "name", query.name)
  internal.pushAll(out, "source", query.source)
  if (query.query !== undefined) out.push(["query", query.query])
  if (query.parentId !== undefined) out.push(["parent_id", query.parentId])
  if (query.depth !== undefined) out.push(["depth", String(query.depth)])
  internal.pushMetadata(out, query.metadata)
  pushDefaults(out, query, ["-timestamp"])
  if (query.cursor !== undefined) out.push(["cursor", query.cursor])
  if (query.cursorPagination !== undefined) out.push(["cursor_pagination", String(query.cursorPagination)])
  return out
}

/**
 * Reads the query string of `GET /v1/events/names`.
 *
 * @since 0.1.0
 */
export const decodeNamesSearchParams = (
  entries: Iterable<readonly [string, string]>
): Either.Either<ListEventNamesQuery, RequestValidationError> => {
  const d = new internal.Decoder(internal.collect(entries))
  const out: Mutable<Partial<ListEventNamesQuery>> = {}
  decodeCommon(d, out)
  const source = d.list("source", d.literal(SOURCES))
  if (source !== undefined) out.source = source
  const query = d.last("query")
  if (query !== undefined) out.query = query
  out.sorting = d.list("sorting", d.literal(NAMES_SORTS)) ?? ["-last_seen"]
  out.page = d.int("page", { gt: 0 }) ?? 1
  out.limit = d.int("limit", { gt: 0, clamp: MAX_LIMIT }) ?? DEFAULT_LIMIT
  return d.result(out as ListEventNamesQuery)
}

/**
 * Writes a `ListEventNamesQuery` as the query string a client sends.
 * Defaults are left out.
 *
 * @since 0.1.0
 */
export const encodeNamesSearchParams = (query: ListEventNamesQuery): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  internal.pushAll(out, "organization_id", query.organizationId)
  internal.pushAll(out, "customer_id", query.customerId)
  internal.pushAll(out, "external_customer_id", query.externalCustomerId)
  internal.pushAll(out, "source", query.source)
  if (query.query !== undefined) out.push(["query", query.query])
  pushDefaults(out, query, ["-last_seen"])
  return out
}
