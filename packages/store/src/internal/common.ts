/**
 * What every adapter shares: the stored shape of an event, the conversions
 * from `EventCreate` and `Event` and back, list query normalization, cursors
 * and the free-text search rule.
 *
 * @internal
 */
import * as Core from "@polar-events/core"
import {
  Event,
  EventCreate,
  EventQuery,
  Meter,
  SystemEvent,
  Timestamp,
  ValidationError
} from "@polar-events/core"
import { Either, ParseResult, Schema } from "effect"
import type { ListQuery, NamesQuery, OrganizationStats, QuantitiesQuery, Stats } from "../EventStore.js"
import { FLAG_REF_ID_ONLY } from "./parents.js"
import type * as T from "./types.js"

/** The flag bits of optional wire keys that are present on an event. @internal */
export const FLAG_MEMBER_ID = 1
/** @internal */
export const FLAG_EXTERNAL_MEMBER_ID = 2
/** @internal */
export const FLAG_PARENT_ID = 4
/** @internal */
export const FLAG_CHILD_COUNT = 8

/**
 * An event as the store keeps it: the columns of `pe_events`, with the
 * metadata still an object.
 *
 * @internal
 */
export interface Stored {
  readonly orgId: string
  readonly id: string
  readonly ts: number
  readonly name: string
  readonly source: "user" | "system"
  readonly customerId: string | null
  readonly externalCustomerId: string | null
  readonly memberId: string | null
  readonly externalMemberId: string | null
  readonly externalId: string | null
  /** the parent as output (`parentId`), null while an ingested parent is unresolved */
  parentId: string | null
  /** the parent reference still to resolve (an event id or an external id), else null */
  parentRef: string | null
  /** the number of ancestors */
  depth: number
  readonly childCount: number | null
  readonly flags: number
  /** the label when it differs from the default one */
  readonly label: string | null
  /** the customer as wire JSON text */
  readonly customer: string | null
  readonly metadata: Record<string, unknown>
  readonly ingestedAt: number
  /** the id as 16 bytes, when already at hand */
  readonly idBytes?: Uint8Array | undefined
}

/** Lowercase hyphenated id text. @internal */
export const normalizeId = (id: string): string => id.toLowerCase()

/** The label Polar shows for an event name when none is set. @internal */
export const defaultLabel = (source: string, name: string): string =>
  source === "system" ? SystemEvent.labelFor(name) : name

const costAmount = (n: number): string => {
  const s = String(n)
  if (!/e/i.test(s)) return s
  const fixed = n.toFixed(20).replace(/0+$/, "")
  return fixed.endsWith(".") ? fixed.slice(0, -1) : fixed
}

/**
 * Ingest metadata as Polar returns it: `_cost.amount` written as a number
 * comes back as a decimal string.
 *
 * @internal
 */
export const outputMetadata = (metadata: T.Metadata | undefined): Record<string, unknown> => {
  if (metadata === undefined) return {}
  const cost = metadata._cost
  if (cost === undefined || typeof cost.amount === "string") return metadata as Record<string, unknown>
  return { ...metadata, _cost: { ...cost, amount: costAmount(cost.amount) } }
}

/** The stored form of an event to ingest: a fresh time-ordered id, now as default timestamp. @internal */
export const fromCreate = (
  orgId: string,
  event: T.EventCreate,
  id: string,
  nowMicros: number,
  idBytes?: Uint8Array
): Stored => {
  const isCustomer = EventCreate.isCustomer(event)
  let flags = FLAG_PARENT_ID
  let memberId: string | null = null
  let externalMemberId: string | null = null
  if (isCustomer) {
    if (event.memberId !== undefined) {
      flags |= FLAG_MEMBER_ID
      memberId = event.memberId
    }
  } else if (event.externalMemberId !== undefined) {
    flags |= FLAG_EXTERNAL_MEMBER_ID
    externalMemberId = event.externalMemberId
  }
  const parentRef = event.parentId === undefined || event.parentId === null || event.parentId === ""
    ? null
    : event.parentId
  return {
    orgId,
    id,
    ts: event.timestamp === undefined ? nowMicros : Timestamp.toEpochMicros(event.timestamp),
    name: event.name,
    source: "user",
    customerId: isCustomer ? normalizeId(event.customerId) : null,
    externalCustomerId: isCustomer ? null : event.externalCustomerId,
    memberId,
    externalMemberId,
    externalId: event.externalId ?? null,
    parentId: null,
    parentRef,
    depth: 0,
    childCount: null,
    flags,
    label: null,
    customer: null,
    metadata: outputMetadata(event.metadata),
    ingestedAt: nowMicros,
    idBytes
  }
}

