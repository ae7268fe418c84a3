/**
 * 100,000 events through the Ingester under each fault mix. Afterwards the
 * server holds every event exactly once, and no request came back sooner
 * than a 429's Retry-After allowed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Ingester from "../src/Ingester.js"
import * as FaultProxy from "./utils/FaultProxy.js"
import { client, event, polarServer } from "./utils/layers.js"

const TOKEN = "polar_oat_fault_test_token"
const N = 100_000

interface Mix {
  readonly name: string
  readonly mix: ReadonlyArray<FaultProxy.WeightedFault>
  readonly maxBodyBytes?: number
  readonly maxRateLimits?: number
  /** fault kinds that must have happened for the run to prove anything */
  readonly expect: ReadonlyArray<string>
  /** whether some batch reached the server twice (its answer was lost), so duplicates must show */
  readonly duplicates: boolean
}

const rateLimit = (seconds: number, asDate = false): FaultProxy.Fault => ({
  _tag: "RateLimit",
  retryAfterSeconds: seconds,
  asDate
})
const status = (s: 408 | 500 | 502 | 503 | 504): FaultProxy.Fault => ({ _tag: "Status", status: s })

const mixes: ReadonlyArray<Mix> = [
  {
    name: "429 with Retry-After in seconds and as an HTTP date",
    mix: [{ fault: rateLimit(1), p: 0.03 }, { fault: rateLimit(1, true), p: 0.03 }],
    maxRateLimits: 4,
    expect: ["RateLimit"],
    duplicates: false
  },
  {
    name: "500, 502, 503, 504 and 408",
    mix: [
      { fault: status(500), p: 0.05 },
      { fault: status(502), p: 0.03 },
      { fault: status(503), p: 0.05 },
      { fault: status(504), p: 0.03 },
      { fault: status(408), p: 0.03 }
    ],
    expect: ["Status"],
    duplicates: false
  },
  {
    name: "connections dropped before and after the server processed the batch",
    mix: [{ fault: { _tag: "DropBefore" }, p: 0.08 }, { fault: { _tag: "DropAfter" }, p: 0.08 }],
    expect: ["DropBefore", "DropAfter"],
    duplicates: true
  },
  {
    name: "responses slower than the client's timeout",
    mix: [{ fault: { _tag: "Slow", delayMs: 1200 }, p: 0.06 }],
    expect: ["Slow"],
    duplicates: true
  },
  {
    name: "413 for bodies under the batch size",
    mix: [],
    maxBodyBytes: 40_000,
    expect: ["TooLarge"],
    duplicates: false
  },
  {
    name: "everything at once",
    mix: [
      { fault: rateLimit(1), p: 0.01 },
      { fault: rateLimit(1, true), p: 0.01 },
      { fault: status(500), p: 0.02 },
      { fault: status(503), p: 0.02 },
      { fault: status(408), p: 0.02 },
      { fault: { _tag: "DropBefore" }, p: 0.03 },
      { fault: { _tag: "DropAfter" }, p: 0.04 },
      { fault: { _tag: "Slow", delayMs: 1200 }, p: 0.03 }
    ],
    maxBodyBytes: 60_000,
    maxRateLimits: 3,
    expect: ["RateLimit", "Status", "DropBefore", "DropAfter", "Slow", "TooLarge"],
    duplicates: true
  }
]

describe("100,000 events through the Ingester under faults", () => {
  mixes.forEach((m, index) =>
    it.scopedLive(m.name, () =>
      Effect.gen(function*() {
        const server = yield* polarServer({ token: TOKEN })
        const proxy = yield* Effect.acquireRelease(
          Effect.promise(() =>
            FaultProxy.start({
              upstream: server.url,
              mix: m.mix,
              seed: 1000 + index,
              pathPrefix: "/v1/events/ingest",
              ...(m.maxBodyBytes === undefined ? {} : { maxBodyBytes: m.maxBodyBytes }),
              ...(m.maxRateLimits === undefined ? {} : { maxRateLimits: m.maxRateLimits })
            })
          ),
          (p) => Effect.promise(() => p.close())
        )
        const stats = yield* Effect.scoped(
          Effect.gen(function*() {
            const ingester = yield* Ingester.make({
              maxBatchSize: 500,
              maxBatchAge: "100 millis",
              concurrency: 4,
              capacity: 20_000
            })
            for (let i = 0; i < N; i++) yield* ingester.offer(event(i))
            return ingester.stats
          })
        ).pipe(
          Effect.provide(client(proxy.url, TOKEN, {
            timeout: "500 millis",
            retry: { initialDelay: "10 millis", maxDelay: "200 millis", maxAttempts: 30, maxElapsed: "2 minutes" }
          }))
        )
        const s = yield* stats

        // exactly once, counted by external_id and by the event's own sequence number
        assert.strictEqual(server.stored.size, N, "distinct external_ids held by the server")
        const seen = new Uint8Array(N)
        for (const e of server.stored.values()) seen[(e.wire.metadata as { seq: number }).seq]!++
        assert.isTrue(seen.every((c) => c === 1), "every event held exactly once")

        assert.strictEqual(s.failed, 0)
        assert.strictEqual(s.queued, 0)
        assert.strictEqual(s.inFlight, 0)
        const serverInserted = server.requests.reduce((n, r) => n + (r.inserted ?? 0), 0)
        const serverDuplicates = server.requests.reduce((n, r) => n + (r.duplicates ?? 0), 0)
        assert.strictEqual(serverInserted, N)
        assert.isAtMost(s.sent, N)
        assert.isAtLeast(s.sent + s.duplicates, N)
        if (m.duplicates) assert.isAbove(serverDuplicates, 0, "a batch whose answer was lost was sent again")

        const counts = proxy.counts()
        for (const kind of m.expect) assert.isAbove(counts[kind] ?? 0, 0, `fault ${kind} happened`)
        if (m.expect.some((k) => k !== "TooLarge")) assert.isAbove(s.retried, 0)

        const violations = FaultProxy.retryAfterViolations(proxy.records, 300)
        assert.deepStrictEqual(violations, [], violations.join("\n"))
      }), { timeout: 120_000 })
  )
})
