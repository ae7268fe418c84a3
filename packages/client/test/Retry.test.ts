import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Duration, Effect, Fiber, FastCheck, Layer, TestClock } from "effect"
import type * as ClientError from "../src/ClientError.js"
import * as EventsClient from "../src/EventsClient.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { client, event, eventually, realSleep } from "./utils/layers.js"
import * as Scripted from "./utils/ScriptedServer.js"

const TOKEN = "polar_oat_retry_test_token"
const slowPolicy: RetryPolicy.RetryOptions = { initialDelay: "1 second", maxDelay: "1 minute", jitter: 0, maxAttempts: 10, maxElapsed: "1 hour" }

/**
 * Waits in real time until the client sleeps on the TestClock for a backoff
 * or a Retry-After (not for its 1-hour timeout), and returns when it wakes.
 */
const nextWake = Effect.gen(function*() {
  for (let i = 0; i < 1000; i++) {
    const now = yield* TestClock.currentTimeMillis
    const wakes = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((t) => t > now && t < now + 600_000)
    if (wakes.length > 0) return Math.min(...wakes)
    yield* realSleep(10)
  }
  return yield* Effect.dieMessage("the client never slept")
})

const ingest = (n = 1) => Effect.flatMap(EventsClient.EventsClient, (c) => c.ingest([event(n)]))

describe("RetryPolicy", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-08-21T14:00:00Z")
    assert.strictEqual(Duration.toMillis(RetryPolicy.parseRetryAfter("120", now)!), 120_000)
    assert.strictEqual(Duration.toMillis(RetryPolicy.parseRetryAfter(" 1.5 ", now)!), 1500)
    assert.strictEqual(Duration.toMillis(RetryPolicy.parseRetryAfter("Fri, 21 Aug 2026 14:00:30 GMT", now)!), 30_000)
    assert.strictEqual(Duration.toMillis(RetryPolicy.parseRetryAfter("Fri, 21 Aug 2026 13:00:00 GMT", now)!), 0)
    assert.strictEqual(RetryPolicy.parseRetryAfter("soon", now), undefined)
    assert.strictEqual(RetryPolicy.parseRetryAfter(undefined, now), undefined)
  })

  it("backs off exponentially up to the cap", () => {
    const p = RetryPolicy.make({ initialDelay: "100 millis", factor: 2, maxDelay: "1 second" })
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6].map((n) => Duration.toMillis(RetryPolicy.backoff(p, n))), [
      100,
      200,
      400,
      800,
      1000,
      1000
    ])
    assert.throws(() => RetryPolicy.make({ maxAttempts: 0 }))
    assert.throws(() => RetryPolicy.make({ jitter: 2 }))
  })

  it.prop(
    "a jittered delay stays within [backoff * (1 - jitter), backoff] and never below Retry-After",
    {
      n: FastCheck.integer({ min: 1, max: 30 }),
      random: FastCheck.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      jitter: FastCheck.double({ min: 0, max: 1, noNaN: true }),
      retryAfter: FastCheck.option(FastCheck.integer({ min: 0, max: 120_000 }), { nil: undefined })
    },
    ({ jitter, n, random, retryAfter }) => {
      const p = RetryPolicy.make({ jitter, initialDelay: "50 millis", maxDelay: "20 seconds" })
      const base = Duration.toMillis(RetryPolicy.backoff(p, n))
      const d = Duration.toMillis(
        RetryPolicy.delay(p, n, random, retryAfter === undefined ? undefined : Duration.millis(retryAfter))
      )
      const floor = retryAfter ?? 0
      assert.isAtLeast(d, Math.max(floor, base * (1 - jitter) - 1e-6))
      assert.isAtMost(d, Math.max(floor, base) + 1e-6)
    }
  )
})

