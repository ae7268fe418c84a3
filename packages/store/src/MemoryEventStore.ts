/**
 * The in-memory `EventStore`: the reference adapter. It keeps every event in
 * a map and answers with core's pure evaluator (`Meter.matches`,
 * `Meter.quantities`), so the SQL adapters are tested against it.
 *
 * @since 0.1.0
 */
import { EventQuery, Ids, Meter, Timestamp, type ValidationError } from "@polar-events/core"
import { Chunk, Effect, Either, Layer, Option, Stream } from "effect"
import {
  EventStore,
  type EventsPage,
  type ListQuery,
  type NamesPage,
  type NamesQuery,
  type OrganizationStats,
  type QuantitiesQuery,
  type Stats
} from "./EventStore.js"
import {
  asciiLower,
  checkOrganization,
  checkQuantities,
  comparePosition,
  compareNames,
  fromCreate,
  fromEvents,
  listMatches,
  encodeCursor,
  makeStats,
  type NameRow,
  normalizeId,
  normalizeList,
  normalizeNames,
  type NormalizedList,
  type Stored,
  storedToEvent,
  toEventName
} from "./internal/common.js"
import { FLAG_REF_ID_ONLY, MAX_DEPTH } from "./internal/parents.js"
import type * as T from "./internal/types.js"

interface Entry {
  readonly stored: Stored
  event: T.Event
}

interface Org {
  readonly events: Array<Entry>
  readonly byExternalId: Map<string, Entry>
}

const nowMicros = () => Date.now() * 1000

type Orgs = Map<string, Org>

/** Rebuilds the domain event of an entry whose stored form changed. */
const refresh = (e: Entry) => {
  e.event = storedToEvent(e.stored)
}

/** Recomputes the depth of a parent's descendants after it found its own parent. */
const fixDescendants = (o: Org, parent: Entry, level: number) => {
  if (level >= MAX_DEPTH) return
  for (const c of o.events) {
    if (c.stored.parentId === parent.stored.id && c.stored.parentRef === null && c !== parent) {
      c.stored.depth = parent.stored.depth + 1
      fixDescendants(o, c, level + 1)
    }
  }
}

/** The descendants of an event down to `depth` levels. */
const descendants = (o: Org, parentId: string, depth: number): Set<Entry> => {
  const out = new Set<Entry>()
  let frontier = [parentId]
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    const next: Array<string> = []
    for (const e of o.events) {
      if (e.stored.parentId !== null && frontier.includes(e.stored.parentId) && !out.has(e)) {
        out.add(e)
        next.push(e.stored.id)
      }
    }
    frontier = next
  }
  return out
}

/** The entries a normalized list query matches, in its order. */
const matching = (orgs: Orgs, orgId: string, n: NormalizedList): Array<Entry> => {
  if (n.empty) return []
  const o = orgs.get(orgId)
  if (o === undefined) return []
  const q = n.query
  const within = q.parentId !== undefined ? descendants(o, normalizeId(q.parentId), q.depth ?? 1) : undefined
  const out = o.events.filter((e) =>
    (within === undefined || within.has(e)) && listMatches(q, e.stored, e.event)
  )
  out.sort((a, b) => comparePosition(a.stored, b.stored))
  if (n.order === "desc") out.reverse()
  return out
}

/** The entries after a cursor's position. */
const after = (entries: ReadonlyArray<Entry>, n: NormalizedList): ReadonlyArray<Entry> => {
  if (n.after === undefined) return entries
  const pos = n.after
  return entries.filter((e) => {
    const c = comparePosition(e.stored, pos)
    return n.order === "asc" ? c > 0 : c < 0
  })
}

/** A page of `list`, with page numbers or a cursor. */
const list = (orgs: Orgs, organizationId: string, query: ListQuery = {}) =>
  Effect.suspend(() => {
    const orgId = normalizeId(organizationId)
    const normalized = normalizeList(orgId, query)
    if (Either.isLeft(normalized)) return Effect.fail(normalized.left)
    const n = normalized.right
    const all = matching(orgs, orgId, n)
    if (n.cursorMode) {
      const rest = n.after !== undefined ? after(all, n) : all.slice((n.page - 1) * n.limit)
      const items = rest.slice(0, n.limit)
      const hasNextPage = rest.length > n.limit
      const page: EventsPage = {
        items: items.map((e) => e.event),
        pagination: { hasNextPage },
        ...(hasNextPage ? { nextCursor: encodeCursor(n.order, items[items.length - 1]!.stored) } : {})
      }
      return Effect.succeed(page)
    }
    const items = all.slice((n.page - 1) * n.limit, n.page * n.limit)
    const page: EventsPage = {
      items: items.map((e) => e.event),
      pagination: EventQuery.makePagination(all.length, n.limit)
    }
    return Effect.succeed(page)
  })

