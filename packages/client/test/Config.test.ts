import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as EventsClient from "../src/EventsClient.js"
import { event, polarServer } from "./utils/layers.js"

const TOKEN = "polar_oat_config_test_token"

describe("EventsClient configuration", () => {
  it("names servers: production, sandbox or any http(s) URL", () => {
    assert.strictEqual(EventsClient.baseUrlOf(undefined), "https://api.polar.sh")
    assert.strictEqual(EventsClient.baseUrlOf("production"), "https://api.polar.sh")
    assert.strictEqual(EventsClient.baseUrlOf("sandbox"), "https://sandbox-api.polar.sh")
    assert.strictEqual(EventsClient.baseUrlOf("http://127.0.0.1:8080/"), "http://127.0.0.1:8080")
    assert.strictEqual(EventsClient.baseUrlOf(new URL("https://polar.example.com/api")), "https://polar.example.com/api")
    assert.throws(() => EventsClient.baseUrlOf("ftp://x"), /http\(s\)/)
    assert.throws(() => EventsClient.baseUrlOf("not a url"))
  })

  it.scopedLive("layerConfig reads POLAR_ACCESS_TOKEN, POLAR_SERVER, POLAR_VERSION and POLAR_TIMEOUT", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const provider = ConfigProvider.fromMap(
        new Map([
          ["POLAR_ACCESS_TOKEN", TOKEN],
          ["POLAR_SERVER", server.url],
          ["POLAR_VERSION", "2026-04"],
          ["POLAR_TIMEOUT", "10 seconds"]
        ])
      )
      const layer = EventsClient.layerConfig().pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provide(Layer.setConfigProvider(provider))
      )
      const result = yield* Effect.flatMap(EventsClient.EventsClient, (c) =>
        Effect.map(c.ingest([event(1)]), (r) => [c.baseUrl, r] as const)).pipe(Effect.provide(layer))
      assert.deepStrictEqual(result, [server.url, { inserted: 1, duplicates: 0 }])
      assert.strictEqual(server.requests[0]!.headers.authorization, `Bearer ${TOKEN}`)
      assert.strictEqual(server.requests[0]!.headers["polar-version"], "2026-04")

      // options in code win over configuration
      const overridden = EventsClient.layerConfig({ polarVersion: "2026-10" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provide(Layer.setConfigProvider(provider))
      )
      yield* Effect.flatMap(EventsClient.EventsClient, (c) => c.ingest([event(2)])).pipe(Effect.provide(overridden))
      assert.strictEqual(server.requests[1]!.headers["polar-version"], "2026-10")

      // without a token the layer fails with a ConfigError naming it
      const missing = EventsClient.layerConfig().pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      const error = yield* Effect.flip(Effect.provide(EventsClient.EventsClient, missing))
      assert.include(String(error), "POLAR_ACCESS_TOKEN")
    }))
})
