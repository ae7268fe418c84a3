/**
 * Polar's events API over any `EventStore`: `POST /v1/events/ingest`,
 * `GET /v1/events/`, `GET /v1/events/{id}` and `GET /v1/events/names`, with
 * Polar's query encoding, status codes and bodies, bearer tokens bound to
 * one organization each, an optional per-token rate limit, the OpenAPI
 * document at `/openapi.json` and a health check at `/healthz`.
 *
 * Three ways to run it:
 * - `layer(options)` adds the routes to an `HttpLayerRouter` you serve
 *   (compose it with your own routes);
 * - `httpApp(options)` is the same as one `HttpApp` (mount it in an
 *   `HttpRouter`, or serve it with any `HttpServer`);
 * - `layerServe(options)` serves it on a port with Node's HTTP server.
 *
 * Every mode needs an `EventStore` (e.g. `SqlEventStore.layerSqlite`).
 *
 * The routes implement the contract `EventsApi.Api` from core with
 * `HttpApiBuilder` (raw handlers that keep Polar's wire, see
 * internal/routes.ts); `Api` is that contract plus `/healthz` and
 * `/openapi.json`, and `openApiText` is derived from it.
 *
 * @since 0.1.0
 */
import * as Etag from "@effect/platform/Etag"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpPlatform from "@effect/platform/HttpPlatform"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Path from "@effect/platform/Path"
import { EventsApi } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { type Duration, Effect, Layer, Schema, type Scope } from "effect"
import * as NodeHttp from "node:http"
import type { AccessToken } from "./AccessToken.js"
import * as Responses from "./internal/responses.js"
import { makeHandlers, type ResolvedOptions } from "./internal/routes.js"

/**
 * A rate limit: at most `requests` per `window` for each token (or each
 * organization, with `per: "organization"`, which is how Polar counts). A
 * request over the limit gets 429 with an empty body and `retry-after`.
 *
 * @since 0.1.0
 */
export interface RateLimit {
  readonly requests: number
  readonly window: Duration.DurationInput
  readonly per?: "token" | "organization" | undefined
}

/**
 * What the server accepts.
 * - `tokens`: the bearer tokens, each bound to one organization and scopes.
 * - `maxBodyBytes`: the largest ingest body (default 10 MiB, as Polar).
 * - `maxUrlBytes`: the longest request target, path and query (default 16 KiB).
 * - `rateLimit`: off by default.
 * - `clockSkew`: how far in the future an event's timestamp may be (default 0, as Polar).
 * - `realm`: the `WWW-Authenticate` realm (default `polar`).
 * - `versions`: the `Polar-Version` values served (default `2026-04`, `2026-10`);
 *   another value gets 404, as on Polar.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly tokens: ReadonlyArray<AccessToken>
  readonly maxBodyBytes?: number | undefined
  readonly maxUrlBytes?: number | undefined
  readonly rateLimit?: RateLimit | undefined
  readonly clockSkew?: Duration.DurationInput | undefined
  readonly realm?: string | undefined
  readonly versions?: ReadonlyArray<string> | undefined
}

/** Polar's body limit: 10 MiB. @since 0.1.0 */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

/** The default limit of the request target (path and query): 16 KiB. @since 0.1.0 */
export const DEFAULT_MAX_URL_BYTES = 16 * 1024

/** The API versions Polar serves (`Polar-Version` header). @since 0.1.0 */
export const DEFAULT_VERSIONS: ReadonlyArray<string> = ["2026-04", "2026-10"]

const resolve = (options: Options): ResolvedOptions => {
  if (options.rateLimit !== undefined && !(options.rateLimit.requests >= 1)) {
    throw new Error("EventsServer: rateLimit.requests must be at least 1")
  }
  return {
    tokens: options.tokens,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxUrlBytes: options.maxUrlBytes ?? DEFAULT_MAX_URL_BYTES,
    rateLimit: options.rateLimit === undefined
      ? undefined
      : { requests: options.rateLimit.requests, window: options.rateLimit.window, per: options.rateLimit.per ?? "token" },
    clockSkew: options.clockSkew ?? 0,
    realm: options.realm ?? "polar",
    versions: new Set(options.versions ?? DEFAULT_VERSIONS)
  }
}

/** The body of `GET /healthz` when the store answers. @since 0.1.0 */
export const HealthStatus = Schema.Struct({ status: Schema.Literal("ok") }).annotations({ identifier: "HealthStatus" })

/** The body of `GET /healthz` (503) when the store fails. @since 0.1.0 */
export const HealthUnavailable = Schema.Struct({ status: Schema.Literal("unavailable") })
  .annotations({ identifier: "HealthUnavailable" })

const unauthenticated = (identifier: string, summary: string) =>
  OpenApi.annotations({ identifier, summary, transform: (op) => ({ ...op, tags: ["server"], security: [] }) })

/**
 * The server's own endpoints: `GET /healthz` (200 `{"status":"ok"}`, 503
 * `{"status":"unavailable"}` when a lookup in the store fails) and
 * `GET /openapi.json` (the document derived from `Api`).
 *
 * @since 0.1.0
 */