// Core's bundled types declare `Customer` as types only; the schema is there at runtime.
const CustomerSchema = (Core as unknown as { readonly Customer: { readonly Customer: Schema.Schema<unknown, unknown> } })
  .Customer.Customer
const decodeCustomer = Schema.decodeUnknownSync(CustomerSchema)
const encodeEvent = Schema.encodeEither(Event.Event)

const hasNul = (s: string | null | undefined) => s != null && s.indexOf("\u0000") !== -1

const deepHasNul = (u: unknown): boolean => {
  if (typeof u === "string") return u.indexOf("\u0000") !== -1
  if (typeof u === "object" && u !== null) {
    for (const k in u) if (k.indexOf("\u0000") !== -1 || deepHasNul((u as Record<string, unknown>)[k])) return true
  }
  return false
}

/**
 * The stored forms of events kept as they are (import, pull). Each event is
 * checked by encoding it with core's `Event` schema; any invalid event
 * rejects the whole call, each problem located at `["events", i, ...]`.
 * NUL characters are refused too: PostgreSQL cannot store them.
 *
 * @internal
 */
export const fromEvents = (
  events: Iterable<T.Event>,
  nowMicros: number
): Either.Either<Array<Stored>, ValidationError.RequestValidationError> => {
  const out: Array<Stored> = []
  const details: Array<ValidationError.ErrorDetail> = []
  let i = 0
  for (const event of events) {
    const encoded = encodeEvent(event)
    if (Either.isLeft(encoded)) {
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(encoded.left)) {
        details.push(ValidationError.makeDetail(
          ["events", i, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
          "value_error",
          issue.message
        ))
      }
    } else {
      const w = encoded.right as Record<string, any>
      const metadata = w.metadata as Record<string, unknown>
      if (
        deepHasNul(metadata) || hasNul(w.name) || hasNul(w.label) || hasNul(w.external_customer_id) ||
        hasNul(w.external_member_id)
      ) {
        details.push(ValidationError.makeDetail(["events", i], "string_nul", "Input must not contain a NUL character."))
      } else {
        let flags = 0
        if (w.member_id !== undefined) flags |= FLAG_MEMBER_ID
        if (w.external_member_id !== undefined) flags |= FLAG_EXTERNAL_MEMBER_ID
        if (w.parent_id !== undefined) flags |= FLAG_PARENT_ID
        if (w.child_count !== undefined) flags |= FLAG_CHILD_COUNT
        const parentId = w.parent_id === undefined || w.parent_id === null ? null : normalizeId(w.parent_id)
        if (parentId !== null) flags |= FLAG_REF_ID_ONLY
        out.push({
          orgId: normalizeId(w.organization_id),
          id: normalizeId(w.id),
          ts: Timestamp.toEpochMicros(event.timestamp),
          name: w.name,
          source: w.source,
          customerId: w.customer_id === null ? null : normalizeId(w.customer_id),
          externalCustomerId: w.external_customer_id,
          memberId: w.member_id ?? null,
          externalMemberId: w.external_member_id ?? null,
          externalId: null,
          parentId,
          parentRef: parentId,
          depth: parentId === null ? 0 : 1,
          childCount: w.child_count ?? null,
          flags,
          label: w.label === defaultLabel(w.source, w.name) ? null : w.label,
          customer: w.customer === null ? null : JSON.stringify(w.customer),
          metadata,
          ingestedAt: nowMicros
        })
      }
    }
    i++
  }
  return details.length > 0 ? Either.left(ValidationError.make(details)) : Either.right(out)
}