/** The names page of an organization, computed from its events. */
const names = (orgs: Orgs, organizationId: string, query: NamesQuery): NamesPage => {
  const orgId = normalizeId(organizationId)
  const n = normalizeNames(orgId, query)
  const o = orgs.get(orgId)
  const groups = new Map<string, { name: string; source: string; occurrences: number; firstSeen: number; lastSeen: number }>()
  if (!n.empty && o !== undefined) {
    const q = n.query
    for (const e of o.events) {
      const s = e.stored
      if (q.customerId !== undefined || q.externalCustomerId !== undefined) {
        const byCustomer = q.customerId !== undefined && s.customerId !== null &&
          q.customerId.some((c) => normalizeId(c) === s.customerId)
        const byExternal = q.externalCustomerId !== undefined && s.externalCustomerId !== null &&
          q.externalCustomerId.includes(s.externalCustomerId)
        if (!byCustomer && !byExternal) continue
      }
      if (q.source !== undefined && !q.source.includes(s.source)) continue
      if (q.query !== undefined && !asciiLower(s.name).includes(asciiLower(q.query))) continue
      const key = s.source + "\u0000" + s.name
      const g = groups.get(key)
      if (g === undefined) {
        groups.set(key, { name: s.name, source: s.source, occurrences: 1, firstSeen: s.ts, lastSeen: s.ts })
      } else {
        g.occurrences++
        if (s.ts < g.firstSeen) g.firstSeen = s.ts
        if (s.ts > g.lastSeen) g.lastSeen = s.ts
      }
    }
  }
  const rows: Array<NameRow> = [...groups.values()].sort(compareNames(n.sorting))
  return {
    items: rows.slice((n.page - 1) * n.limit, n.page * n.limit).map(toEventName),
    pagination: EventQuery.makePagination(rows.length, n.limit)
  }
}

/** A meter's quantities with core's evaluator over the organization's events. */
const quantities = (
  orgs: Orgs,
  organizationId: string,
  query: QuantitiesQuery
): Effect.Effect<T.MeterQuantities, ValidationError.RequestValidationError> => {
  const tz = checkQuantities(query)
  if (Either.isLeft(tz)) return Effect.fail(tz.left)
  const o = orgs.get(normalizeId(organizationId))
  const events: Array<T.Event> = []
  if (o !== undefined) {
    const customers = query.customerId?.map(normalizeId)
    const external = query.externalCustomerId
    for (const e of o.events) {
      if (customers !== undefined || external !== undefined) {
        const s = e.stored
        const hit = (customers !== undefined && s.customerId !== null && customers.includes(s.customerId)) ||
          (external !== undefined && s.externalCustomerId !== null && external.includes(s.externalCustomerId))
        if (!hit) continue
      }
      events.push(e.event)
    }
  }
  const result = Meter.quantities(events, {
    filter: query.filter,
    aggregation: query.aggregation,
    start: query.start,
    end: query.end,
    interval: query.interval,
    timezone: tz.right
  })
  return Effect.succeed({
    quantities: result.quantities.map((b) => ({
      timestamp: Timestamp.fromEpochMicros(b.timestamp.getTime() * 1000),
      quantity: b.quantity
    })),
    total: result.total
  })
}

/** The organizations with events, by id, and how many each holds. */
const stats = (orgs: Orgs): Stats => {
  const organizations: Array<OrganizationStats> = []
  for (const [organizationId, o] of orgs) {
    if (o.events.length > 0) organizations.push({ organizationId, events: o.events.length })
  }
  organizations.sort((a, b) => (a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : 0))
  return makeStats(organizations)
}

/** The parent an event refers to: by event id in the organization, else (unless only an id will do) by external id. */
const lookupParent = (byId: Map<string, Entry>, o: Org, orgId: string, s: Stored): Entry | undefined => {
  const ref = s.parentRef!
  const viaId = Ids.isUuid(ref) ? byId.get(normalizeId(ref)) : undefined
  if (viaId !== undefined && viaId.stored.orgId === orgId) return viaId
  if ((s.flags & FLAG_REF_ID_ONLY) !== 0) return undefined
  return o.byExternalId.get(ref)
}