export class ServerGroup extends HttpApiGroup.make("server")
  .add(
    HttpApiEndpoint.get("health", "/healthz")
      .addSuccess(HealthStatus)
      .addError(HealthUnavailable, { status: 503 })
      .annotateContext(unauthenticated("server:health", "Health check"))
  )
  .add(
    HttpApiEndpoint.get("openapi", "/openapi.json")
      .addSuccess(Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ description: "The OpenAPI document." }))
      .annotateContext(unauthenticated("server:openapi", "This document"))
  )
  .annotateContext(OpenApi.annotations({ description: "Operational endpoints of this server." }))
{}

/**
 * What the server serves: Polar's events API (`EventsApi.Api` from core)
 * and the server's own endpoints (`ServerGroup`).
 *
 * @since 0.1.0
 */
export class Api extends EventsApi.Api.add(ServerGroup) {}

/**
 * The OpenAPI document the server serves at `/openapi.json` (JSON text),
 * derived once from `Api` (`OpenApi.fromApi`): Polar's operation ids,
 * parameters, statuses and schema names for the four events endpoints,
 * plus the responses Polar sends but does not declare, the cursor
 * extension, and the server's own endpoints.
 *
 * @since 0.1.0
 */
export const openApiText: string = JSON.stringify(OpenApi.fromApi(Api, { additionalPropertiesStrategy: "allow" }))

const NIL_UUID = "00000000-0000-0000-0000-000000000000"

const ServerLive = HttpApiBuilder.group(Api, "server", (handlers) =>
  Effect.map(EventStore.EventStore, (store) =>
    handlers
      .handle("health", () =>
        store.get(NIL_UUID, NIL_UUID).pipe(
          Effect.as({ status: "ok" as const }),
          Effect.catchAllCause(() => Effect.fail({ status: "unavailable" as const }))
        ))
      .handleRaw("openapi", () => Effect.succeed(Responses.jsonText(200, openApiText)))))

/** The contract's events endpoints, each a raw handler (see internal/routes.ts). */
const EventsLive = (options: ResolvedOptions) =>
  HttpApiBuilder.group(Api, "events", (handlers) =>
    Effect.map(EventStore.EventStore, (store) => {
      const h = makeHandlers(options, store)
      return handlers
        .handleRaw("ingest", ({ request }) => h.ingest(request))
        .handleRaw("list", ({ request }) => h.list(request))
        .handleRaw("names", ({ request }) => h.names(request))
        .handleRaw("get", ({ path, request }) => h.get(request, path.id))
    }))

/** What HttpApi's router integration asks for; the server serves no files, so no-op ones do. */
const HttpApiPlatform = Layer.mergeAll(Etag.layer, Path.layer, HttpPlatform.layer).pipe(
  Layer.provideMerge(FileSystem.layerNoop({}))
)

/**
 * The server's routes added to the `HttpLayerRouter` of the application it
 * is part of: the four events endpoints, `/openapi.json` and `/healthz`.
 *
 * ```ts
 * HttpLayerRouter.serve(Layer.mergeAll(EventsServer.layer({ tokens }), MyRoutes)).pipe(
 *   Layer.provide(SqlEventStore.layerSqlite({ filename: "events.db" })),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 8000 }))
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | EventStore.EventStore> =>
  HttpLayerRouter.addHttpApi(Api).pipe(
    Layer.provide(EventsLive(resolve(options))),
    Layer.provide(ServerLive),
    Layer.provide(HttpApiPlatform)
  )

/**
 * The server as one `HttpApp` (unknown routes fail with `RouteNotFound`), for
 * `HttpRouter.mountApp`, `HttpServer.serve` or a web handler. Built once per
 * scope.
 *
 * @since 0.1.0
 */
export const httpApp = (
  options: Options
): Effect.Effect<
  HttpApp.Default<HttpServerError.RouteNotFound, Scope.Scope | HttpServerRequest.HttpServerRequest>,
  never,
  EventStore.EventStore | Scope.Scope
> => HttpLayerRouter.toHttpEffect(layer(options)) as any

/**
 * Options of `layerServe`: the server's `Options` plus where to listen
 * (default `127.0.0.1:8000`; port 0 picks a free port, read it from
 * `HttpServer.HttpServer`) and whether to log each request (default off).
 *
 * @since 0.1.0
 */
export interface ServeOptions extends Options {
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly logRequests?: boolean | undefined
}

const notFound = HttpLayerRouter.add("*", "*", Effect.sync(Responses.notFound))

/**
 * Serves the server with Node's HTTP server (`@effect/platform-node`,
 * loaded on first use). Unknown routes get FastAPI's 404
 * `{"detail":"Not Found"}`. Node's header limit is raised so that a long
 * request target reaches the server's own 414.
 *
 * @since 0.1.0
 */
export const layerServe = (
  options: ServeOptions
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError, EventStore.EventStore> => {
  const maxUrlBytes = options.maxUrlBytes ?? DEFAULT_MAX_URL_BYTES
  const app = HttpLayerRouter.serve(Layer.mergeAll(layer(options), notFound), {
    disableLogger: options.logRequests !== true,
    disableListenLog: true
  })
  return Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/platform-node/NodeHttpServer")),
      (NodeHttpServer) =>
        app.pipe(Layer.provideMerge(NodeHttpServer.layer(
          () =>
            NodeHttp.createServer({
              maxHeaderSize: Math.max(16 * 1024, maxUrlBytes + 16 * 1024),
              keepAliveTimeout: 65_000
            }),
          { host: options.host ?? "127.0.0.1", port: options.port ?? 8000 }
        )))
    )
  ) as any
}
