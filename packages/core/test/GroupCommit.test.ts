import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import * as GroupCommit from "../src/GroupCommit.js"

/**
 * A committer whose writes wait for `gate` to open and are recorded; items
 * named "bad" fail their write, "boom" dies.
 */
const recording = (options: Partial<GroupCommit.GroupCommitOptions<string, string, string>> = {}) =>
  Effect.gen(function*() {
    const groups: Array<ReadonlyArray<string>> = []
    const gate = yield* Effect.makeLatch(false)
    const submit = yield* GroupCommit.make<string, string, string>({
      maxItems: 100,
      write: (items) =>
        Effect.zipRight(
          gate.await,
          Effect.suspend(() => {
            groups.push(items)
            if (items.includes("boom")) return Effect.dieMessage("boom")
            if (items.includes("bad")) return Effect.fail(`bad in ${items.length}`)
            return Effect.succeed(items.map((i) => i.toUpperCase()))
          })
        ),
      ...options
    })
    return { groups, gate, submit }
  })

/** Submits each job in its own fiber, in order, and lets every fiber reach the queue. */
const submitAll = <E>(
  submit: GroupCommit.Submit<string, string, E>,
  jobs: ReadonlyArray<ReadonlyArray<string>>
) =>
  Effect.gen(function*() {
    const fibers: Array<Fiber.RuntimeFiber<ReadonlyArray<string>, E>> = []
    for (const job of jobs) {
      fibers.push(yield* Effect.fork(submit(job)))
      yield* Effect.yieldNow()
    }
    return fibers
  })

describe("GroupCommit", () => {
  it.scoped("writes the calls waiting together in one group and answers each with its own share", () =>
    Effect.gen(function*() {
      const { gate, groups, submit } = yield* recording()
      // the first call is written alone while the others queue behind it
      const fibers = yield* submitAll(submit, [["a"], ["b", "c"], ["d"], ["e", "f", "g"]])
      yield* gate.open
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(results, [["A"], ["B", "C"], ["D"], ["E", "F", "G"]])
      assert.deepStrictEqual(groups, [["a"], ["b", "c", "d", "e", "f", "g"]])
    }))

  it.scoped("a group stops taking calls at maxItems; a larger call goes alone", () =>
    Effect.gen(function*() {
      const { gate, groups, submit } = yield* recording({ maxItems: 3 })
      const fibers = yield* submitAll(submit, [["a"], ["b", "c"], ["d"], ["e"], ["f", "g", "h", "i"], ["j"]])
      yield* gate.open
      yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(groups, [["a"], ["b", "c", "d"], ["e", "f", "g", "h", "i"], ["j"]])
    }))

  it.scoped("when a group fails, each call is written again alone: one caller's failure is not everyone's", () =>
    Effect.gen(function*() {
      const { gate, groups, submit } = yield* recording()
      const fibers = yield* submitAll(submit, [["a"], ["b"], ["bad", "c"], ["d"]])
      yield* gate.open
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      assert.deepStrictEqual(exits, [
        Exit.succeed(["A"]),
        Exit.succeed(["B"]),
        Exit.fail("bad in 2"),
        Exit.succeed(["D"])
      ])
      assert.deepStrictEqual(groups, [["a"], ["b", "bad", "c", "d"], ["b"], ["bad", "c"], ["d"]])
    }))

  it.scoped("a defect in a write reaches every caller of the group, and the writer keeps going", () =>
    Effect.gen(function*() {
      const { gate, submit } = yield* recording()
      const fibers = yield* submitAll(submit, [["a"], ["boom"], ["b"]])
      yield* gate.open
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      assert.isTrue(Exit.isSuccess(exits[0]!))
      assert.isTrue(Exit.isFailure(exits[1]!) && !Exit.isInterrupted(exits[1]!))
      assert.isTrue(Exit.isFailure(exits[2]!))
      assert.deepStrictEqual(yield* submit(["c"]), ["C"])
    }))

  it.scoped("a call with no items returns at once without a write", () =>
    Effect.gen(function*() {
      const { groups, submit } = yield* recording()
      assert.deepStrictEqual(yield* submit([]), [])
      assert.deepStrictEqual(groups, [])
    }))

  it.scoped("several writers write groups at the same time", () =>
    Effect.gen(function*() {
      const { gate, groups, submit } = yield* recording({ writers: 2 })
      const fibers = yield* submitAll(submit, [["a"], ["b"], ["c"]])
      yield* gate.open
      yield* Effect.forEach(fibers, Fiber.join)
      // the first two calls were taken by the two writers before the gate opened
      assert.deepStrictEqual(groups.slice(0, 2).map((g) => g.join()).sort(), ["a", "b"])
      assert.deepStrictEqual(groups.slice(2), [["c"]])
    }))

  it.scopedLive("lingers event-loop turns while the queue grows, so callers arriving by I/O join the group", () =>
    Effect.gen(function*() {
      const groups: Array<ReadonlyArray<number>> = []
      const submit = yield* GroupCommit.make<number, number, never>({
        maxItems: 100,
        lingerTurns: 8,
        write: (items) => Effect.sync(() => (groups.push(items), items))
      })
      // each call arrives one event-loop turn after the one before
      const arrive = (i: number): Effect.Effect<void> =>
        i === 5 ? Effect.void : Effect.zipRight(
          Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void))),
          Effect.zipRight(Effect.fork(submit([i])), arrive(i + 1))
        )
      const first = yield* Effect.fork(submit([0]))
      yield* arrive(1)
      yield* Fiber.join(first)
      yield* Effect.sleep(20)
      assert.strictEqual(groups.flat().length, 5)
      assert.isBelow(groups.length, 5)
    }))
})
