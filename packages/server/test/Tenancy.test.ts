/**
 * Tenant isolation: an organization's token never sees or writes another
 * organization's events; a read-only token cannot ingest.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { count, ingest, layerServer, ORG_A, ORG_B, raw, Server, TOKEN, wireEvent } from "./utils/harness.js"

const q = (params: Record<string, string>) => new URLSearchParams(params).toString()

layer(layerServer(), { excludeTestServices: true })("tenant isolation", (it) => {
  it.effect("each organization lists, gets and names only its own events", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const a = yield* ingest(url, TOKEN.a, { events: [wireEvent(1, { name: "a.only" }), wireEvent(2, { name: "shared" })] })
      assert.deepStrictEqual(a.json(), { inserted: 2, duplicates: 0 })
      // the same external ids in B are not duplicates: dedup is per organization
      const b = yield* ingest(url, TOKEN.b, { events: [wireEvent(1, { name: "b.only" }), wireEvent(2, { name: "shared" })] })
      assert.deepStrictEqual(b.json(), { inserted: 2, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), 2)
      assert.strictEqual(yield* count(store, ORG_B), 2)

      const listA = (yield* raw(url, { path: "/v1/events/?limit=100", token: TOKEN.a })).json()
      const listB = (yield* raw(url, { path: "/v1/events/?limit=100", token: TOKEN.b })).json()
      assert.deepStrictEqual(listA.items.map((e: any) => e.name).sort(), ["a.only", "shared"])
      assert.deepStrictEqual(listB.items.map((e: any) => e.name).sort(), ["b.only", "shared"])
      for (const e of listA.items) assert.strictEqual(e.organization_id, ORG_A)
      for (const e of listB.items) assert.strictEqual(e.organization_id, ORG_B)
      assert.strictEqual(listA.pagination.total_count, 2)

      // B cannot get A's event by id: 404 exactly as for an id that does not exist
      const idA = listA.items.find((e: any) => e.name === "a.only").id
      const cross = yield* raw(url, { path: `/v1/events/${idA}`, token: TOKEN.b })
      assert.strictEqual(cross.status, 404)
      assert.deepStrictEqual(cross.json(), { error: "ResourceNotFound", detail: "Not found" })
      const own = yield* raw(url, { path: `/v1/events/${idA}`, token: TOKEN.aRead })
      assert.strictEqual(own.status, 200)
      assert.strictEqual(own.json().id, idA)

      // naming A's organization does not widen B's view
      const named = (yield* raw(url, { path: `/v1/events/?${q({ organization_id: ORG_A })}`, token: TOKEN.b })).json()
      assert.deepStrictEqual(named, { items: [], pagination: { total_count: 0, max_page: 0 } })
      const byName = (yield* raw(url, { path: `/v1/events/?${q({ name: "a.only" })}`, token: TOKEN.b })).json()
      assert.deepStrictEqual(byName.items, [])
      const byCustomer = (yield* raw(url, { path: `/v1/events/?${q({ external_customer_id: "customer_1" })}`, token: TOKEN.b }))
        .json()
      assert.deepStrictEqual(byCustomer.items.map((e: any) => e.name), ["b.only"])
      const ownOrg = (yield* raw(url, { path: `/v1/events/?${q({ organization_id: ORG_B })}`, token: TOKEN.b })).json()
      assert.strictEqual(ownOrg.pagination.total_count, 2)

      const namesB = (yield* raw(url, { path: "/v1/events/names", token: TOKEN.b })).json()
      assert.deepStrictEqual(namesB.items.map((n: any) => n.name).sort(), ["b.only", "shared"])
      assert.deepStrictEqual(namesB.items.find((n: any) => n.name === "shared").occurrences, 1)
      const namesCross = (yield* raw(url, { path: `/v1/events/names?${q({ organization_id: ORG_A })}`, token: TOKEN.b }))
        .json()
      assert.deepStrictEqual(namesCross.items, [])
    }))

  it.effect("a token cannot write into another organization", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const a = yield* count(store, ORG_A)
      const b = yield* count(store, ORG_B)
      const res = yield* ingest(url, TOKEN.b, { events: [wireEvent(10, { organization_id: ORG_A })] })
      assert.strictEqual(res.status, 422)
      const body = res.json()
      assert.strictEqual(body.error, "PolarRequestValidationError")
      assert.deepStrictEqual(body.detail.map((d: any) => [d.loc, d.type]), [[
        ["body", "events", 0, "organization_id"],
        "organization_token"
      ]])
      assert.strictEqual(yield* count(store, ORG_A), a)
      assert.strictEqual(yield* count(store, ORG_B), b)
    }))

  it.effect("a read-only token cannot ingest (403 insufficient_scope), and writes nothing", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const a = yield* count(store, ORG_A)
      const res = yield* ingest(url, TOKEN.aRead, { events: [wireEvent(20)] })
      assert.strictEqual(res.status, 403)
      assert.deepStrictEqual(res.json(), {
        error: "insufficient_scope",
        error_description: "The request requires higher privileges than provided by the access token."
      })
      assert.strictEqual(
        res.headers["www-authenticate"],
        `Bearer realm="polar", scope="events:write", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token."`
      )
      assert.strictEqual(yield* count(store, ORG_A), a)
      // a write-only token may read, as on Polar (reads accept either scope)
      const read = yield* raw(url, { path: "/v1/events/", token: TOKEN.aWrite })
      assert.strictEqual(read.status, 200)
      const write = yield* ingest(url, TOKEN.aWrite, { events: [wireEvent(21)] })
      assert.deepStrictEqual(write.json(), { inserted: 1, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), a + 1)
    }))
})
