import * as PolarSpec from "@polar-events/polar-spec"
import { Event, EventQuery, Timestamp } from "@polar-events/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"
import { randomUUID } from "node:crypto"
import * as EventsClient from "../src/EventsClient.js"
import type * as ClientError from "../src/ClientError.js"
import { client, polarServer } from "./utils/layers.js"
import * as Scripted from "./utils/ScriptedServer.js"

const TOKEN = "polar_oat_query_test_token"
const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
const T0 = Date.parse("2026-08-01T00:00:00Z")

const userEvent = (i: number) => ({
  id: randomUUID(),
  timestamp: new Date(T0 + i * 60_000).toISOString(),
  organization_id: ORG,
  customer_id: null,
  customer: null,
  external_customer_id: `usr_${i % 3}`,
  member_id: null,
  external_member_id: null,
  child_count: 0,
  parent_id: null,
  label: i % 2 === 0 ? "api.call" : "llm.generation",
  name: i % 2 === 0 ? "api.call" : "llm.generation",
  source: "user",
  metadata: { seq: i, model: i % 4 === 1 ? "gpt-4.1" : "other" }
})

const example = (name: string) => PolarSpec.example(name) as Record<string, unknown>

const run = <A, E>(url: string, f: (c: EventsClient.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(EventsClient.EventsClient, f).pipe(Effect.provide(client(url, TOKEN)))

const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

const listRequests = (server: { requests: ReadonlyArray<{ path: string; rawQuery: string }> }, path: string) =>
  server.requests.filter((r) => r.path === path).map((r) => r.rawQuery)

describe("EventsClient reads", () => {
  it.scopedLive("list pages through every event, 100 at a time, and stops after the last page", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      server.seed(Array.from({ length: 250 }, (_, i) => userEvent(i)))
      const events = yield* run(server.url, (c) => collect(c.list()))
      assert.strictEqual(events.length, 250)
      assert.deepStrictEqual(
        events.map((e) => (e.metadata as { seq: number }).seq),
        Array.from({ length: 250 }, (_, i) => 249 - i)
      )
      assert.isTrue(events[0]!.timestamp instanceof Date)
      assert.deepStrictEqual(listRequests(server, "/v1/events/"), ["limit=100", "page=2&limit=100", "page=3&limit=100"])

      const small = yield* run(server.url, (c) => collect(c.list({ limit: 30, name: ["api.call"], sorting: ["timestamp"] })))
      assert.strictEqual(small.length, 125)
      assert.deepStrictEqual(small.map((e) => (e.metadata as { seq: number }).seq).slice(0, 3), [0, 2, 4])
      const pages = listRequests(server, "/v1/events/").slice(3)
      assert.strictEqual(pages.length, 5)
      assert.strictEqual(pages[0], "name=api.call&limit=30&sorting=timestamp")
      assert.strictEqual(pages[4], "name=api.call&page=5&limit=30&sorting=timestamp")

      const exact = yield* run(server.url, (c) => collect(c.list({ limit: 50, name: ["llm.generation"] })))
      assert.strictEqual(exact.length, 125)
      assert.strictEqual(listRequests(server, "/v1/events/").length, 8 + 3, "stops at max_page without an extra request")

      const none = yield* run(server.url, (c) => collect(c.list({ name: ["nothing"] })))
      assert.strictEqual(none.length, 0)
    }))

  it.scopedLive("listPage sends every parameter in Polar's encoding", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      server.seed([userEvent(1)])
      const query: EventsClient.ListQuery = {
        filter: {
          conjunction: "and",
          clauses: [{ property: "model", operator: "eq", value: "gpt-4.1" }, {
            conjunction: "or",
            clauses: [{ property: "seq", operator: "gte", value: 1 }]
          }]
        },
        startTimestamp: new Date("2026-07-01T00:00:00Z"),
        endTimestamp: Timestamp.parse("2026-08-21T14:03:12.481923+02:00") as Date,
        organizationId: [ORG, "8f8a2c5e-36b5-4c55-9a63-1c8dd0b6d3a1"] as never,
        customerId: ["992fae2a-2a17-4b7a-8d9e-e287cf90131b", "7b1e3f7c-3c6a-4a69-8f6b-1e2d3c4b5a69"] as never,
        externalCustomerId: ["usr_1", "usr 2&3"],
        meterId: "5d3c0b6e-1f2a-4b8c-9d7e-0a1b2c3d4e5f" as never,
        name: ["api.call", "llm.generation"],
        source: ["user", "system"],
        query: "gpt",
        parentId: "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01" as never,
        depth: 2,
        metadata: { model: ["gpt-4.1", "gpt-5"], "tier name": ["pro&plus"] },
        sorting: ["timestamp"],
        page: 2,
        limit: 50
      }
      yield* run(server.url, (c) => c.listPage(query))
      const raw = listRequests(server, "/v1/events/")[0]!
      const filterJson =
        `{"conjunction":"and","clauses":[{"property":"model","operator":"eq","value":"gpt-4.1"},` +
        `{"conjunction":"or","clauses":[{"property":"seq","operator":"gte","value":1}]}]}`
      const expected = [
        `filter=${encodeURIComponent(filterJson)}`,
        "start_timestamp=2026-07-01T00%3A00%3A00Z",
        "end_timestamp=2026-08-21T14%3A03%3A12.481923%2B02%3A00",
        `organization_id=${ORG}`,
        "organization_id=8f8a2c5e-36b5-4c55-9a63-1c8dd0b6d3a1",
        "customer_id=992fae2a-2a17-4b7a-8d9e-e287cf90131b",
        "customer_id=7b1e3f7c-3c6a-4a69-8f6b-1e2d3c4b5a69",
        "external_customer_id=usr_1",
        "external_customer_id=usr%202%263",
        "meter_id=5d3c0b6e-1f2a-4b8c-9d7e-0a1b2c3d4e5f",
        "name=api.call",
        "name=llm.generation",
        "source=user",
        "source=system",
        "query=gpt",
        "parent_id=3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01",
        "depth=2",
        "metadata[model]=gpt-4.1",
        "metadata[model]=gpt-5",
        "metadata[tier%20name]=pro%26plus",
        "sorting=timestamp",
        "page=2",
        "limit=50"
      ]
      const segments = raw.split("&")
      assert.deepStrictEqual([...segments].sort(), [...expected].sort())
      // repeated keys keep their order
      for (const key of ["organization_id", "customer_id", "external_customer_id", "name", "source", "metadata[model]"]) {
        assert.deepStrictEqual(
          segments.filter((s) => s.startsWith(`${key}=`)),
          expected.filter((s) => s.startsWith(`${key}=`))
        )
      }
      assert.deepStrictEqual(JSON.parse(decodeURIComponent(segments[0]!.slice("filter=".length))), query.filter)
      assert.strictEqual(server.requests[0]!.status, 200, "the server read the query back")

      yield* run(server.url, (c) => c.listPage({}))
      assert.strictEqual(listRequests(server, "/v1/events/")[1], "", "defaults are left out")
      yield* run(server.url, (c) => c.listPage({ limit: 500 }))
      assert.strictEqual(listRequests(server, "/v1/events/")[2], "limit=500")
    }))

  it.scopedLive("names pages through event names with its own parameters", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      server.seed(Array.from({ length: 120 }, (_, i) => ({ ...userEvent(i), name: `event.${i % 120}` })))
      server.seed([example("system-event-meter-credited")])
      const names = yield* run(server.url, (c) => collect(c.names({ limit: 50 })))
      assert.strictEqual(names.length, 121)
      assert.isTrue(names.every((n) => n.firstSeen instanceof Date && n.occurrences === 1))
      assert.deepStrictEqual(listRequests(server, "/v1/events/names"), ["limit=50", "page=2&limit=50", "page=3&limit=50"])
      const system = yield* run(server.url, (c) =>
        c.namesPage({ source: ["system"], customerId: ["992fae2a-2a17-4b7a-8d9e-e287cf90131b"] as never, query: "meter" }))
      assert.deepStrictEqual(system.items.map((n) => n.name), ["meter.credited"])
      assert.deepStrictEqual(system.pagination, { totalCount: 1, maxPage: 1 })
      assert.strictEqual(
        listRequests(server, "/v1/events/names")[3],
        "customer_id=992fae2a-2a17-4b7a-8d9e-e287cf90131b&source=system&query=meter"
      )
    }))

  it.scopedLive("get decodes any event, system ones included; an unknown id is NotFound", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const credited = example("system-event-meter-credited")
      const unknown = { ...credited, id: randomUUID(), name: "subscription.units_updated", label: "Units" }
      server.seed([credited, unknown, example("user-event")])
      const e = yield* run(server.url, (c) => c.get(credited.id as string))
      assert.strictEqual(e.name, "meter.credited")
      assert.strictEqual(e.source, "system")
      assert.deepStrictEqual(Schema.encodeSync(Event.Event)(e), credited as never)
      const u = yield* run(server.url, (c) => c.get(unknown.id))
      assert.strictEqual(u.name, "subscription.units_updated")
      const user = yield* run(server.url, (c) => c.get("7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"))
      assert.strictEqual(user.source, "user")
      const missing = yield* Effect.flip(run(server.url, (c) => c.get(randomUUID())))
      assert.strictEqual(missing._tag, "NotFound")
      assert.strictEqual((missing as ClientError.NotFound).detail, "Not found")
      assert.strictEqual(server.requests.filter((r) => r.status === 404).length, 1, "a 404 is not retried")
    }))

  it.scopedLive("a page that breaks the spec is a ResponseDecodeError naming the item and field", () =>
    Effect.gen(function*() {
      const page = example("list-events-page")
      const items = page.items as Array<Record<string, unknown>>
      const broken = { ...page, items: [items[0], { ...items[1], timestamp: "yesterday" }] }
      const server = yield* Scripted.scoped(() => ({ status: 200, body: JSON.stringify(broken) }))
      const error = yield* Effect.flip(run(server.url, (c) => c.listPage()))
      assert.strictEqual(error._tag, "ResponseDecodeError")
      const e = error as ClientError.ResponseDecodeError
      assert.deepStrictEqual(e.path, ["items", 1, "timestamp"])
      assert.include(e.message, "items[1].timestamp")
      const ok = yield* Scripted.scoped(() => ({ status: 200, body: JSON.stringify(page) }))
      const decoded = yield* run(ok.url, (c) => c.listPage())
      assert.strictEqual(decoded.items.length, 2)
      assert.deepStrictEqual(decoded.pagination, { totalCount: 57, maxPage: 29 })
      assert.deepStrictEqual(
        Schema.encodeSync(EventQuery.ListResource(Event.Event))(decoded as never),
        page as never
      )
    }))
})
