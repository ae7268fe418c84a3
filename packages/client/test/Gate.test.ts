import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as Gate from "../src/internal/gate.js"

describe("the rate-limit gate (TestClock)", () => {
  it.effect("an open gate lets requests through at once", () =>
    Effect.gen(function*() {
      const gate = yield* Gate.make
      yield* gate.wait
      assert.strictEqual(yield* gate.pausedUntil, 0)
    }))

  it.effect("a pause holds every waiter until its deadline, and a shorter pause never shortens it", () =>
    Effect.gen(function*() {
      const gate = yield* Gate.make
      yield* gate.pauseUntil(30_000)
      yield* gate.pauseUntil(10_000)
      assert.strictEqual(yield* gate.pausedUntil, 30_000)
      const waiters = yield* Effect.forEach([1, 2, 3], () => Effect.fork(gate.wait))
      yield* TestClock.adjust("29 seconds")
      for (const w of waiters) assert.isNull(w.unsafePoll())
      // a longer pause while it is closed moves the deadline
      yield* gate.pauseUntil(45_000)
      yield* TestClock.adjust("1 second")
      for (const w of waiters) assert.isNull(w.unsafePoll())
      yield* TestClock.adjust("15 seconds")
      yield* Effect.forEach(waiters, Fiber.join)
      assert.strictEqual(yield* TestClock.currentTimeMillis, 45_000)
      // open again: no wait
      yield* gate.wait
    }))

  it.effect("a pause after the gate reopened closes it again", () =>
    Effect.gen(function*() {
      const gate = yield* Gate.make
      yield* gate.pauseUntil(1000)
      yield* TestClock.adjust("2 seconds")
      yield* gate.wait
      yield* gate.pauseUntil(5000)
      const waiter = yield* Effect.fork(gate.wait)
      yield* TestClock.adjust("2 seconds")
      assert.isNull(waiter.unsafePoll())
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(waiter)
    }))
})
