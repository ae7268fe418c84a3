/**
 * The official SDK (`@polar-sh/sdk` 0.49, Node 20) pointed at the server with
 * `serverURL`: it ingests, lists with filters, gets, lists names, and maps
 * the server's errors to its own error classes.
 */
import { assert, layer } from "@effect/vitest"
import { Polar } from "@polar-sh/sdk"
import { HTTPValidationError } from "@polar-sh/sdk/models/errors/httpvalidationerror.js"
import { PolarError } from "@polar-sh/sdk/models/errors/polarerror.js"
import { ResourceNotFound } from "@polar-sh/sdk/models/errors/resourcenotfound.js"
import { Effect } from "effect"
import { count, layerServer, ORG_A, ORG_B, Server, TOKEN } from "./utils/harness.js"

const CUSTOMER = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 10, minute, 0))

const sdk = (url: string, token: string) => new Polar({ accessToken: token, serverURL: url })

const attempt = <A>(f: () => Promise<A>) => Effect.promise(() => f().then((value) => ({ value }), (error: unknown) => ({ error })))

layer(layerServer(), { excludeTestServices: true })("official SDK", (it) => {
  it.effect("ingests, lists with filters, gets and lists names", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const polar = sdk(url, TOKEN.a)

      const events = Array.from({ length: 30 }, (_, i) => ({
        name: i % 3 === 0 ? "llm.generation" : "api.call",
        externalCustomerId: `customer_${i % 2}`,
        externalId: `sdk_${i}`,
        timestamp: at(i),
        metadata: { route: i % 2 === 0 ? "/v1/chat" : "/v1/embed", tokens: i * 10, cached: i % 5 === 0 }
      }))
      const ingested = yield* Effect.promise(() => polar.events.ingest({ events }))
      assert.deepStrictEqual(ingested, { inserted: 30, duplicates: 0 })
      const again = yield* Effect.promise(() => polar.events.ingest({ events: events.slice(0, 5) }))
      assert.deepStrictEqual(again, { inserted: 0, duplicates: 5 })
      const byCustomer = yield* Effect.promise(() =>
        polar.events.ingest({
          events: [{
            name: "file_uploaded",
            customerId: CUSTOMER,
            timestamp: at(45),
            metadata: { bytes: 1024, _cost: { amount: 0.5, currency: "usd" } }
          }]
        })
      )
      assert.deepStrictEqual(byCustomer, { inserted: 1, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), 31)

      // filters: repeated keys, deepObject metadata, a meter filter, exclusive time bounds, sorting, paging
      const page = yield* Effect.promise(() =>
        polar.events.list({
          name: ["api.call", "llm.generation"],
          externalCustomerId: "customer_0",
          metadata: { route: "/v1/chat" },
          filter: JSON.stringify({
            conjunction: "and",
            clauses: [{ property: "tokens", operator: "gte", value: 60 }]
          }),
          startTimestamp: at(6),
          endTimestamp: at(28),
          sorting: ["timestamp"],
          limit: 3,
          page: 2
        })
      )
      assert.isTrue("totalCount" in page.pagination)
      const expected = events
        .map((e, i) => ({ ...e, i }))
        .filter((e) => e.i % 2 === 0 && e.i * 10 >= 60 && e.i > 6 && e.i < 28)
      assert.deepStrictEqual(page.pagination, { totalCount: expected.length, maxPage: Math.ceil(expected.length / 3) })
      assert.deepStrictEqual(page.items.map((e) => e.timestamp.toISOString()), expected.slice(3, 6).map((e) => e.timestamp.toISOString()))
      for (const e of page.items) {
        assert.strictEqual(e.source, "user")
        assert.strictEqual(e.organizationId, ORG_A)
        assert.strictEqual(e.externalCustomerId, "customer_0")
        assert.strictEqual(e.customerId, null)
        assert.strictEqual((e.metadata as Record<string, unknown>).route, "/v1/chat")
      }

      const newest = yield* Effect.promise(() => polar.events.list({ customerId: CUSTOMER }))
      assert.strictEqual(newest.items.length, 1)
      const upload = newest.items[0]!
      assert.strictEqual(upload.name, "file_uploaded")
      assert.strictEqual(upload.customerId, CUSTOMER)
      assert.deepStrictEqual((upload.metadata as Record<string, unknown>)._cost, { amount: "0.5", currency: "usd" })

      const got = yield* Effect.promise(() => polar.events.get({ id: upload.id }))
      assert.deepStrictEqual(got, upload)

      const names: Array<{ name: string; occurrences: number }> = []
      let pages = 0
      const iterator = yield* Effect.promise(() => polar.events.listNames({ limit: 1 }))
      yield* Effect.promise(async () => {
        for await (const p of iterator) {
          pages++
          for (const n of p.result.items) names.push({ name: n.name, occurrences: n.occurrences })
        }
      })
      assert.strictEqual(pages, 3)
      assert.deepStrictEqual(
        names.sort((a, b) => a.name.localeCompare(b.name)),
        [{ name: "api.call", occurrences: 20 }, { name: "file_uploaded", occurrences: 1 }, {
          name: "llm.generation",
          occurrences: 10
        }]
      )
      const userNames = yield* Effect.promise(() => polar.events.listNames({ source: "user", query: "llm" }))
      assert.deepStrictEqual(userNames.result.items.map((n) => n.name), ["llm.generation"])
    }))

  it.effect("the SDK's error classes: 422 HTTPValidationError, 404 ResourceNotFound, 401/403 PolarError", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const before = yield* count(store, ORG_B)
      const polar = sdk(url, TOKEN.b)

      const future = yield* attempt(() =>
        polar.events.ingest({
          events: [{ name: "ok", externalCustomerId: "c" }, { name: "late", externalCustomerId: "c", timestamp: new Date(Date.now() + 3_600_000) }]
        })
      )
      assert.instanceOf((future as { error: unknown }).error, HTTPValidationError)
      const detail = ((future as { error: HTTPValidationError }).error).detail!
      assert.deepStrictEqual(detail.map((d) => d.loc), [["body", "events", 1, "timestamp"]])
      assert.strictEqual(detail[0]!.msg, "Value error, Timestamp must be in the past.")
      assert.strictEqual(yield* count(store, ORG_B), before)

      const missing = yield* attempt(() => polar.events.get({ id: "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d" }))
      const notFound = (missing as { error: ResourceNotFound }).error
      assert.instanceOf(notFound, ResourceNotFound)
      assert.strictEqual(notFound.detail, "Not found")

      const badQuery = yield* attempt(() => polar.events.list({ startTimestamp: new Date(Number.NaN) }))
      assert.isDefined((badQuery as { error: unknown }).error)

      const beforeA = yield* count(store, ORG_A)
      const readOnly = yield* attempt(() => sdk(url, TOKEN.aRead).events.ingest({ events: [{ name: "x", externalCustomerId: "c" }] }))
      const forbidden = (readOnly as { error: PolarError }).error
      assert.instanceOf(forbidden, PolarError)
      assert.strictEqual(forbidden.statusCode, 403)
      const unknown = yield* attempt(() => sdk(url, "polar_oat_unknown").events.list({}))
      assert.strictEqual((unknown as { error: PolarError }).error.statusCode, 401)
      assert.strictEqual(yield* count(store, ORG_A), beforeA)
    }))
})