/** The domain event of stored columns; the timestamp keeps its microseconds. @internal */
export const toEvent = (
  orgId: string,
  id: string,
  ts: number,
  name: string,
  source: string,
  customerId: string | null,
  externalCustomerId: string | null,
  memberId: string | null,
  externalMemberId: string | null,
  parentId: string | null,
  childCount: number | null,
  flags: number,
  label: string | null,
  customer: string | null,
  metadata: Record<string, unknown>
): T.Event => {
  const e: Record<string, unknown> = {
    id,
    timestamp: Timestamp.fromEpochMicros(ts),
    organizationId: orgId,
    customerId,
    customer: customer === null ? null : decodeCustomer(JSON.parse(customer)),
    externalCustomerId
  }
  if ((flags & FLAG_MEMBER_ID) !== 0) e.memberId = memberId
  if ((flags & FLAG_EXTERNAL_MEMBER_ID) !== 0) e.externalMemberId = externalMemberId
  if ((flags & FLAG_CHILD_COUNT) !== 0) e.childCount = childCount
  if ((flags & FLAG_PARENT_ID) !== 0) e.parentId = parentId
  e.label = label ?? defaultLabel(source, name)
  e.name = name
  e.source = source
  e.metadata = metadata
  return e as unknown as T.Event
}

/** The domain event of a stored one. @internal */
export const storedToEvent = (s: Stored): T.Event =>
  toEvent(
    s.orgId,
    s.id,
    s.ts,
    s.name,
    s.source,
    s.customerId,
    s.externalCustomerId,
    s.memberId,
    s.externalMemberId,
    s.parentId,
    s.childCount,
    s.flags,
    s.label,
    s.customer,
    s.metadata
  )

// ---------------------------------------------------------------------------
// ingest validation
// ---------------------------------------------------------------------------

/**
 * The one check of an ingest batch left to the store: an event naming an
 * organization must name the store's. Undefined when the batch is fine.
 *
 * @internal
 */
export const checkOrganization = (
  orgId: string,
  events: ReadonlyArray<EventCreate.Checked>
): ValidationError.RequestValidationError | undefined => {
  let details: Array<ValidationError.ErrorDetail> | undefined
  for (let i = 0; i < events.length; i++) {
    const o = events[i]!.organizationId
    if (o !== undefined && o !== null && normalizeId(o) !== orgId) {
      if (details === undefined) details = []
      details.push(ValidationError.makeDetail(
        ["body", "events", i, "organization_id"],
        "organization_id",
        "Organization not found.",
        o
      ))
    }
  }
  return details === undefined ? undefined : ValidationError.make(details)
}

/** The `Stats` of per-organization counts, ordered by organization id. @internal */
export const makeStats = (organizations: ReadonlyArray<OrganizationStats>): Stats => {
  let events = 0
  for (const o of organizations) events += o.events
  return { events, organizations }
}

// ---------------------------------------------------------------------------
// list queries
// ---------------------------------------------------------------------------

/** A position in a listing: the last item seen. @internal */
export interface Position {
  readonly ts: number
  readonly id: string
}

/** A list query with its defaults applied. @internal */
export interface NormalizedList {
  readonly order: "asc" | "desc"
  readonly limit: number
  readonly page: number
  /** keyset position to continue after (cursor mode) */
  readonly after: Position | undefined
  readonly cursorMode: boolean
  /** nothing can match (e.g. another organization was asked for) */
  readonly empty: boolean
  readonly query: ListQuery
}

const CURSOR_VERSION = "c1"

/** An opaque cursor continuing after `position` in `order`. @internal */
export const encodeCursor = (order: "asc" | "desc", position: Position): string =>
  Buffer.from(JSON.stringify([CURSOR_VERSION, order === "asc" ? 0 : 1, position.ts, position.id])).toString("base64url")

const badCursor = (cursor: string, msg: string) =>
  ValidationError.make([ValidationError.makeDetail(["query", "cursor"], "value_error", msg, cursor)])

/** Reads a cursor made by `encodeCursor` for a listing in `order`. @internal */
export const decodeCursor = (
  cursor: string,
  order: "asc" | "desc"
): Either.Either<Position, ValidationError.RequestValidationError> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    return Either.left(badCursor(cursor, "Invalid cursor."))
  }
  if (
    !Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== CURSOR_VERSION ||
    (parsed[1] !== 0 && parsed[1] !== 1) || !Number.isSafeInteger(parsed[2]) ||
    typeof parsed[3] !== "string" || !Core.Ids.isUuid(parsed[3])
  ) {
    return Either.left(badCursor(cursor, "Invalid cursor."))
  }
  if ((parsed[1] === 0 ? "asc" : "desc") !== order) {
    return Either.left(badCursor(cursor, "The cursor belongs to a listing in the other order."))
  }
  return Either.right({ ts: parsed[2], id: normalizeId(parsed[3]) })
}

