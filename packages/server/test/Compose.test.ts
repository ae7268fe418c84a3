/**
 * The server composes into a user's own Effect HTTP service: as routes of an
 * `HttpLayerRouter` beside the user's routes, and as an `HttpApp` mounted
 * under a prefix of an `HttpRouter`. Any EventStore works (memory here).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { Polar } from "@polar-sh/sdk"
import { Context, Effect, Layer } from "effect"
import { createServer } from "node:http"
import * as EventsServer from "../src/EventsServer.js"
import { ingest, memoryStore, raw, serve, TOKEN, tokens, wireEvent } from "./utils/harness.js"

const addressOf = (context: Context.Context<HttpServer.HttpServer>) => {
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") throw new Error("expected TCP")
  return `http://127.0.0.1:${address.port}`
}

describe("composition", () => {
  it.scopedLive("EventsServer.layer beside the user's own routes in one HttpLayerRouter", () =>
    Effect.gen(function*() {
      const Hello = HttpLayerRouter.add("GET", "/hello", HttpServerResponse.text("hello from the app"))
      const app = HttpLayerRouter.serve(Layer.mergeAll(EventsServer.layer({ tokens }), Hello), { disableLogger: true }).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
        Layer.provide(memoryStore)
      )
      const url = addressOf(yield* Layer.build(app))
      assert.strictEqual((yield* raw(url, { path: "/hello" })).text, "hello from the app")
      const res = yield* ingest(url, TOKEN.a, { events: [wireEvent(1), wireEvent(2)] })
      assert.deepStrictEqual(res.json(), { inserted: 2, duplicates: 0 })
      const list = (yield* raw(url, { path: "/v1/events/", token: TOKEN.a })).json()
      assert.strictEqual(list.pagination.total_count, 2)
      assert.deepStrictEqual((yield* raw(url, { path: "/healthz" })).json(), { status: "ok" })
      assert.strictEqual((yield* raw(url, { path: "/openapi.json" })).json().openapi, "3.1.0")
    }))

  it.scopedLive("EventsServer.httpApp mounted under /polar in an HttpRouter, used by the official SDK", () =>
    Effect.gen(function*() {
      const events = yield* EventsServer.httpApp({ tokens })
      const router = HttpRouter.empty.pipe(
        HttpRouter.get("/", HttpServerResponse.text("home")),
        HttpRouter.mountApp("/polar", events)
      )
      const url = addressOf(
        yield* Layer.build(
          HttpServer.serve(router).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })))
        )
      )
      assert.strictEqual((yield* raw(url, { path: "/" })).text, "home")
      const polar = new Polar({ accessToken: TOKEN.a, serverURL: `${url}/polar` })
      const inserted = yield* Effect.promise(() =>
        polar.events.ingest({ events: [{ name: "mounted", externalCustomerId: "c1", externalId: "m1" }] })
      )
      assert.deepStrictEqual(inserted, { inserted: 1, duplicates: 0 })
      const page = yield* Effect.promise(() => polar.events.list({ name: "mounted" }))
      assert.strictEqual(page.items.length, 1)
      const got = yield* Effect.promise(() => polar.events.get({ id: page.items[0]!.id }))
      assert.strictEqual(got.name, "mounted")
    }).pipe(Effect.provide(memoryStore)))

  it.scopedLive("layerServe over the in-memory store", () =>
    Effect.gen(function*() {
      const { store, url } = yield* serve({}, memoryStore)
      const res = yield* ingest(url, TOKEN.b, { events: [wireEvent(1)] })
      assert.deepStrictEqual(res.json(), { inserted: 1, duplicates: 0 })
      const page = yield* store.list("6a0c4a40-7a4c-4b8e-9a8e-3c2b7f5d9e11", {})
      assert.strictEqual(page.items.length, 1)
    }))
})
