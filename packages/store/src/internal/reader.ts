/**
 * The read path of the SQL store: list, get, names and quantities as SQL,
 * aggregation included, with every value bound as a parameter.
 *
 * @internal
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { EventQuery, Meter, Timestamp } from "@polar-events/core"
import { Effect } from "effect"
import type { EventsPage, NamesPage, OrganizationStats, QuantitiesQuery } from "../EventStore.js"
import {
  asciiLower,
  bucketRanges,
  compareNames,
  encodeCursor,
  type NameRow,
  normalizeId,
  type NormalizedList,
  type NormalizedNames,
  toEvent,
  toEventName
} from "./common.js"
import { bytesToUuid, uuidToBytes } from "./ids.js"
import { compileFilter, type Dialect, metadataEquals, numericExpr, Params, uniqueExpr } from "./sqlExpr.js"
import type { Keys } from "./writer.js"
import type * as T from "./types.js"

const COLUMNS =
  "e.id, e.ts, e.name, e.source, e.customer_id, e.external_customer_id, e.member_id, e.external_member_id, " +
  "e.parent_id, e.child_count, e.flags, e.label, e.customer, e.metadata"

const COLUMN_COUNT = COLUMNS.split(",").length

/** Reads the rows of `COLUMNS` (as arrays) into events. */
const rowToEvent = (dialect: Dialect, orgId: string) => (r: ReadonlyArray<any>): T.Event =>
  toEvent(
    orgId,
    dialect === "sqlite" ? bytesToUuid(r[0]) : r[0],
    Number(r[1]),
    r[2],
    r[3],
    r[4],
    r[5],
    r[6],
    r[7],
    r[8] === null ? null : dialect === "sqlite" ? bytesToUuid(r[8]) : r[8],
    r[9] === null ? null : Number(r[9]),
    Number(r[10]),
    r[11],
    r[12],
    typeof r[13] === "string" ? JSON.parse(r[13]) : r[13]
  )

/** What the reader needs of the store. @internal */
export interface ReaderContext {
  readonly sql: SqlClient
  readonly dialect: Dialect
  readonly keys: Keys
}

const run = (ctx: ReaderContext, q: Params, text: string) => ctx.sql.unsafe<any>(text, q.values)
const runValues = (ctx: ReaderContext, q: Params, text: string) => ctx.sql.unsafe<any>(text, q.values).values

/** The key of an organization, or undefined when it has no events. @internal */
export const orgKey = (ctx: ReaderContext, orgId: string): Effect.Effect<number | undefined, SqlError> => {
  const cached = ctx.keys.orgs.get(orgId)
  if (cached !== undefined) return Effect.succeed(cached)
  const q = new Params(ctx.dialect)
  return run(ctx, q, `SELECT key FROM pe_organizations WHERE id = ${q.text(orgId)}`).pipe(
    Effect.map((rows) => {
      if (rows.length === 0) return undefined
      const key = Number(rows[0].key)
      ctx.keys.orgs.set(orgId, key)
      return key
    })
  )
}

/**
 * The interned keys of the customers named by a query (`[ckeys, xkeys]`).
 * Keys never change once committed, so those already known are not read
 * again.
 */
const customerKeys = (
  ctx: ReaderContext,
  org: number,
  customerIds: ReadonlyArray<string> | undefined,
  externalIds: ReadonlyArray<string> | undefined
): Effect.Effect<readonly [Array<number>, Array<number>], SqlError> => {
  const c: Array<number> = []
  const x: Array<number> = []
  const missing: Array<[number, string]> = []
  for (const [kind, values] of [[0, customerIds?.map(normalizeId)], [1, externalIds]] as const) {
    for (const value of values ?? []) {
      const key = ctx.keys.customers.get(org, kind, value)
      if (key === undefined) missing.push([kind, value])
      else (kind === 0 ? c : x).push(key)
    }
  }
  if (missing.length === 0) return Effect.succeed([c, x] as const)
  const q = new Params(ctx.dialect)
  const parts: Array<string> = []
  const byKind = (kind: number) => missing.filter((m) => m[0] === kind).map((m) => m[1])
  if (byKind(0).length > 0) parts.push(`(kind = 0 AND value IN (${q.list(byKind(0))}))`)
  if (byKind(1).length > 0) parts.push(`(kind = 1 AND value IN (${q.list(byKind(1))}))`)
  const orgParam = q.int(org)
  return run(ctx, q, `SELECT key, kind, value FROM pe_customers WHERE (${parts.join(" OR ")}) AND org = ${orgParam}`).pipe(
    Effect.map((rows) => {
      for (const r of rows) {
        const kind = Number(r.kind)
        const key = Number(r.key)
        ;(kind === 0 ? c : x).push(key)
        ctx.keys.rememberCustomer(org, kind, r.value, key)
      }
      return [c, x] as const
    })
  )
}