/** Applies defaults and checks what only the store can check. @internal */
export const normalizeList = (
  orgId: string,
  query: ListQuery
): Either.Either<NormalizedList, ValidationError.RequestValidationError> => {
  const order = query.sorting === undefined ? "desc" : EventQuery.timestampOrder({ sorting: query.sorting })
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? EventQuery.DEFAULT_LIMIT), 1), EventQuery.MAX_LIMIT)
  const page = Math.max(Math.trunc(query.page ?? 1), 1)
  if (query.meterId !== undefined) {
    return Either.left(ValidationError.make([
      ValidationError.makeDetail(["query", "meter_id"], "meter_id", "Meter not found.", query.meterId)
    ]))
  }
  let after: Position | undefined
  if (query.cursor !== undefined) {
    const decoded = decodeCursor(query.cursor, order)
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
    after = decoded.right
  }
  const empty = query.organizationId !== undefined &&
    !query.organizationId.some((o) => normalizeId(o) === orgId)
  return Either.right({
    order,
    limit,
    page,
    after,
    cursorMode: query.cursor !== undefined || query.cursorPagination === true,
    empty,
    query
  })
}

/** ASCII-only lowercase, as SQLite's `lower()` and PostgreSQL's under `COLLATE "C"`. @internal */
export const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase())

/**
 * The free-text `query` rule: ASCII-case-insensitive substring of the name,
 * the source, a top-level metadata key or a top-level string metadata value.
 *
 * @internal
 */
export const searchMatches = (needle: string, e: { name: string; source: string; metadata: object }): boolean => {
  const q = asciiLower(needle)
  if (asciiLower(e.name).includes(q) || e.source.includes(q)) return true
  for (const [k, v] of Object.entries(e.metadata)) {
    if (asciiLower(k).includes(q)) return true
    if (typeof v === "string" && asciiLower(v).includes(q)) return true
  }
  return false
}

/** An event filterable by the list filters (memory adapter and tests). @internal */
export interface Listable {
  readonly stored: Stored
  readonly event: T.Event
}

/**
 * Whether a stored event passes the list filters (all but parent/depth,
 * which need the other events). The reference for the SQL `WHERE`.
 *
 * @internal
 */
export const listMatches = (q: ListQuery, s: Stored, e: T.Event): boolean => {
  if (q.customerId !== undefined || q.externalCustomerId !== undefined) {
    const byId = q.customerId !== undefined && s.customerId !== null &&
      q.customerId.some((c) => normalizeId(c) === s.customerId)
    const byExternal = q.externalCustomerId !== undefined && s.externalCustomerId !== null &&
      q.externalCustomerId.includes(s.externalCustomerId)
    if (!byId && !byExternal) return false
  }
  if (q.name !== undefined && !q.name.includes(s.name)) return false
  if (q.source !== undefined && !q.source.includes(s.source)) return false
  if (q.startTimestamp !== undefined && !(s.ts > Timestamp.toEpochMicros(q.startTimestamp))) return false
  if (q.endTimestamp !== undefined && !(s.ts < Timestamp.toEpochMicros(q.endTimestamp))) return false
  if (q.metadata !== undefined) {
    for (const [key, values] of Object.entries(q.metadata)) {
      const v = Object.prototype.hasOwnProperty.call(s.metadata, key) ? s.metadata[key] : undefined
      if (typeof v !== "string" || !values.includes(v)) return false
    }
  }
  if (q.filter !== undefined && !Meter.matches(q.filter, e)) return false
  if (q.query !== undefined && !searchMatches(q.query, s)) return false
  if (q.depth !== undefined && q.parentId === undefined && s.depth > q.depth) return false
  return true
}

/** Compares two positions in ascending order. @internal */
export const comparePosition = (a: Position, b: Position): number =>
  a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

// ---------------------------------------------------------------------------
// names
// ---------------------------------------------------------------------------

/** A names query with defaults applied. @internal */
export interface NormalizedNames {
  readonly sorting: ReadonlyArray<T.EventNamesSortProperty>
  readonly limit: number
  readonly page: number
  readonly empty: boolean
  readonly query: NamesQuery
}

