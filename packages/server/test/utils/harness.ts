/**
 * Real servers for the tests: `EventsServer.layerServe` on 127.0.0.1 (a free
 * port) over a real store (a SQLite temp file by default), plus a raw
 * node:http client that controls every byte of a request (Content-Length,
 * chunked bodies, bad UTF-8).
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { EventStore, MemoryEventStore } from "@polar-events/store"
import { SqlEventStore } from "@polar-events/store/sql"
import { Context, Effect, Layer, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as AccessToken from "../../src/AccessToken.js"
import * as EventsServer from "../../src/EventsServer.js"

export const ORG_A = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
export const ORG_B = "6a0c4a40-7a4c-4b8e-9a8e-3c2b7f5d9e11"

/** Token values; each test server accepts these. */
export const TOKEN = {
  /** organization A, read and write */
  a: "polar_oat_A_read_write_0123456789abcdef",
  /** organization A, read only */
  aRead: "polar_oat_A_read_only_0123456789abcdef",
  /** organization A, write only */
  aWrite: "polar_oat_A_write_only_0123456789abcdef",
  /** organization B, read and write */
  b: "polar_oat_B_read_write_0123456789abcdef"
} as const

export const tokens: ReadonlyArray<AccessToken.AccessToken> = [
  AccessToken.make(TOKEN.a, ORG_A),
  AccessToken.make(TOKEN.aRead, ORG_A, ["events:read"]),
  AccessToken.make(TOKEN.aWrite, ORG_A, ["events:write"]),
  AccessToken.make(TOKEN.b, ORG_B)
]

/** A fresh temporary SQLite file name, its directory deleted with the scope. */
export const tempDatabase: Effect.Effect<string, never, Scope.Scope> = Effect.map(
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "polar-events-server-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  ),
  (dir) => join(dir, "events.db")
)

/** A store in a fresh SQLite file, deleted with the scope. */
export const sqliteStore: Layer.Layer<EventStore.EventStore, EventStore.EventStoreError> = Layer.unwrapScoped(
  Effect.map(tempDatabase, (filename) => SqlEventStore.layerSqlite({ filename }))
)

/** The in-memory reference store. */
export const memoryStore: Layer.Layer<EventStore.EventStore> = MemoryEventStore.layerMemory

export interface Running {
  readonly url: string
  readonly port: number
  readonly store: Context.Tag.Service<EventStore.EventStore>
}

/** Starts a server for the scope; `options` override the test defaults (the four tokens above). */
export const serve = (
  options: Partial<EventsServer.ServeOptions> = {},
  store: Layer.Layer<EventStore.EventStore, unknown> = sqliteStore
): Effect.Effect<Running, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      EventsServer.layerServe({ tokens, port: 0, ...options }).pipe(Layer.provideMerge(store))
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    return {
      url: `http://127.0.0.1:${address.port}`,
      port: address.port,
      store: Context.get(context, EventStore.EventStore)
    }
  })

export interface RawResponse {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly text: string
  readonly json: () => any
}

export interface RawRequest {
  readonly method?: string
  readonly path: string
  readonly token?: string | undefined
  readonly headers?: Record<string, string>
  /** sent with a Content-Length unless `chunked` */
  readonly body?: string | Buffer
  /** send the body in chunks without Content-Length */
  readonly chunked?: boolean
}

/** One request with node:http, every header as given (no fetch defaults). */
export const raw = (base: string, request: RawRequest): Effect.Effect<RawResponse> =>
  Effect.async<RawResponse>((resume) => {
    const url = new URL(request.path, base)
    const headers: Record<string, string> = { ...request.headers }
    if (request.token !== undefined) headers["authorization"] = `Bearer ${request.token}`
    const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body
    if (body !== undefined && request.chunked !== true && headers["content-length"] === undefined) {
      headers["content-length"] = String(body.length)
    }
    const req = Http.request({
      host: url.hostname,
      port: url.port,
      method: request.method ?? (body === undefined ? "GET" : "POST"),
      path: url.pathname + url.search,
      headers,
      agent: false
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }))
      })
    })
    req.on("error", (error) => resume(Effect.die(error)))
    if (body !== undefined && request.chunked === true) {
      const half = Math.floor(body.length / 2)
      req.write(body.subarray(0, half))
      req.end(body.subarray(half))
    } else {
      req.end(body)
    }
  })

/** JSON POST to ingest with a token. */
export const ingest = (base: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
  raw(base, {
    method: "POST",
    path: "/v1/events/ingest",
    token,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** How many events an organization holds (straight from the store). */
export const count = (
  store: Context.Tag.Service<EventStore.EventStore>,
  organizationId: string
): Effect.Effect<number, unknown> =>
  Effect.map(store.list(organizationId, { limit: 1 }), (page) => {
    const p = page.pagination
    if (!("totalCount" in p)) throw new Error("expected page-number pagination")
    return p.totalCount
  })

/** A valid wire event for an external customer. */
export const wireEvent = (i: number, extra: Record<string, unknown> = {}) => ({
  name: "api.call",
  external_customer_id: `customer_${i % 7}`,
  external_id: `evt_${i}`,
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  metadata: { seq: i, route: "/v1/things", cached: i % 2 === 0 },
  ...extra
})

/** The running server of a test file. */
export class Server extends Context.Tag("test/Server")<Server, Running>() {}

/** A server for the tests of a `layer(...)` block. */
export const layerServer = (
  options: Partial<EventsServer.ServeOptions> = {},
  store: Layer.Layer<EventStore.EventStore, unknown> = sqliteStore
): Layer.Layer<Server, unknown> => Layer.scoped(Server, serve(options, store))