/** Every matching event, page after page of `list` (keyset pages, constant memory). */
const stream = (
  orgs: Orgs,
  organizationId: string,
  query: ListQuery = {}
): Stream.Stream<T.Event, ValidationError.RequestValidationError> =>
  Stream.suspend(() => {
    const orgId = normalizeId(organizationId)
    const { cursor: _, cursorPagination: __, page: ___, limit: ____, ...filters } = query
    const normalized = normalizeList(orgId, filters)
    if (Either.isLeft(normalized)) return Stream.fail(normalized.left)
    return Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
      list(orgs, organizationId, {
        ...filters,
        limit: EventQuery.MAX_LIMIT,
        cursorPagination: true,
        ...(cursor === undefined ? {} : { cursor })
      }).pipe(
        Effect.map((page) => [
          Chunk.fromIterable(page.items),
          page.nextCursor === undefined ? Option.none() : Option.some(page.nextCursor)
        ] as const)
      ))
  })

/**
 * Builds an in-memory store. Data lives as long as the returned service.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<EventStore.Service> = Effect.sync(() => {
  const orgs: Orgs = new Map()
  const byId = new Map<string, Entry>()

  const org = (orgId: string): Org => {
    let o = orgs.get(orgId)
    if (o === undefined) {
      o = { events: [], byExternalId: new Map() }
      orgs.set(orgId, o)
    }
    return o
  }

  const resolveParents = (orgId: string, added: ReadonlyArray<Entry>) => {
    const o = org(orgId)
    const keys = new Set<string>()
    for (const e of added) {
      keys.add(e.stored.id)
      if (e.stored.externalId !== null) keys.add(e.stored.externalId)
    }
    const pending = o.events.filter((e) =>
      e.stored.parentRef !== null && (added.includes(e) || keys.has(e.stored.parentRef))
    )
    for (const p of pending) {
      const parent = lookupParent(byId, o, orgId, p.stored)
      if (parent === undefined || parent === p) continue
      p.stored.parentId = parent.stored.id
      p.stored.parentRef = null
      p.stored.depth = parent.stored.depth + 1
      refresh(p)
      fixDescendants(o, p, 0)
    }
  }

  const add = (s: Stored): Entry => {
    const e: Entry = { stored: s, event: storedToEvent(s) }
    const o = org(s.orgId)
    o.events.push(e)
    byId.set(s.id, e)
    if (s.externalId !== null) o.byExternalId.set(s.externalId, e)
    return e
  }

  const service: EventStore.Service = {
    ingest: (organizationId, events) =>
      Effect.suspend(() => {
        const orgId = normalizeId(organizationId)
        const invalid = checkOrganization(orgId, events)
        if (invalid !== undefined) return Effect.fail(invalid)
        const now = nowMicros()
        const o = org(orgId)
        const added: Array<Entry> = []
        let duplicates = 0
        for (const e of events) {
          if (e.externalId != null && o.byExternalId.has(e.externalId)) {
            duplicates++
            continue
          }
          added.push(add(fromCreate(orgId, e, Ids.makeUuidV7(now / 1000), now)))
        }
        resolveParents(orgId, added)
        return Effect.succeed({ inserted: added.length, duplicates })
      }),

    insert: (events) =>
      Effect.suspend(() => {
        const prepared = fromEvents(events, nowMicros())
        if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
        const added = new Map<string, Array<Entry>>()
        let inserted = 0
        let duplicates = 0
        for (const s of prepared.right) {
          if (byId.has(s.id)) {
            duplicates++
            continue
          }
          const e = add(s)
          let list = added.get(s.orgId)
          if (list === undefined) added.set(s.orgId, list = [])
          list.push(e)
          inserted++
        }
        for (const [orgId, list] of added) resolveParents(orgId, list)
        return Effect.succeed({ inserted, duplicates })
      }),

    get: (organizationId, id) =>
      Effect.sync(() => {
        const e = byId.get(normalizeId(id))
        return e !== undefined && e.stored.orgId === normalizeId(organizationId) ? Option.some(e.event) : Option.none()
      }),

    list: (organizationId, query) => list(orgs, organizationId, query),

    stream: (organizationId, query) => stream(orgs, organizationId, query),

    names: (organizationId, query = {}) => Effect.sync(() => names(orgs, organizationId, query)),

    quantities: (organizationId, query) => Effect.suspend(() => quantities(orgs, organizationId, query)),

    stats: Effect.sync(() => stats(orgs))
  }
  return service
})

/**
 * The in-memory store as a layer: a fresh, empty store per layer build.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<EventStore> = Layer.effect(EventStore, make)
