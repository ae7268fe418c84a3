/**
 * A small Polar-like events API on 127.0.0.1 for tests: the four events
 * endpoints with Polar's status codes and body shapes (polar-events-api.md
 * §1), exactly-once storage by (organization, external_id), and a record of
 * every request it saw (raw query strings included).
 *
 * It is a module behind the `EventsApi` interface so that a test can run
 * against another implementation (e.g. packages/server) instead.
 */
import { EventCreate, EventQuery, Meter, ValidationError } from "@polar-events/core"
import { Either } from "effect"
import { randomUUID } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { readBody } from "@polar-events/test-support"

/** What a test needs from a Polar-like server. */
export interface EventsApi {
  readonly url: string
  readonly token: string
  /** every request seen, in arrival order */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** the stored events, by external_id (events without one under their id) */
  readonly stored: ReadonlyMap<string, StoredEvent>
  /** how many events ingest requests carried in all, duplicates included */
  readonly received: () => number
  readonly close: () => Promise<void>
}

/** One request the server saw. */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  /** the query string exactly as sent, without `?` */
  readonly rawQuery: string
  /** epoch ms when the request's headers arrived */
  readonly at: number
  readonly headers: Http.IncomingHttpHeaders
  status?: number
  /** the external_ids an ingest request carried */
  externalIds?: ReadonlyArray<string>
  inserted?: number
  duplicates?: number
}

/** An event as the server keeps it: its wire JSON plus what Polar does not return. */
export interface StoredEvent {
  readonly wire: Record<string, unknown>
  readonly externalId: string | null
  readonly ingestedAt: number
}

export interface PolarServerOptions {
  /** the organization access token with events:read and events:write */
  readonly token?: string
  /** a token with events:read only (ingest answers 403) */
  readonly readOnlyToken?: string
  readonly organizationId?: string
  /** the body limit of ingest; Polar's is 10 MiB */
  readonly maxBodyBytes?: number
  /** called after an ingest batch is stored and before its response is written */
  readonly afterInsert?: (request: RecordedRequest) => void | Promise<void>
  /** validate ingest bodies with core's rules (default true) */
  readonly validate?: boolean
  readonly port?: number
}

const VERSIONS = new Set(["2026-04", "2026-10"])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface PolarServer extends EventsApi {
  readonly port: number
  /** adds events as they are (with their own id, source, timestamp), for read tests */
  readonly seed: (events: ReadonlyArray<Record<string, unknown>>) => void
  readonly organizationId: string
  readonly server: Http.Server
}

const json = (res: Http.ServerResponse, status: number, body: unknown, headers: Http.OutgoingHttpHeaders = {}) => {
  const text = body === undefined ? "" : JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "private, no-store",
    ...headers
  })
  res.end(text)
}

const costOut = (metadata: Record<string, unknown>): Record<string, unknown> => {
  const cost = metadata._cost as { amount: unknown; currency: unknown } | undefined
  if (cost === undefined) return metadata
  return { ...metadata, _cost: { amount: String(cost.amount), currency: cost.currency } }
}