const customerCondition = (q: Params, ckeys: ReadonlyArray<number>, xkeys: ReadonlyArray<number>): string => {
  const parts: Array<string> = []
  if (ckeys.length > 0) parts.push(`e.ckey IN (${q.list(ckeys, "int")})`)
  if (xkeys.length > 0) parts.push(`e.xkey IN (${q.list(xkeys, "int")})`)
  return parts.length === 0 ? q.FALSE : parts.length === 1 ? parts[0]! : `(${parts.join(" OR ")})`
}

/**
 * PostgreSQL: the condition for a query that names exactly one customer (by
 * id or external id) whose key is not cached, with the key looked up by a
 * scalar subquery (run once per statement; NULL, so no rows, when there is
 * no such customer). `xkey = (subquery)` keeps the customer index ordered
 * by time, so `LIMIT` stops early. `undefined` when the query names none,
 * several, or a cached one.
 */
const inlineCustomer = (
  ctx: ReaderContext,
  q: Params,
  org: number,
  customerIds: ReadonlyArray<string> | undefined,
  externalIds: ReadonlyArray<string> | undefined
): string | undefined => {
  const c = customerIds?.length ?? 0
  const x = externalIds?.length ?? 0
  if (c + x !== 1) return undefined
  const kind = c === 1 ? 0 : 1
  const value = kind === 0 ? normalizeId(customerIds![0]!) : externalIds![0]!
  if (ctx.keys.customers.has(org, kind, value)) return undefined
  return `e.${kind === 0 ? "ckey" : "xkey"} = (SELECT key FROM pe_customers WHERE org = ${q.int(org)} AND kind = ${kind} ` +
    `AND value = ${q.text(value)})`
}

const idParam = (q: Params, id: string) => (q.dialect === "sqlite" ? q.add(uuidToBytes(id)) : `${q.add(id)}::uuid`)

const searchCondition = (q: Params, needle: string): string => {
  const lower = asciiLower(needle)
  if (q.dialect === "pg") {
    return `(strpos(lower(e.name COLLATE "C"), ${q.text(lower)}) > 0 OR strpos(e.source, ${q.text(lower)}) > 0 OR ` +
      `EXISTS (SELECT 1 FROM jsonb_each(e.metadata) j WHERE strpos(lower(j.key COLLATE "C"), ${q.text(lower)}) > 0 ` +
      `OR (jsonb_typeof(j.value) = 'string' AND strpos(lower((j.value #>> '{}') COLLATE "C"), ${q.text(lower)}) > 0)))`
  }
  return `(instr(lower(e.name), ${q.add(lower)}) > 0 OR instr(e.source, ${q.add(lower)}) > 0 OR ` +
    `EXISTS (SELECT 1 FROM json_each(e.metadata) j WHERE instr(lower(j.key), ${q.add(lower)}) > 0 ` +
    `OR (j.type = 'text' AND instr(lower(j.value), ${q.add(lower)}) > 0)))`
}

