/**
 * The client package (`@polar-events/client`, from its built dist) against
 * this server: ingest with retries (429 with Retry-After from the server's
 * rate limit, answers lost after the server processed them, 413 halving),
 * the batching ingester, list pagination, get and names, and its typed errors.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { EventsClient } from "@polar-events/client"
import { Chunk, Effect, Layer, Redacted, Stream } from "effect"
import * as DropProxy from "./utils/DropProxy.js"
import { count, ORG_A, raw, serve, TOKEN } from "./utils/harness.js"

const clientLayer = (url: string, token: string) =>
  EventsClient.layer({
    accessToken: Redacted.make(token),
    server: url,
    timeout: "10 seconds",
    retry: { initialDelay: "20 millis", maxDelay: "500 millis", maxAttempts: 30, maxElapsed: "1 minute" }
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))

const withClient = <A, E>(url: string, token: string, f: (c: EventsClient.EventsClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(EventsClient.EventsClient, f).pipe(Effect.provide(clientLayer(url, token)))

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  name: i % 3 === 0 ? "llm.generation" : "api.call",
  externalCustomerId: `customer_${i % 5}`,
  timestamp: new Date(Date.UTC(2026, 3, 1, 0, 0, i)),
  metadata: { seq: i, route: "/v1/things" },
  ...extra
})

// queries spell out `sorting`, `page` and `limit`: the client passes partial queries to core's encoder, which needs them
describe("@polar-events/client against the server", () => {
  it.scopedLive("ingest retries on 429 (honoring retry-after) and on lost answers: every event exactly once", () =>
    Effect.gen(function*() {
      const { store, url } = yield* serve({ rateLimit: { requests: 4, window: "1 second" } })
      const proxy = yield* DropProxy.make(url, 3)
      const events = Array.from({ length: 3000 }, (_, i) => event(i, { externalId: `ext_${i}` }))
      const started = Date.now()
      const result = yield* withClient(proxy.url, TOKEN.a, (c) =>
        Effect.forEach(
          Array.from({ length: 10 }, (_, k) => events.slice(k * 300, (k + 1) * 300)),
          (batch) => c.ingest(batch),
          { concurrency: 3 }
        ))
      const inserted = result.reduce((n, r) => n + r.inserted, 0)
      const duplicates = result.reduce((n, r) => n + r.duplicates, 0)
      assert.strictEqual(proxy.dropped(), 3)
      // each event is answered once; the batches whose answers were lost come back as duplicates on retry
      assert.strictEqual(inserted + duplicates, 3000)
      assert.strictEqual(duplicates, 3 * 300)
      assert.strictEqual(yield* count(store, ORG_A), 3000)
      // 10 batches of 1 request each, retries included, at 4 per second: the rate limit was hit and waited out
      assert.isTrue(Date.now() - started >= 1000, `took ${Date.now() - started} ms`)
    }))

  it.scopedLive("a 413 from the server makes the client halve its requests until they fit", () =>
    Effect.gen(function*() {
      const { store, url } = yield* serve({ maxBodyBytes: 16 * 1024 })
      const result = yield* withClient(url, TOKEN.a, (c) =>
        c.ingest(Array.from({ length: 500 }, (_, i) => event(i, { externalId: `big_${i}` }))))
      assert.deepStrictEqual(result, { inserted: 500, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), 500)
    }))

  it.scopedLive("list paginates across pages and stops; get; names", () =>
    Effect.gen(function*() {
      const { url } = yield* serve()
      yield* withClient(url, TOKEN.a, (c) =>
        Effect.gen(function*() {
          const ingested = yield* c.ingest(Array.from({ length: 257 }, (_, i) => event(i)))
          assert.deepStrictEqual(ingested, { inserted: 257, duplicates: 0 })

          const all = Chunk.toReadonlyArray(yield* Stream.runCollect(c.list({ limit: 50, sorting: ["timestamp"] })))
          assert.strictEqual(all.length, 257)
          assert.deepStrictEqual(all.map((e) => (e.metadata as { seq: number }).seq), Array.from({ length: 257 }, (_, i) => i))
          const customer = Chunk.toReadonlyArray(
            yield* Stream.runCollect(c.list({ externalCustomerId: ["customer_3"], name: ["api.call"], sorting: ["-timestamp"] }))
          )
          const expected = Array.from({ length: 257 }, (_, i) => i).filter((i) => i % 5 === 3 && i % 3 !== 0)
          assert.deepStrictEqual(customer.map((e) => (e.metadata as { seq: number }).seq).sort((a, b) => a - b), expected)

          const page = yield* c.listPage({ limit: 10, page: 3, sorting: ["-timestamp"] })
          assert.strictEqual(page.items.length, 10)
          assert.deepStrictEqual(page.pagination, { totalCount: 257, maxPage: 26 })

          const one = yield* c.get(all[100]!.id)
          assert.deepStrictEqual(one, all[100])

          const names = Chunk.toReadonlyArray(yield* Stream.runCollect(c.names({ limit: 1, sorting: ["-last_seen"] })))
          assert.deepStrictEqual(names.map((n) => [n.name, n.occurrences]).sort(), [["api.call", 171], ["llm.generation", 86]])
        }))
    }))

  it.scopedLive("the client's typed errors for the server's 401, 403, 404 and 422", () =>
    Effect.gen(function*() {
      const { url } = yield* serve()
      const unknown = yield* Effect.flip(withClient(url, "polar_oat_unknown", (c) => c.listPage({ sorting: ["-timestamp"], page: 1, limit: 10 })))
      assert.strictEqual(unknown._tag, "Unauthorized")
      const readOnly = yield* Effect.flip(withClient(url, TOKEN.aRead, (c) => c.ingest([event(1)])))
      assert.strictEqual(readOnly._tag, "Forbidden")
      const missing = yield* Effect.flip(withClient(url, TOKEN.a, (c) => c.get("7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d")))
      assert.strictEqual(missing._tag, "NotFound")
      // a query only the server checks (`query` needs organization_id and 3 characters): Polar's 422, typed
      const badQuery = yield* Effect.flip(withClient(url, TOKEN.a, (c) => c.listPage({ sorting: ["-timestamp"], page: 1, limit: 10, query: "ab" })))
      assert.strictEqual(badQuery._tag, "ValidationFailed")
      if (badQuery._tag === "ValidationFailed") {
        assert.deepStrictEqual(badQuery.detail.map((d) => d.loc), [["query", "query"], ["query", "query"]], JSON.stringify(badQuery.detail))
      }
      const names = yield* raw(url, { path: "/v1/events/names", token: TOKEN.a })
      assert.strictEqual(names.status, 200)
    }))
})
