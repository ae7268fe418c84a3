import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ClientError from "../src/ClientError.js"
import * as EventsClient from "../src/EventsClient.js"
import * as FaultProxy from "./utils/FaultProxy.js"
import { client, event, polarServer } from "./utils/layers.js"
import type * as PolarServer from "./utils/PolarServer.js"
import * as Scripted from "./utils/ScriptedServer.js"

const ingestWith = (url: string, token: string, events: ReadonlyArray<EventsClient.EventInput>, options = {}) =>
  Effect.flatMap(EventsClient.EventsClient, (c) => c.ingest(events)).pipe(Effect.provide(client(url, token, options)))

const ingestRequests = (server: PolarServer.PolarServer) =>
  server.requests.filter((r) => r.method === "POST" && r.path === "/v1/events/ingest")

describe("EventsClient.ingest", () => {
  it.scopedLive("validates before sending: 3 bad events among 10 give 3 errors and no request", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      const events: Array<EventsClient.EventInput> = Array.from({ length: 10 }, (_, i) => event(i))
      events[2] = { name: "", externalCustomerId: "c" }
      events[5] = { name: "ok", customerId: "not-a-uuid" }
      events[7] = { name: "ok", externalCustomerId: "c", metadata: { note: "" } }
      const error = yield* Effect.flip(ingestWith(server.url, server.token, events))
      assert.strictEqual(error._tag, "ValidationFailed")
      if (error._tag !== "ValidationFailed") return
      assert.strictEqual(error.origin, "client")
      assert.deepStrictEqual(error.detail.map((d) => d.loc.slice(0, 3)), [
        ["body", "events", 2],
        ["body", "events", 5],
        ["body", "events", 7]
      ])
      assert.deepStrictEqual(error.detail.map((d) => d.loc[3]), ["name", "customer_id", "metadata"])
      assert.strictEqual(server.requests.length, 0)
    }))

  it.scopedLive("gives each event without one a stable external_id that a retry reuses", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      const events = [...Array.from({ length: 20 }, (_, i) => event(i)), { ...event(20), externalId: "mine-20" }]
      // the first request reaches the server and is stored, then its connection is dropped: the answer is lost
      const first = yield* Scripted.scoped(async (req) => {
        if (req.n === 0) {
          // forward to the real server, then drop the connection: the batch is stored, the answer lost
          await fetch(`${server.url}/v1/events/ingest`, {
            method: "POST",
            headers: { authorization: req.headers.authorization!, "content-type": "application/json" },
            body: req.body
          })
          return { status: 0, drop: true }
        }
        const res = await fetch(`${server.url}/v1/events/ingest`, {
          method: "POST",
          headers: { authorization: req.headers.authorization!, "content-type": "application/json" },
          body: req.body
        })
        return { status: res.status, body: await res.text() }
      })
      const result = yield* ingestWith(first.url, server.token, events)
      assert.deepStrictEqual(result, { inserted: 0, duplicates: 21 })
      assert.strictEqual(first.seen.length, 2)
      const ids = (n: number) =>
        (JSON.parse(first.seen[n]!.body) as { events: Array<{ external_id: string }> }).events.map((e) => e.external_id)
      assert.deepStrictEqual(ids(1), ids(0))
      assert.strictEqual(new Set(ids(0)).size, 21)
      assert.strictEqual(ids(0)[20], "mine-20")
      assert.match(ids(0)[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.strictEqual(server.stored.size, 21)
    }))

  it.scopedLive("splits by count and sums the answers", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      const events = Array.from({ length: 250 }, (_, i) => event(i))
      const result = yield* ingestWith(server.url, server.token, events, { maxBatchSize: 100 })
      assert.deepStrictEqual(result, { inserted: 250, duplicates: 0 })
      assert.deepStrictEqual(ingestRequests(server).map((r) => r.externalIds?.length), [100, 100, 50])
      const again = yield* ingestWith(server.url, server.token, [
        ...events.slice(0, 3).map((e, i) => ({ ...e, externalId: `x${i}` })),
        { ...event(1), externalId: "x1" }
      ])
      assert.deepStrictEqual(again, { inserted: 3, duplicates: 1 })
    }))

  it.scopedLive("splits by bytes, sends Content-Length and never a chunked body", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      const events = Array.from({ length: 400 }, (_, i) => event(i, { metadata: { seq: i, pad: "p".repeat(200) } }))
      const result = yield* ingestWith(server.url, server.token, events, { maxBodyBytes: 20_000 })
      assert.deepStrictEqual(result, { inserted: 400, duplicates: 0 })
      const requests = ingestRequests(server)
      assert.isAbove(requests.length, 4)
      for (const r of server.requests) {
        const length = Number(r.headers["content-length"])
        assert.isAtMost(length, 20_000)
        assert.isAbove(length, 15_000 * (r === requests[requests.length - 1] ? 0 : 1))
        assert.strictEqual(r.headers["transfer-encoding"], undefined)
        assert.strictEqual(r.headers["content-type"], "application/json")
      }
      assert.strictEqual(server.stored.size, 400)
    }))

  it.scopedLive("a 413 halves the batch until it fits; one event too large is PayloadTooLarge", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() => FaultProxy.start({ upstream: server.url, mix: [], maxBodyBytes: 30_000 })),
        (p) => Effect.promise(() => p.close())
      )
      const events = Array.from({ length: 1000 }, (_, i) => event(i))
      const result = yield* ingestWith(proxy.url, server.token, events)
      assert.deepStrictEqual(result, { inserted: 1000, duplicates: 0 })
      assert.strictEqual(server.stored.size, 1000)
      const tooLarge = proxy.records.filter((r) => r.fault === "TooLarge")
      assert.isAbove(tooLarge.length, 0)
      // after learning the limit the client no longer sends bodies that are too large
      const firstOk = proxy.records.findIndex((r) => r.fault === "None")
      assert.isTrue(proxy.records.slice(firstOk).every((r) => r.fault === "None"))
      const big = event(1, { metadata: { a: "a".repeat(400), b: "b".repeat(400) } })
      // the server refuses one event alone
      const tiny = yield* Effect.acquireRelease(
        Effect.promise(() => FaultProxy.start({ upstream: server.url, mix: [], maxBodyBytes: 300 })),
        (p) => Effect.promise(() => p.close())
      )
      const refused = yield* Effect.flip(ingestWith(tiny.url, server.token, [big]))
      assert.strictEqual(refused._tag, "PayloadTooLarge")
      assert.strictEqual((refused as ClientError.PayloadTooLarge).events, 1)
      assert.strictEqual(tiny.records.length, 1)
      // an event larger than the configured limit is refused without a request
      const local = yield* Effect.flip(ingestWith(tiny.url, server.token, [big], { maxBodyBytes: 600 }))
      assert.strictEqual(local._tag, "PayloadTooLarge")
      assert.strictEqual(tiny.records.length, 1)
    }))

  it.scopedLive("typed errors: 401, 403, server 422; none of them retried", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ readOnlyToken: "polar_oat_read_only" })
      const unauthorized = yield* Effect.flip(ingestWith(server.url, "polar_oat_wrong", [event(1)]))
      assert.strictEqual(unauthorized._tag, "Unauthorized")
      assert.strictEqual((unauthorized as ClientError.Unauthorized).error, "invalid_token")
      assert.strictEqual(server.requests.length, 1)

      const forbidden = yield* Effect.flip(ingestWith(server.url, "polar_oat_read_only", [event(1)]))
      assert.strictEqual(forbidden._tag, "Forbidden")
      assert.strictEqual((forbidden as ClientError.Forbidden).scope, "events:write")
      assert.strictEqual((forbidden as ClientError.Forbidden).error, "insufficient_scope")
      assert.strictEqual(server.requests.length, 2)

      // a timestamp 10 minutes ahead passes a client that allows 1 hour of skew; Polar refuses it
      const future = { ...event(1), timestamp: new Date(Date.now() + 10 * 60_000) }
      const invalid = yield* Effect.flip(
        ingestWith(server.url, server.token, [event(0), future], { clockSkew: "1 hour" })
      )
      assert.strictEqual(invalid._tag, "ValidationFailed")
      const v = invalid as ClientError.ValidationFailed
      assert.strictEqual(v.origin, "server")
      assert.deepStrictEqual(v.detail.map((d) => [d.loc, d.type]), [[["body", "events", 1, "timestamp"], "value_error"]])
      assert.strictEqual(server.requests.length, 3)
      assert.strictEqual(server.stored.size, 0)
      assert.include(v.message, "body.events[1].timestamp")
    }))

  it.scopedLive("a 422 in a later request names the event by its index in the whole input", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      const events: Array<EventsClient.EventInput> = Array.from({ length: 30 }, (_, i) => event(i))
      events[25] = { ...event(25), timestamp: new Date(Date.now() + 10 * 60_000) }
      const error = yield* Effect.flip(
        ingestWith(server.url, server.token, events, { clockSkew: "1 hour", maxBatchSize: 10 })
      )
      assert.strictEqual(error._tag, "ValidationFailed")
      assert.deepStrictEqual((error as ClientError.ValidationFailed).detail[0]!.loc, ["body", "events", 25, "timestamp"])
      assert.strictEqual(server.stored.size, 20)
    }))

  it.scopedLive("sends the Polar-Version header when set; an unknown version is a 404", () =>
    Effect.gen(function*() {
      const server = yield* polarServer()
      yield* ingestWith(server.url, server.token, [event(1)], { polarVersion: "2026-04" })
      assert.strictEqual(server.requests[0]!.headers["polar-version"], "2026-04")
      assert.strictEqual(server.requests[0]!.headers.authorization, `Bearer ${server.token}`)
      const error = yield* Effect.flip(ingestWith(server.url, server.token, [event(2)], { polarVersion: "1999-01" }))
      assert.strictEqual(error._tag, "NotFound")
      yield* ingestWith(server.url, server.token, [event(3)])
      assert.strictEqual(server.requests[2]!.headers["polar-version"], undefined)
    }))

  it.scopedLive("an answer that breaks the spec is a ResponseDecodeError naming the path", () =>
    Effect.gen(function*() {
      const bad = yield* Scripted.scoped(() => ({ status: 200, body: JSON.stringify({ inserted: "1", duplicates: 0 }) }))
      const error = yield* Effect.flip(ingestWith(bad.url, "polar_oat_x_token", [event(1)]))
      assert.strictEqual(error._tag, "ResponseDecodeError")
      assert.deepStrictEqual((error as ClientError.ResponseDecodeError).path, ["inserted"])
      assert.strictEqual(bad.seen.length, 1)
      const notJson = yield* Scripted.scoped(() => ({ status: 200, body: "<html>" }))
      const error2 = yield* Effect.flip(ingestWith(notJson.url, "polar_oat_x_token", [event(1)]))
      assert.strictEqual(error2._tag, "ResponseDecodeError")
      assert.strictEqual((error2 as ClientError.ResponseDecodeError).issue, "the body is not JSON")
      const bad422 = yield* Scripted.scoped(() => ({ status: 422, body: JSON.stringify({ detail: [{ loc: "x" }] }) }))
      const error3 = yield* Effect.flip(ingestWith(bad422.url, "polar_oat_x_token", [event(1)]))
      assert.strictEqual(error3._tag, "ResponseDecodeError")
      assert.deepStrictEqual((error3 as ClientError.ResponseDecodeError).path, ["detail", 0, "loc"])
    }))
})
