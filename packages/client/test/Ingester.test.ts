import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import type * as EventsClient from "../src/EventsClient.js"
import * as Ingester from "../src/Ingester.js"
import { client, event, eventually, polarServer, realSleep } from "./utils/layers.js"
import type * as PolarServer from "./utils/PolarServer.js"
import * as Scripted from "./utils/ScriptedServer.js"

const TOKEN = "polar_oat_ingester_test_token"

/** Runs `f` with an ingester whose scope closes (and flushes) when `f` ends. */
const withIngester = <A, E>(
  url: string,
  options: Ingester.Options,
  f: (ingester: Ingester.Service) => Effect.Effect<A, E>,
  clientOptions: Partial<EventsClient.Options> = {}
) => Effect.scoped(Effect.flatMap(Ingester.make(options), f)).pipe(Effect.provide(client(url, TOKEN, clientOptions)))

const batches = (server: PolarServer.PolarServer) =>
  server.requests.filter((r) => r.path === "/v1/events/ingest" && r.status === 200).map((r) => r.externalIds!.length)

const seqs = (server: PolarServer.PolarServer) =>
  [...server.stored.values()].map((e) => (e.wire.metadata as { seq: number }).seq).sort((a, b) => a - b)

describe("Ingester", () => {
  it.scopedLive("offer returns at once; batches leave by count; the rest on close", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const stats = yield* withIngester(server.url, { maxBatchSize: 100, maxBatchAge: "1 hour" }, (ingester) =>
        Effect.gen(function*() {
          const t0 = Date.now()
          for (let i = 0; i < 350; i++) assert.isTrue(yield* ingester.offer(event(i)))
          assert.isBelow(Date.now() - t0, 1000)
          yield* eventually(() => batches(server).length === 3)
          yield* realSleep(100)
          assert.deepStrictEqual(batches(server), [100, 100, 100])
          const s = yield* ingester.stats
          assert.strictEqual(s.queued, 50)
          assert.strictEqual(s.sent, 300)
          return ingester.stats
        }))
      assert.deepStrictEqual(batches(server).sort(), [100, 100, 100, 50].sort())
      assert.deepStrictEqual(seqs(server), Array.from({ length: 350 }, (_, i) => i))
      const final = yield* stats
      assert.strictEqual(final.sent, 350)
      assert.strictEqual(final.queued, 0)
      assert.strictEqual(final.batches, 4)
    }))

  it.scoped("a batch leaves when its oldest event is maxBatchAge old (TestClock)", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      yield* withIngester(server.url, { maxBatchSize: 1000, maxBatchAge: "2 seconds" }, (ingester) =>
        Effect.gen(function*() {
          for (let i = 0; i < 10; i++) yield* ingester.offer(event(i))
          yield* realSleep(100)
          yield* TestClock.adjust("1 second")
          yield* realSleep(100)
          assert.strictEqual(server.requests.length, 0)
          yield* TestClock.adjust("1 second")
          yield* eventually(() => server.stored.size === 10)
          assert.deepStrictEqual(batches(server), [10])
        }), { timeout: "1 hour" })
    }))

  it.scopedLive("a batch leaves when it reaches maxBatchBytes", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      yield* withIngester(server.url, { maxBatchBytes: 10_000, maxBatchAge: "1 hour" }, (ingester) =>
        Effect.gen(function*() {
          for (let i = 0; i < 200; i++) yield* ingester.offer(event(i, { metadata: { seq: i, pad: "x".repeat(100) } }))
          yield* eventually(() => server.requests.length >= 3)
        }))
      assert.strictEqual(server.stored.size, 200)
      for (const r of server.requests) assert.isAtMost(Number(r.headers["content-length"]), 10_000 + 13 + 100)
      assert.isAbove(server.requests.length, 3)
    }))

  it.scopedLive("backpressure: offer waits while the queue is full, nothing is lost", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped(async (req) => {
        await new Promise((r) => setTimeout(r, 50))
        return Scripted.ingested(req)
      })
      let maxQueued = 0
      const stats = yield* withIngester(
        server.url,
        { capacity: 20, maxBatchSize: 10, maxBatchAge: "10 millis", concurrency: 1 },
        (ingester) =>
          Effect.gen(function*() {
            const t0 = Date.now()
            for (let i = 0; i < 200; i++) {
              assert.isTrue(yield* ingester.offer(event(i)))
              maxQueued = Math.max(maxQueued, (yield* ingester.stats).queued)
            }
            assert.isAbove(Date.now() - t0, 500, "offers were held back")
            yield* ingester.flush
            return yield* ingester.stats
          })
      )
      assert.isAtMost(maxQueued, 20)
      assert.strictEqual(stats.sent, 200)
      assert.strictEqual(stats.dropped, 0)
      const sent = server.seen.flatMap((s) => (JSON.parse(s.body) as { events: Array<unknown> }).events)
      assert.strictEqual(sent.length, 200)
    }))

  for (const strategy of ["dropping", "sliding"] as const) {
    it.scopedLive(`${strategy}: offer never waits; a full queue drops ${strategy === "dropping" ? "the new" : "the oldest"} events`, () =>
      Effect.gen(function*() {
        let release!: () => void
        const gate = new Promise<void>((r) => (release = r))
        const server = yield* Scripted.scoped(async (req) => {
          await gate
          return Scripted.ingested(req)
        })
        const stats = yield* withIngester(
          server.url,
          { capacity: 10, maxBatchSize: 5, maxBatchAge: "1 millis", concurrency: 1, strategy },
          (ingester) =>
            Effect.gen(function*() {
              yield* ingester.offer(event(0))
              yield* eventually(() => server.seen.length === 1) // event 0 is in flight, held by the server
              const accepted: Array<boolean> = []
              for (let i = 1; i <= 30; i++) accepted.push(yield* ingester.offer(event(i)))
              if (strategy === "dropping") {
                assert.deepStrictEqual(accepted, Array.from({ length: 30 }, (_, i) => i < 10))
              } else {
                assert.isTrue(accepted.every((a) => a))
              }
              assert.strictEqual((yield* ingester.stats).dropped, 20)
              release()
              yield* ingester.flush
              return yield* ingester.stats
            })
        )
        const sent = server.seen.flatMap((s) =>
          (JSON.parse(s.body) as { events: Array<{ metadata: { seq: number } }> }).events.map((e) => e.metadata.seq)
        )
        const kept = strategy === "dropping" ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]
        assert.deepStrictEqual(sent.sort((a, b) => a - b), [0, ...kept])
        assert.strictEqual(stats.sent, 11)
        assert.strictEqual(stats.dropped, 20)
      }))
  }

  it.scopedLive("closing the scope flushes everything it holds", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      yield* withIngester(server.url, { maxBatchSize: 500, maxBatchAge: "1 hour" }, (ingester) =>
        Effect.gen(function*() {
          for (let i = 0; i < 1234; i++) yield* ingester.offer(event(i))
        }))
      assert.deepStrictEqual(seqs(server), Array.from({ length: 1234 }, (_, i) => i))
    }))

  it.scopedLive("closing gives up after shutdownTimeout and reports what it could not send", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped(() => new Promise<Scripted.Answer>(() => {}))
      const failures: Array<Ingester.Failure> = []
      const t0 = Date.now()
      let stats!: Effect.Effect<Ingester.Stats>
      yield* withIngester(
        server.url,
        {
          maxBatchSize: 10,
          maxBatchAge: "1 hour",
          concurrency: 1,
          shutdownTimeout: "300 millis",
          onFailure: (f) => Effect.sync(() => void failures.push(f))
        },
        (ingester) =>
          Effect.gen(function*() {
            stats = ingester.stats
            for (let i = 0; i < 25; i++) yield* ingester.offer(event(i))
            yield* eventually(() => server.seen.length === 1)
          })
      )
      assert.isBelow(Date.now() - t0, 3000)
      const s = yield* stats
      assert.strictEqual(s.failed, 25)
      assert.strictEqual(s.sent, 0)
      assert.deepStrictEqual(failures.map((f) => [f.events.length, f.error]), [[15, "shutdown-timeout"]])
    }))

  it.scopedLive("offer rejects an invalid event; offerAll queues all or none", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      yield* withIngester(server.url, {}, (ingester) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(ingester.offer({ name: "x".repeat(129), externalCustomerId: "c" }))
          assert.strictEqual(error._tag, "ValidationFailed")
          const all = yield* Effect.flip(ingester.offerAll([event(1), { name: "ok", customerId: "nope" }, event(3)]))
          assert.strictEqual(all._tag, "ValidationFailed")
          assert.strictEqual((yield* ingester.stats).queued, 0)
          assert.strictEqual(yield* ingester.offerAll([event(1), event(2)]), 2)
        }))
      assert.deepStrictEqual(seqs(server), [1, 2])
    }))

  it.scopedLive("a 422 from the server fails only the events it names; the rest of the batch is sent", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const failures: Array<Ingester.Failure> = []
      let stats!: Effect.Effect<Ingester.Stats>
      yield* withIngester(
        server.url,
        { maxBatchSize: 50, maxBatchAge: "1 hour", onFailure: (f) => Effect.sync(() => void failures.push(f)) },
        (ingester) =>
          Effect.gen(function*() {
            stats = ingester.stats
            for (let i = 0; i < 50; i++) {
              const future = i % 10 === 3 ? { timestamp: new Date(Date.now() + 600_000) } : {}
              yield* ingester.offer(event(i, future))
            }
          }),
        { clockSkew: "1 hour" }
      )
      const s = yield* stats
      assert.strictEqual(s.failed, 5)
      assert.strictEqual(s.sent, 45)
      assert.deepStrictEqual(seqs(server), Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 10 !== 3))
      assert.strictEqual(failures.length, 1)
      assert.strictEqual(failures[0]!.events.length, 5)
    }))

  it.scopedLive("stats count retries and duplicates", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const flaky = yield* Scripted.scoped(async (req) => {
        const res = await fetch(`${server.url}/v1/events/ingest`, {
          method: "POST",
          headers: { authorization: req.headers.authorization!, "content-type": "application/json" },
          body: req.body
        })
        const body = await res.text()
        return req.n === 0 ? { status: 503 } : req.n === 1 ? { status: 0, drop: true } : { status: res.status, body }
      })
      const fiber = yield* Effect.fork(
        withIngester(flaky.url, { maxBatchSize: 10, maxBatchAge: "1 hour", concurrency: 1 }, (ingester) =>
          Effect.gen(function*() {
            for (let i = 0; i < 10; i++) yield* ingester.offer(event(i, { externalId: `e${i}` }))
            yield* ingester.flush
            return yield* ingester.stats
          }))
      )
      const s = yield* Fiber.join(fiber)
      // attempt 1: 503 (stored), attempt 2: dropped after storing, attempt 3: all duplicates
      assert.strictEqual(s.retried, 2)
      assert.strictEqual(s.duplicates, 10)
      assert.strictEqual(s.sent, 0)
      assert.strictEqual(server.stored.size, 10)
    }))
})