/** The `WITH` prefix and `WHERE` of a list query, or undefined when nothing can match. */
const listWhere = (
  ctx: ReaderContext,
  orgId: string,
  n: NormalizedList
): Effect.Effect<{ readonly q: Params; readonly prefix: string; readonly where: Array<string> } | undefined, SqlError> =>
  Effect.gen(function*() {
    if (n.empty) return undefined
    const query = n.query
    const org = yield* orgKey(ctx, orgId)
    if (org === undefined) return undefined
    const q = new Params(ctx.dialect)
    let keys: readonly [Array<number>, Array<number>] | undefined
    // PostgreSQL, one customer whose key is not known yet: resolved inside the statement, not by a round trip
    const inline = ctx.dialect === "pg" ? inlineCustomer(ctx, q, org, query.customerId, query.externalCustomerId) : undefined
    if (inline === undefined && (query.customerId !== undefined || query.externalCustomerId !== undefined)) {
      keys = yield* customerKeys(ctx, org, query.customerId, query.externalCustomerId)
      if (keys[0].length === 0 && keys[1].length === 0) return undefined
    }
    let prefix = ""
    const where: Array<string> = []
    if (query.parentId !== undefined) {
      const depth = query.depth ?? 1
      if (depth < 1) return undefined
      prefix = `WITH RECURSIVE sub(id, lvl) AS (SELECT id, 1 FROM pe_events WHERE parent_id = ${
        idParam(q, normalizeId(query.parentId))
      } UNION ALL SELECT c.id, sub.lvl + 1 FROM pe_events c JOIN sub ON c.parent_id = sub.id WHERE sub.lvl < ${
        q.int(depth)
      }) `
      where.push("e.id IN (SELECT id FROM sub)")
    }
    // customer keys belong to one organization: with them, the customer index alone answers
    where.push(
      inline !== undefined
        ? inline
        : keys !== undefined
        ? customerCondition(q, keys[0], keys[1])
        : `e.org = ${q.int(org)}`
    )
    if (query.name !== undefined) where.push(`e.name IN (${q.list(query.name)})`)
    if (query.source !== undefined) where.push(`e.source IN (${q.list(query.source)})`)
    if (query.startTimestamp !== undefined) where.push(`e.ts > ${q.int(Timestamp.toEpochMicros(query.startTimestamp))}`)
    if (query.endTimestamp !== undefined) where.push(`e.ts < ${q.int(Timestamp.toEpochMicros(query.endTimestamp))}`)
    if (query.metadata !== undefined) {
      for (const [key, values] of Object.entries(query.metadata)) where.push(metadataEquals(q, key, values))
    }
    if (query.filter !== undefined) where.push(compileFilter(q, query.filter))
    if (query.query !== undefined) where.push(searchCondition(q, query.query))
    if (query.depth !== undefined && query.parentId === undefined) where.push(`e.depth <= ${q.int(query.depth)}`)
    return { q, prefix, where }
  })

/** One page of events, in cursor mode or with page numbers. @internal */
export const list = (ctx: ReaderContext, orgId: string, n: NormalizedList): Effect.Effect<EventsPage, SqlError> =>
  Effect.gen(function*() {
    const built = yield* listWhere(ctx, orgId, n)
    if (built === undefined) {
      return n.cursorMode
        ? { items: [], pagination: { hasNextPage: false } }
        : { items: [], pagination: EventQuery.makePagination(0, n.limit) }
    }
    const { prefix, q, where } = built
    const dir = n.order === "asc" ? "ASC" : "DESC"
    if (n.cursorMode) {
      if (n.after !== undefined) {
        where.push(`(e.ts, e.id) ${n.order === "asc" ? ">" : "<"} (${q.int(n.after.ts)}, ${idParam(q, n.after.id)})`)
      }
      const offset = n.after === undefined ? (n.page - 1) * n.limit : 0
      const rows = yield* runValues(
        ctx,
        q,
        `${prefix}SELECT ${COLUMNS} FROM pe_events e WHERE ${where.join(" AND ")} ORDER BY e.ts ${dir}, e.id ${dir} ` +
          `LIMIT ${q.int(n.limit + 1)} OFFSET ${q.int(offset)}`
      )
      const items = rows.slice(0, n.limit).map(rowToEvent(ctx.dialect, orgId))
      const hasNextPage = rows.length > n.limit
      const last = items[items.length - 1]
      return {
        items,
        pagination: { hasNextPage },
        ...(hasNextPage && last !== undefined
          ? { nextCursor: encodeCursor(n.order, { ts: Timestamp.toEpochMicros(last.timestamp), id: last.id }) }
          : {})
      }
    }
    const countQ = new Params(ctx.dialect)
    // the count statement has the same placeholders as the page one, minus LIMIT/OFFSET
    countQ.values.push(...q.values)
    const count = `SELECT COUNT(*) AS n FROM pe_events e WHERE ${where.join(" AND ")}`
    const countRows = () => Effect.map(run(ctx, countQ, prefix + count), (r) => Number(r[0].n))
    const page = `SELECT ${COLUMNS}${ctx.dialect === "pg" ? `, (${count}) AS total_count` : ""} FROM pe_events e ` +
      `WHERE ${where.join(" AND ")} ORDER BY e.ts ${dir}, e.id ${dir} ` +
      `LIMIT ${q.int(n.limit)} OFFSET ${q.int((n.page - 1) * n.limit)}`
    // PostgreSQL counts inside the page statement (its placeholders are numbered, so the subquery reuses them):
    // one round trip; a page past the end has no row to carry the count, so it is counted apart
    const rows = yield* runValues(ctx, q, prefix + page)
    const total = ctx.dialect !== "pg"
      ? yield* countRows()
      : rows.length > 0
      ? Number(rows[0][COLUMN_COUNT])
      : n.page === 1
      ? 0
      : yield* countRows()
    return {
      items: rows.map(rowToEvent(ctx.dialect, orgId)),
      pagination: EventQuery.makePagination(total, n.limit)
    }
  })