describe("retries", () => {
  it.scoped("Retry-After is a floor: no retry before it has passed (TestClock)", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped((req) =>
        req.n === 0 ? { status: 429, headers: { "retry-after": "30" } } : Scripted.ingested(req)
      )
      const fiber = yield* Effect.fork(
        ingest().pipe(Effect.provide(client(server.url, TOKEN, { timeout: "1 hour", retry: slowPolicy })))
      )
      yield* eventually(() => server.seen.length === 1)
      assert.strictEqual(yield* nextWake, 30_000)
      yield* TestClock.adjust("29 seconds")
      yield* realSleep(150)
      assert.strictEqual(server.seen.length, 1)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, { inserted: 1, duplicates: 0 })
      assert.strictEqual(server.seen.length, 2)
    }))

  it.scoped("a 429 pauses every request of the client, not only the one that got it (TestClock)", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped((req) =>
        req.n === 0 ? { status: 429, headers: { "retry-after": "30" } } : Scripted.ingested(req)
      )
      const context = yield* Layer.build(client(server.url, TOKEN, { timeout: "1 hour", retry: slowPolicy }))
      const c = Context.get(context, EventsClient.EventsClient)
      const first = yield* Effect.fork(c.ingest([event(1)]))
      yield* eventually(() => server.seen.length === 1)
      assert.strictEqual(yield* nextWake, 30_000)
      const second = yield* Effect.fork(c.ingest([event(2)]))
      const list = yield* Effect.fork(c.ingest([event(3)]))
      yield* realSleep(200)
      yield* TestClock.adjust("20 seconds")
      yield* realSleep(150)
      assert.strictEqual(server.seen.length, 1, "requests started during the pause waited for it")
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      yield* Fiber.join(list)
      assert.strictEqual(server.seen.length, 4)
    }))

  it.scoped("the total time is bounded: 503 forever stops at maxElapsed (TestClock)", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped(() => ({ status: 503, body: "Service Unavailable" }))
      const fiber = yield* Effect.fork(
        ingest().pipe(
          Effect.provide(client(server.url, TOKEN, {
            timeout: "1 hour",
            retry: { ...slowPolicy, maxAttempts: 100, maxElapsed: "10 seconds" }
          })),
          Effect.flip
        )
      )
      // attempts at 0, 1, 3 and 7 s; the next (15 s) would pass the 10 s budget
      const wakes: Array<number> = []
      while (wakes.length < 3) {
        const wake = yield* nextWake
        wakes.push(wake)
        yield* TestClock.adjust(wake - (yield* TestClock.currentTimeMillis))
        yield* eventually(() => server.seen.length === wakes.length + 1)
      }
      assert.deepStrictEqual(wakes, [1000, 3000, 7000])
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual((error as ClientError.ServerError).status, 503)
      assert.strictEqual(server.seen.length, 4)
    }))

  it.scopedLive("retries 408, 500, 502, 503, 504 and dropped connections, then succeeds", () =>
    Effect.gen(function*() {
      const faults: Array<Scripted.Answer> = [
        { status: 408 },
        { status: 500, body: "boom" },
        { status: 502 },
        { status: 503 },
        { status: 504 },
        { status: 0, drop: true }
      ]
      const server = yield* Scripted.scoped((req) => faults[req.n] ?? Scripted.ingested(req))
      const result = yield* ingest().pipe(
        Effect.provide(client(server.url, TOKEN, { retry: { initialDelay: "1 millis", maxAttempts: 10 } }))
      )
      assert.deepStrictEqual(result, { inserted: 1, duplicates: 0 })
      assert.strictEqual(server.seen.length, 7)
      const bodies = new Set(server.seen.map((s) => s.body))
      assert.strictEqual(bodies.size, 1, "every attempt sent the same body, external_id included")
    }))

  it.scopedLive("never retries any other 4xx, nor 501", () =>
    Effect.gen(function*() {
      for (const status of [400, 401, 403, 404, 405, 409, 411, 413, 422, 501]) {
        const server = yield* Scripted.scoped(() => ({
          status,
          body: status === 422 ? JSON.stringify({ detail: [{ loc: ["body"], msg: "bad", type: "x" }] }) : ""
        }))
        const error = yield* Effect.flip(
          ingest().pipe(Effect.provide(client(server.url, TOKEN, { retry: { initialDelay: "1 millis" } })))
        )
        assert.strictEqual(server.seen.length, 1, `status ${status} was retried`)
        const expected: Record<number, string> = {
          400: "UnexpectedStatus",
          401: "Unauthorized",
          403: "Forbidden",
          404: "NotFound",
          405: "UnexpectedStatus",
          409: "UnexpectedStatus",
          411: "UnexpectedStatus",
          413: "PayloadTooLarge",
          422: "ValidationFailed",
          501: "ServerError"
        }
        assert.strictEqual(error._tag, expected[status])
      }
    }))

  it.scopedLive("bounded attempts: 503 forever fails after maxAttempts", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped(() => ({ status: 503 }))
      const error = yield* Effect.flip(
        ingest().pipe(Effect.provide(client(server.url, TOKEN, { retry: { initialDelay: "1 millis", maxAttempts: 3 } })))
      )
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(server.seen.length, 3)
    }))

  it.scopedLive("a 503 with Retry-After waits at least that long", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped((req) =>
        req.n === 0 ? { status: 503, headers: { "retry-after": "1" } } : Scripted.ingested(req)
      )
      yield* ingest().pipe(Effect.provide(client(server.url, TOKEN, { retry: { initialDelay: "1 millis" } })))
      assert.strictEqual(server.seen.length, 2)
      assert.isAtLeast(server.seen[1]!.at - server.seen[0]!.at, 1000)
    }))

  it.scopedLive("a response slower than the timeout is a TransportError(Timeout), and is retried", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped(async (req) => {
        if (req.n === 0) await new Promise((r) => setTimeout(r, 1500))
        return Scripted.ingested(req)
      })
      const result = yield* ingest().pipe(
        Effect.provide(client(server.url, TOKEN, { timeout: "200 millis", retry: { initialDelay: "1 millis" } }))
      )
      assert.deepStrictEqual(result, { inserted: 1, duplicates: 0 })
      assert.strictEqual(server.seen.length, 2)
      const slow = yield* Scripted.scoped(async (req) => {
        await new Promise((r) => setTimeout(r, 1000))
        return Scripted.ingested(req)
      })
      const error = yield* Effect.flip(
        ingest().pipe(
          Effect.provide(client(slow.url, TOKEN, { timeout: "100 millis", retry: { maxAttempts: 1 } }))
        )
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual((error as ClientError.TransportError).reason, "Timeout")
    }))

  it.scopedLive("a refused connection is a TransportError(Connection) after the retries", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped(() => ({ status: 200 }))
      const url = server.url
      yield* Effect.promise(() => server.close())
      const error = yield* Effect.flip(
        ingest().pipe(Effect.provide(client(url, TOKEN, { retry: { initialDelay: "1 millis", maxAttempts: 3 } })))
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual((error as ClientError.TransportError).reason, "Connection")
      assert.match(error.message, /ECONNREFUSED/)
    }))
})