/** @internal */
export const normalizeNames = (orgId: string, query: NamesQuery): NormalizedNames => ({
  sorting: query.sorting ?? ["-last_seen"],
  limit: Math.min(Math.max(Math.trunc(query.limit ?? EventQuery.DEFAULT_LIMIT), 1), EventQuery.MAX_LIMIT),
  page: Math.max(Math.trunc(query.page ?? 1), 1),
  empty: query.organizationId !== undefined && !query.organizationId.some((o) => normalizeId(o) === orgId),
  query
})

/** One names row before it becomes an `EventName`. @internal */
export interface NameRow {
  readonly name: string
  readonly source: string
  readonly occurrences: number
  readonly firstSeen: number
  readonly lastSeen: number
}

/** The `EventName` of a names row. @internal */
export const toEventName = (r: NameRow): T.EventName => ({
  name: r.name,
  label: defaultLabel(r.source, r.name),
  source: r.source as T.EventSource,
  occurrences: r.occurrences,
  firstSeen: Timestamp.fromEpochMicros(r.firstSeen),
  lastSeen: Timestamp.fromEpochMicros(r.lastSeen)
})

/** Sorts names rows by the query's criteria, then by name and source. @internal */
export const compareNames = (sorting: ReadonlyArray<string>) => (a: NameRow, b: NameRow): number => {
  for (const s of sorting) {
    const desc = s.startsWith("-")
    const key = desc ? s.slice(1) : s
    let c = 0
    switch (key) {
      case "name":
        c = a.name < b.name ? -1 : a.name > b.name ? 1 : 0
        break
      case "occurrences":
        c = a.occurrences - b.occurrences
        break
      case "first_seen":
        c = a.firstSeen - b.firstSeen
        break
      case "last_seen":
        c = a.lastSeen - b.lastSeen
        break
    }
    if (c !== 0) return desc ? -c : c
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0
}

// ---------------------------------------------------------------------------
// quantities
// ---------------------------------------------------------------------------

/** Checks the time zone of a quantities query. @internal */
export const checkQuantities = (
  query: QuantitiesQuery
): Either.Either<string, ValidationError.RequestValidationError> => {
  const timezone = query.timezone ?? "UTC"
  if (!Meter.isTimeZone(timezone)) {
    return Either.left(ValidationError.make([
      ValidationError.makeDetail(["query", "timezone"], "value_error", "Unknown time zone.", timezone)
    ]))
  }
  return Either.right(timezone)
}

/**
 * The range of timestamps (epoch microseconds, `[from, to)`) that falls in
 * each bucket of a quantities query: the instants whose `Meter.truncate` is
 * that bucket's start. Buckets are contiguous, so bucket `i` ends where
 * bucket `i + 1` begins.
 *
 * @internal
 */
export const bucketRanges = (
  start: Date,
  end: Date,
  interval: T.Interval,
  timeZone: string
): { readonly starts: ReadonlyArray<number>; readonly bounds: ReadonlyArray<number> } => {
  const starts = Meter.buckets(start, end, interval, timeZone).map((d) => d.getTime())
  if (starts.length === 0) return { starts, bounds: [] }
  const last = starts[starts.length - 1]!
  // the bucket after the last one: step past it and truncate
  const SPAN: Record<T.Interval, number> = {
    hour: 3_600_000,
    day: 86_400_000,
    week: 7 * 86_400_000,
    month: 32 * 86_400_000,
    year: 367 * 86_400_000
  }
  const after = Meter.buckets(new Date(last), new Date(last + 2 * SPAN[interval]), interval, timeZone)
    .map((d) => d.getTime())
    .find((b) => b > last)!
  const trunc = (ms: number) => Meter.truncate(new Date(ms), interval, timeZone).getTime()
  // the first instant whose bucket is at or after b
  const lowerBound = (b: number): number => {
    if (trunc(b) >= b) return b
    let lo = b
    let hi = b + SPAN[interval]
    while (trunc(hi) < b) hi += SPAN[interval]
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      if (trunc(mid) >= b) hi = mid
      else lo = mid
    }
    return hi
  }
  const bounds = [...starts, after].map((b) => lowerBound(b) * 1000)
  return { starts, bounds }
}
