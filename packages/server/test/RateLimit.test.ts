/**
 * The optional rate limit: 429 with an empty body and `retry-after`, per
 * token by default or per organization, shared by every endpoint, and off
 * unless configured.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { count, ingest, ORG_A, raw, serve, TOKEN, wireEvent } from "./utils/harness.js"

describe("rate limit", () => {
  it.scopedLive("off by default: 300 quick requests all succeed", () =>
    Effect.gen(function*() {
      const { url } = yield* serve()
      const statuses = yield* Effect.forEach(
        Array.from({ length: 300 }, (_, i) => i),
        () => Effect.map(raw(url, { path: "/v1/events/names", token: TOKEN.a }), (r) => r.status),
        { concurrency: 20 }
      )
      assert.deepStrictEqual(new Set(statuses), new Set([200]))
    }))

  it.scopedLive("per token: the request over the limit gets 429 + retry-after, other tokens are not affected", () =>
    Effect.gen(function*() {
      const { store, url } = yield* serve({ rateLimit: { requests: 3, window: "1 minute" } })
      for (let i = 0; i < 2; i++) assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.a })).status, 200)
      assert.strictEqual((yield* ingest(url, TOKEN.a, { events: [wireEvent(1)] })).status, 200)
      const before = yield* count(store, ORG_A)
      // ingest shares the budget with reads, and a refused ingest writes nothing
      const limited = yield* ingest(url, TOKEN.a, { events: [wireEvent(2)] })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.text, "")
      const retryAfter = Number(limited.headers["retry-after"])
      assert.isTrue(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, String(retryAfter))
      assert.strictEqual(yield* count(store, ORG_A), before)
      for (const path of ["/v1/events/", "/v1/events/names", "/v1/events/7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"]) {
        const res = yield* raw(url, { path, token: TOKEN.a })
        assert.strictEqual(res.status, 429, path)
        assert.isDefined(res.headers["retry-after"])
      }
      // another token of the same organization has its own budget
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.aRead })).status, 200)
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.b })).status, 200)
      // an unknown token is refused before it is counted (401, not 429)
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: "polar_oat_nope" })).status, 401)
    }))

  it.scopedLive("per organization, as Polar counts, and the window reopens", () =>
    Effect.gen(function*() {
      const { url } = yield* serve({ rateLimit: { requests: 2, window: "1200 millis", per: "organization" } })
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.a })).status, 200)
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.aRead })).status, 200)
      const limited = yield* raw(url, { path: "/v1/events/", token: TOKEN.aWrite })
      assert.strictEqual(limited.status, 429)
      assert.include(["1", "2"], limited.headers["retry-after"])
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.b })).status, 200)
      yield* Effect.sleep("1300 millis")
      assert.strictEqual((yield* raw(url, { path: "/v1/events/", token: TOKEN.aWrite })).status, 200)
    }))
})