/**
 * How many events each organization holds, by organization id (both
 * dialects; needs only the client, so a tool can read it without opening
 * the store).
 *
 * @internal
 */
export const stats = (sql: SqlClient): Effect.Effect<ReadonlyArray<OrganizationStats>, SqlError> =>
  sql.unsafe<{ id: string; n: number | string }>(
    "SELECT o.id AS id, count(e.org) AS n FROM pe_organizations o LEFT JOIN pe_events e ON e.org = o.key " +
      "GROUP BY o.id ORDER BY o.id"
  ).pipe(Effect.map((rows) => rows.map((r) => ({ organizationId: r.id, events: Number(r.n) }))))

/** One event by id. @internal */
export const get = (ctx: ReaderContext, orgId: string, id: string): Effect.Effect<T.Event | undefined, SqlError> =>
  Effect.gen(function*() {
    const org = yield* orgKey(ctx, orgId)
    if (org === undefined) return undefined
    const q = new Params(ctx.dialect)
    const rows = yield* runValues(ctx, q, `SELECT ${COLUMNS} FROM pe_events e WHERE e.id = ${idParam(q, id)} AND e.org = ${q.int(org)}`)
    return rows.length === 0 ? undefined : rowToEvent(ctx.dialect, orgId)(rows[0])
  })

/** The names page: from the summary table, or grouped over the customers' events. @internal */
export const names = (ctx: ReaderContext, orgId: string, n: NormalizedNames): Effect.Effect<NamesPage, SqlError> =>
  Effect.gen(function*() {
    const empty: NamesPage = { items: [], pagination: EventQuery.makePagination(0, n.limit) }
    if (n.empty) return empty
    const org = yield* orgKey(ctx, orgId)
    if (org === undefined) return empty
    const query = n.query
    const q = new Params(ctx.dialect)
    const lower = query.query === undefined ? undefined : asciiLower(query.query)
    const contains = (column: string, needle: string) =>
      ctx.dialect === "pg"
        ? `strpos(lower(${column} COLLATE "C"), ${q.text(needle)}) > 0`
        : `instr(lower(${column}), ${q.add(needle)}) > 0`
    let rows: ReadonlyArray<any>
    if (query.customerId !== undefined || query.externalCustomerId !== undefined) {
      const [c, x] = yield* customerKeys(ctx, org, query.customerId, query.externalCustomerId)
      if (c.length === 0 && x.length === 0) return empty
      const where = [customerCondition(q, c, x)]
      if (query.source !== undefined) where.push(`e.source IN (${q.list(query.source)})`)
      if (lower !== undefined) where.push(contains("e.name", lower))
      rows = yield* run(
        ctx,
        q,
        `SELECT e.name, e.source, COUNT(*) AS occurrences, MIN(e.ts) AS first_seen, MAX(e.ts) AS last_seen ` +
          `FROM pe_events e WHERE ${where.join(" AND ")} GROUP BY e.name, e.source`
      )
    } else {
      const where = [`org = ${q.int(org)}`]
      if (query.source !== undefined) where.push(`source IN (${q.list(query.source)})`)
      if (lower !== undefined) where.push(contains("name", lower))
      rows = yield* run(
        ctx,
        q,
        `SELECT name, source, occurrences, first_seen, last_seen FROM pe_event_names WHERE ${where.join(" AND ")}`
      )
    }
    const all: Array<NameRow> = rows.map((r) => ({
      name: r.name,
      source: r.source,
      occurrences: Number(r.occurrences),
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen)
    }))
    all.sort(compareNames(n.sorting))
    return {
      items: all.slice((n.page - 1) * n.limit, n.page * n.limit).map(toEventName),
      pagination: EventQuery.makePagination(all.length, n.limit)
    }
  })