describe("RetryPolicy.schedule (TestClock)", () => {
  /** Runs an effect that always fails (with `failure(n)` for attempt `n`) under the policy's schedule and returns the attempts' start times, from the first. */
  const attempts = (
    options: RetryPolicy.RetryOptions,
    failure: (n: number) => RetryPolicy.RetryInput = () => ({})
  ) =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const attempt = Effect.flatMap(TestClock.currentTimeMillis, (now) => {
        times.push(now)
        return Effect.fail(failure(times.length))
      })
      const fiber = yield* Effect.fork(Effect.flip(Effect.retry(attempt, RetryPolicy.schedule(RetryPolicy.make(options)))))
      yield* TestClock.adjust("1 day")
      yield* Fiber.join(fiber)
      return times.map((t) => t - times[0]!)
    })

  it.effect("waits initialDelay * factor^(n-1), capped at maxDelay, for maxAttempts attempts in all", () =>
    Effect.gen(function*() {
      const times = yield* attempts({ initialDelay: "1 second", factor: 2, maxDelay: "4 seconds", jitter: 0, maxAttempts: 6 })
      // waits of 1, 2, 4, 4, 4 seconds
      assert.deepStrictEqual(times, [0, 1000, 3000, 7000, 11_000, 15_000])
      assert.deepStrictEqual(yield* attempts({ maxAttempts: 1, jitter: 0 }), [0])
      assert.deepStrictEqual(
        yield* attempts({ initialDelay: "100 millis", factor: 3, jitter: 0, maxAttempts: 4 }),
        [0, 100, 400, 1300]
      )
    }))

  it.effect("the failure's Retry-After is a floor, never a cap", () =>
    Effect.gen(function*() {
      const times = yield* attempts(
        { initialDelay: "1 second", jitter: 0, maxAttempts: 4 },
        // attempt 1 is told 30 s, attempt 2 less than its 2 s backoff, attempt 3 nothing
        (n) => n === 1 ? { retryAfter: Duration.seconds(30) } : n === 2 ? { retryAfter: Duration.millis(500) } : {}
      )
      assert.deepStrictEqual(times, [0, 30_000, 32_000, 36_000])
    }))

  it.effect("stops when the next attempt would start later than maxElapsed after the first failure", () =>
    Effect.gen(function*() {
      const times = yield* attempts({ initialDelay: "1 second", jitter: 0, maxAttempts: 100, maxElapsed: "10 seconds" })
      // the next would start at 15 s
      assert.deepStrictEqual(times, [0, 1000, 3000, 7000])
      const floored = yield* attempts(
        { initialDelay: "1 second", jitter: 0, maxAttempts: 100, maxElapsed: "10 seconds" },
        () => ({ retryAfter: Duration.seconds(11) })
      )
      assert.deepStrictEqual(floored, [0], "a Retry-After beyond the budget ends the retries")
    }))

  it.effect("jitter takes away at most its share of each delay", () =>
    Effect.gen(function*() {
      for (let round = 0; round < 20; round++) {
        const times = yield* attempts({ initialDelay: "1 second", maxDelay: "8 seconds", jitter: 0.5, maxAttempts: 6 })
        const waits = times.slice(1).map((t, i) => t - times[i]!)
        assert.strictEqual(waits.length, 5)
        waits.forEach((w, i) => {
          const backoff = Math.min(8000, 1000 * 2 ** i)
          assert.isAtLeast(w, backoff * 0.5 - 1)
          assert.isAtMost(w, backoff)
        })
      }
    }))
})

describe("RetryPolicy.schedule budget (TestClock)", () => {
  it.effect("a failure's elapsed time counts against maxElapsed: the budget covers the whole request", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const attempt = Effect.flatMap(TestClock.currentTimeMillis, (now) => {
        times.push(now)
        // the first attempt took 5 s before it failed
        return Effect.fail({ elapsed: Duration.millis(now - times[0]! + 5000) })
      })
      const policy = RetryPolicy.make({ initialDelay: "1 second", jitter: 0, maxAttempts: 100, maxElapsed: "10 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(Effect.retry(attempt, RetryPolicy.schedule(policy))))
      yield* TestClock.adjust("1 day")
      yield* Fiber.join(fiber)
      // 5 + 1 and 6 + 2 fit in 10 s; 8 + 4 does not
      assert.deepStrictEqual(times.map((t) => t - times[0]!), [0, 1000, 3000])
    }))
})
