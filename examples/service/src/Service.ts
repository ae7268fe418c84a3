/**
 * The example service: an Effect HTTP service on @effect/platform-node.
 *
 * - `GET /api/greeting?name=...` (header `x-customer-id`): the product. Each
 *   request records one `api.request` usage event for the customer.
 * - `GET /usage?customer=&start=&end=&interval=&timezone=`: the meter's
 *   quantities from the event store, in Polar's wire format
 *   (`{quantities: [{timestamp, quantity}], total}`); default: the last 24
 *   hours by hour, every customer.
 * - `GET /healthz`.
 *
 * Configuration (environment):
 * - `POLAR_ACCESS_TOKEN`, `POLAR_SERVER` (`production`, `sandbox` or a URL):
 *   where the events go (the client's `EventsClient.config`);
 * - `POLAR_ORGANIZATION_ID`: whose events the store's meter reads;
 * - `EVENTS_DB`: the event store's SQLite file (default `events.db`);
 * - `OUTBOX_DB`: the outbox's SQLite file (default `outbox.db`);
 * - `HOST`, `PORT` (default `127.0.0.1:3000`; `0` picks a free port).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { EventsClient, type Ingester, type Outbox } from "@polar-events/client"
import { Meter, Timestamp } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { SqlEventStore } from "@polar-events/store/sql"
import { Config, type ConfigError, Effect, Layer, Option, Schema } from "effect"
import { createServer } from "node:http"
import * as Usage from "./Usage.js"

/** What the service reads from its environment (besides the client's `POLAR_*`). */
export const config = Config.all({
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.integer("PORT").pipe(
    Config.validate({ message: "Expected a port, 0 to 65535 (0: any free port)", validation: (n) => n >= 0 && n <= 65535 }),
    Config.withDefault(3000)
  ),
  organizationId: Config.string("POLAR_ORGANIZATION_ID"),
  eventsFile: Config.string("EVENTS_DB").pipe(Config.withDefault("events.db")),
  outboxFile: Config.string("OUTBOX_DB").pipe(Config.withDefault("outbox.db"))
})

const UsageParams = Schema.Struct({
  customer: Schema.optional(Schema.NonEmptyTrimmedString),
  start: Schema.optional(Timestamp.Timestamp),
  end: Schema.optional(Timestamp.Timestamp),
  interval: Schema.optional(Meter.Interval),
  timezone: Schema.optional(Meter.TimeZone)
})

const badRequest = (message: string) => HttpServerResponse.unsafeJson({ error: message }, { status: 400 })

/** The routes, over the recording pipeline and the store. */
const routes = (organizationId: string) =>
  HttpLayerRouter.use((router) =>
    Effect.gen(function*() {
      const context = yield* Effect.context<Ingester.Ingester | EventStore.EventStore>()

      const greeting = Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const customer = request.headers["x-customer-id"]
        if (customer === undefined || customer.trim() === "") return badRequest("the x-customer-id header is required")
        const name = new URL(request.url, "http://service").searchParams.get("name") ?? "world"
        const recorded = yield* Effect.either(Usage.record(customer, "/api/greeting"))
        if (recorded._tag === "Left") return badRequest(recorded.left.message)
        return HttpServerResponse.unsafeJson({ greeting: `Hello, ${name}!` })
      })

      const usage = Effect.gen(function*() {
        const params = yield* Effect.either(HttpServerRequest.schemaSearchParams(UsageParams))
        if (params._tag === "Left") return badRequest(params.left.message)
        const end = params.right.end ?? new Date()
        const start = params.right.start ?? new Date(end.getTime() - 24 * 3600_000)
        const result = yield* Effect.either(Usage.quantities({
          organizationId,
          start,
          end,
          interval: params.right.interval ?? "hour",
          timezone: params.right.timezone,
          customer: params.right.customer
        }))
        if (result._tag === "Left") {
          return result.left._tag === "RequestValidationError"
            ? badRequest(result.left.message)
            : HttpServerResponse.unsafeJson({ error: "the event store failed" }, { status: 503 })
        }
        return yield* HttpServerResponse.schemaJson(Meter.MeterQuantities)(result.right)
      })

      yield* router.addAll([
        HttpLayerRouter.route("GET", "/api/greeting", Effect.provide(greeting, context)),
        HttpLayerRouter.route("GET", "/usage", Effect.provide(usage, context)),
        HttpLayerRouter.route("GET", "/healthz", Effect.succeed(HttpServerResponse.unsafeJson({ status: "ok" })))
      ])
    })
  )

/** Options of `layer`: the service's configuration and where Polar is. */
export interface Options {
  readonly host: string
  readonly port: number
  readonly organizationId: string
  readonly eventsFile: string
  readonly outboxFile: string
  readonly client: EventsClient.Options
}

/**
 * The whole service: HTTP server, routes, recording pipeline and store.
 * Its context also holds the `Ingester` and the `Outbox` (e.g. to flush).
 */
export const layer = (
  options: Options
): Layer.Layer<HttpServer.HttpServer | Ingester.Ingester | Outbox.Outbox | EventStore.EventStore, unknown> => {
  const services = Usage.layer({ outboxFile: options.outboxFile }).pipe(
    Layer.provide(EventsClient.layer(options.client).pipe(Layer.provide(NodeHttpClient.layerUndici))),
    Layer.merge(SqlEventStore.layerSqlite({ filename: options.eventsFile }))
  )
  const http = HttpLayerRouter.serve(routes(options.organizationId), { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: options.host, port: options.port }))
  )
  return http.pipe(Layer.provideMerge(services))
}

/** The options of `layer` read from the environment (see the module's doc). */
export const options: Effect.Effect<Options, ConfigError.ConfigError> = Effect.gen(function*() {
  const service = yield* config
  const client = yield* EventsClient.config
  return { ...service, client }
})

/** The service configured from the environment. */
export const layerConfig: Layer.Layer<
  HttpServer.HttpServer | Ingester.Ingester | Outbox.Outbox | EventStore.EventStore,
  unknown
> = Layer.unwrapEffect(Effect.map(options, layer))

/** The port a running service listens on, from its `HttpServer`. */
export const portOf = (server: HttpServer.HttpServer): Option.Option<number> =>
  server.address._tag === "TcpAddress" ? Option.some(server.address.port) : Option.none()