/** A meter's quantities, aggregated in SQL per bucket. @internal */
export const quantities = (
  ctx: ReaderContext,
  orgId: string,
  query: QuantitiesQuery,
  timezone: string
) =>
  Effect.gen(function*() {
    const { bounds, starts } = bucketRanges(query.start, query.end, query.interval, timezone)
    const zero = {
      quantities: starts.map((b) => ({ timestamp: Timestamp.fromEpochMicros(b * 1000), quantity: 0 })),
      total: 0
    }
    if (starts.length === 0) return zero
    const org = yield* orgKey(ctx, orgId)
    if (org === undefined) return zero
    const byCustomer = query.customerId !== undefined || query.externalCustomerId !== undefined
    let keys: readonly [Array<number>, Array<number>] = [[], []]
    if (byCustomer) {
      keys = yield* customerKeys(ctx, org, query.customerId, query.externalCustomerId)
      if (keys[0].length === 0 && keys[1].length === 0) return zero
    }
    const agg = query.aggregation
    const conditions = (q: Params) => {
      const where: Array<string> = [byCustomer ? customerCondition(q, keys[0], keys[1]) : `e.org = ${q.int(org)}`]
      if (query.filter !== undefined) where.push(compileFilter(q, query.filter))
      return where
    }
    const valueExpr = (q: Params): string => {
      switch (agg.func) {
        case "count":
          return "COUNT(*)"
        case "unique":
          return `COUNT(DISTINCT ${uniqueExpr(q, agg.property)})`
        case "sum":
          return `SUM(${numericExpr(q, agg.property)})`
        case "max":
          return `MAX(${numericExpr(q, agg.property)})`
        case "min":
          return `MIN(${numericExpr(q, agg.property)})`
        case "avg":
          return `AVG(${numericExpr(q, agg.property)})`
      }
    }
    const participates = (q: Params): Array<string> =>
      agg.func === "count" || agg.func === "unique" ? [] : [`${numericExpr(q, agg.property)} IS NOT NULL`]

    const q = new Params(ctx.dialect)
    const los = bounds.slice(0, -1)
    const his = bounds.slice(1)
    const bucketsSql = ctx.dialect === "pg"
      ? `SELECT (t.i - 1)::integer AS i, t.lo, t.hi FROM unnest(${q.add(los)}::bigint[], ${
        q.add(his)
      }::bigint[]) WITH ORDINALITY AS t(lo, hi, i)`
      : `SELECT CAST(j.key AS INTEGER) AS i, json_extract(j.value, '$[0]') AS lo, json_extract(j.value, '$[1]') AS hi ` +
        `FROM json_each(${q.add(JSON.stringify(los.map((lo, i) => [lo, his[i]])))}) j`
    const value = valueExpr(q)
    const where = [...conditions(q), ...participates(q)]
    // SQLite: CROSS JOIN keeps the buckets outside, one index range scan per bucket
    const join = ctx.dialect === "sqlite" ? "CROSS JOIN" : "JOIN"
    const text = `WITH b AS (${bucketsSql}) SELECT b.i AS i, COUNT(*) AS n, ${value} AS v ` +
      `FROM b ${join} pe_events e ON e.ts >= b.lo AND e.ts < b.hi WHERE ${where.join(" AND ")} GROUP BY b.i`
    const rows = yield* run(ctx, q, text)
    const values = starts.map(() => 0)
    const counts = starts.map(() => 0)
    for (const r of rows) {
      values[Number(r.i)] = r.v === null ? 0 : Number(r.v)
      counts[Number(r.i)] = Number(r.n)
    }
    let total = Meter.totalOfBuckets(agg.func, values, counts)
    if (total === undefined) {
      const tq = new Params(ctx.dialect)
      const tv = valueExpr(tq)
      const tw = [...conditions(tq), ...participates(tq)]
      tw.push(`e.ts >= ${tq.int(bounds[0]!)}`, `e.ts < ${tq.int(bounds[bounds.length - 1]!)}`)
      const t = yield* run(ctx, tq, `SELECT ${tv} AS v FROM pe_events e WHERE ${tw.join(" AND ")}`)
      total = t[0]?.v === null || t[0]?.v === undefined ? 0 : Number(t[0].v)
    }
    return {
      quantities: starts.map((b, i) => ({ timestamp: Timestamp.fromEpochMicros(b * 1000), quantity: values[i]! })),
      total
    }
  })