export const start = (options: PolarServerOptions = {}): Promise<PolarServer> => {
  const token = options.token ?? "polar_oat_test_server_token"
  const organizationId = options.organizationId ?? "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024
  const validate = options.validate ?? true
  const requests: Array<RecordedRequest> = []
  const stored = new Map<string, StoredEvent>()
  const ordered: Array<StoredEvent> = []
  let received = 0

  const store = (e: StoredEvent) => {
    stored.set(e.externalId ?? (e.wire.id as string), e)
    ordered.push(e)
  }

  const ingest = async (req: Http.IncomingMessage, res: Http.ServerResponse, rec: RecordedRequest) => {
    if (req.headers["content-length"] === undefined) {
      rec.status = 411
      return json(res, 411, { error: "LengthRequired", detail: "Length Required" })
    }
    const length = Number(req.headers["content-length"])
    if (length > maxBody) {
      rec.status = 413
      req.resume()
      return json(res, 413, { error: "RequestBodyTooLarge", detail: "Request body too large" })
    }
    const raw = await readBody(req)
    let body: unknown
    try {
      body = JSON.parse(raw.toString("utf8"))
    } catch {
      rec.status = 422
      return json(res, 422, {
        error: "RequestValidationError",
        detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid", input: {} }]
      })
    }
    const events = (body as { events?: unknown }).events
    if (validate) {
      const result = EventCreate.validate(body)
      if (Either.isLeft(result)) {
        rec.status = 422
        return json(res, 422, ValidationError.toHTTP(result.left))
      }
    } else if (!Array.isArray(events)) {
      rec.status = 422
      return json(res, 422, {
        error: "RequestValidationError",
        detail: [{ loc: ["body", "events"], msg: "Field required", type: "missing" }]
      })
    }
    const list = events as Array<Record<string, unknown>>
    received += list.length
    rec.externalIds = list.map((e) => e.external_id as string)
    let inserted = 0
    const now = Date.now()
    for (const e of list) {
      const externalId = typeof e.external_id === "string" ? e.external_id : null
      if (externalId !== null && stored.has(externalId)) continue
      inserted++
      store({
        externalId,
        ingestedAt: now,
        wire: {
          id: randomUUID(),
          timestamp: typeof e.timestamp === "string" ? new Date(e.timestamp).toISOString() : new Date(now).toISOString(),
          organization_id: organizationId,
          customer_id: e.customer_id ?? null,
          customer: null,
          external_customer_id: e.customer_id ? null : e.external_customer_id ?? null,
          member_id: e.member_id ?? null,
          external_member_id: e.external_member_id ?? null,
          child_count: 0,
          parent_id: null,
          label: e.name,
          name: e.name,
          source: "user",
          metadata: costOut((e.metadata as Record<string, unknown> | undefined) ?? {})
        }
      })
    }
    rec.inserted = inserted
    rec.duplicates = list.length - inserted
    if (options.afterInsert) await options.afterInsert(rec)
    rec.status = 200
    json(res, 200, { inserted, duplicates: list.length - inserted })
  }

  const page = <A>(items: ReadonlyArray<A>, pageNo: number, limit: number) => {
    const size = Math.min(limit, 100)
    return {
      items: items.slice((pageNo - 1) * size, pageNo * size),
      pagination: { total_count: items.length, max_page: Math.ceil(items.length / size) }
    }
  }

  const list = (rec: RecordedRequest, res: Http.ServerResponse) => {
    const decoded = EventQuery.decodeSearchParams(new URLSearchParams(rec.rawQuery))
    if (Either.isLeft(decoded)) {
      rec.status = 422
      return json(res, 422, ValidationError.toHTTP(decoded.left))
    }
    const q = decoded.right
    const wanted = (xs: ReadonlyArray<string> | undefined, v: unknown) =>
      xs === undefined || xs.length === 0 || xs.includes(v as string)
    let items = ordered.map((e) => e.wire).filter((w) => {
      const ts = Date.parse(w.timestamp as string)
      const md = w.metadata as Record<string, unknown>
      if (!wanted(q.organizationId, w.organization_id)) return false
      if (!wanted(q.name, w.name) || !wanted(q.source, w.source)) return false
      const customers = q.customerId ?? []
      const externals = q.externalCustomerId ?? []
      if (customers.length + externals.length > 0) {
        if (!customers.includes(w.customer_id as never) && !externals.includes(w.external_customer_id as never)) {
          return false
        }
      }
      if (q.startTimestamp !== undefined && !(ts > q.startTimestamp.getTime())) return false
      if (q.endTimestamp !== undefined && !(ts < q.endTimestamp.getTime())) return false
      if (q.metadata !== undefined) {
        for (const [k, vs] of Object.entries(q.metadata)) if (!vs.includes(md[k] as string)) return false
      }
      if (q.filter !== undefined) {
        const filterable = { name: w.name as string, source: w.source as string, timestamp: new Date(ts), metadata: md }
        if (!Meter.matches(q.filter, filterable)) return false
      }
      if (q.parentId !== undefined && w.parent_id !== q.parentId) return false
      return true
    })
    const asc = q.sorting[0] === "timestamp"
    items = items.sort((a, b) => {
      const d = Date.parse(a.timestamp as string) - Date.parse(b.timestamp as string)
      return asc ? d : -d
    })
    rec.status = 200
    json(res, 200, page(items, q.page ?? 1, q.limit ?? 10))
  }

  const names = (rec: RecordedRequest, res: Http.ServerResponse) => {
    const decoded = EventQuery.decodeNamesSearchParams(new URLSearchParams(rec.rawQuery))
    if (Either.isLeft(decoded)) {
      rec.status = 422
      return json(res, 422, ValidationError.toHTTP(decoded.left))
    }
    const q = decoded.right
    const groups = new Map<string, { name: string; source: string; occurrences: number; first: number; last: number }>()
    for (const { wire: w } of ordered) {
      if (q.source && q.source.length > 0 && !q.source.includes(w.source as never)) continue
      if (q.query !== undefined && !(w.name as string).toLowerCase().includes(q.query.toLowerCase())) continue
      const key = `${w.source}\u0000${w.name}`
      const ts = Date.parse(w.timestamp as string)
      const g = groups.get(key)
      if (g === undefined) groups.set(key, { name: w.name as string, source: w.source as string, occurrences: 1, first: ts, last: ts })
      else {
        g.occurrences++
        g.first = Math.min(g.first, ts)
        g.last = Math.max(g.last, ts)
      }
    }
    const items = [...groups.values()]
      .sort((a, b) => b.last - a.last || a.name.localeCompare(b.name))
      .map((g) => ({
        name: g.name,
        label: g.name,
        source: g.source,
        occurrences: g.occurrences,
        first_seen: new Date(g.first).toISOString(),
        last_seen: new Date(g.last).toISOString()
      }))
    rec.status = 200
    json(res, 200, page(items, q.page ?? 1, q.limit ?? 10))
  }

  const get = (rec: RecordedRequest, res: Http.ServerResponse, id: string) => {
    if (!UUID.test(id)) {
      rec.status = 422
      return json(res, 422, {
        error: "RequestValidationError",
        detail: [{ loc: ["path", "id"], msg: "Input should be a valid UUID", type: "uuid_parsing", input: id }]
      })
    }
    const e = ordered.find((x) => x.wire.id === id)
    if (e === undefined) {
      rec.status = 404
      return json(res, 404, { error: "ResourceNotFound", detail: "Not found" })
    }
    rec.status = 200
    json(res, 200, e.wire)
  }

  const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const url = req.url ?? "/"
    const q = url.indexOf("?")
    const path = q === -1 ? url : url.slice(0, q)
    const rec: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      rawQuery: q === -1 ? "" : url.slice(q + 1),
      at: Date.now(),
      headers: req.headers
    }
    requests.push(rec)
    const version = req.headers["polar-version"]
    if (typeof version === "string") {
      res.setHeader("polar-version", version)
      if (!VERSIONS.has(version)) {
        rec.status = 404
        return json(res, 404, { detail: "Not Found" })
      }
    }
    const auth = req.headers.authorization
    if (auth === undefined) {
      rec.status = 401
      return json(res, 401, { error: "Unauthorized", detail: "Unauthorized" }, {
        "www-authenticate": `Bearer realm="polar"`
      })
    }
    const presented = auth.startsWith("Bearer ") ? auth.slice(7) : ""
    const canRead = presented === token || (options.readOnlyToken !== undefined && presented === options.readOnlyToken)
    if (!canRead) {
      rec.status = 401
      return json(res, 401, {
        error: "invalid_token",
        error_description: "The access token provided is expired, revoked, malformed, or invalid for other reasons."
      }, { "www-authenticate": `Bearer realm="polar", error="invalid_token"` })
    }
    if (req.method === "POST" && path === "/v1/events/ingest") {
      if (presented !== token) {
        rec.status = 403
        req.resume()
        return json(res, 403, {
          error: "insufficient_scope",
          error_description: "The request requires higher privileges than provided by the access token."
        }, { "www-authenticate": `Bearer realm="polar", error="insufficient_scope", scope="events:write"` })
      }
      return ingest(req, res, rec)
    }
    if (req.method === "GET" && path === "/v1/events/") return list(rec, res)
    if (req.method === "GET" && path === "/v1/events/names") return names(rec, res)
    if (req.method === "GET" && path.startsWith("/v1/events/")) {
      return get(rec, res, decodeURIComponent(path.slice("/v1/events/".length)))
    }
    rec.status = 404
    json(res, 404, { detail: "Not Found" })
  }

  const server = Http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) json(res, 500, { error: "InternalServerError", detail: String(error) })
    })
  })
  return new Promise((resolve) => {
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        token,
        organizationId,
        server,
        requests,
        stored,
        received: () => received,
        seed: (events) => {
          for (const wire of events) store({ wire: { ...wire }, externalId: null, ingestedAt: Date.now() })
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}
