import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Child from "./utils/child.js"
import { eventually, polarServer } from "./utils/layers.js"

const TOKEN = "polar_oat_shutdown_test_token"

describe("Ingester under NodeRuntime.runMain", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it.scopedLive(`${signal} flushes every event it holds before the process exits`, () =>
      Effect.gen(function*() {
        const server = yield* polarServer({ token: TOKEN })
        const child = Child.run("ingester-child.ts", [server.url, TOKEN, "1234"])
        yield* eventually(() => child.lines.some((l) => l.startsWith("offered ")), 30_000)
        // 1,234 offered with batches of 500: two went out, 234 wait for a batch that will not fill for an hour
        yield* eventually(() => server.stored.size === 1000)
        yield* Effect.sleep("200 millis")
        assert.strictEqual(server.stored.size, 1000)
        child.process.kill(signal)
        const exit = yield* Effect.promise(() => child.exited)
        assert.strictEqual(server.stored.size, 1234, child.stderr())
        const seqs = new Set([...server.stored.values()].map((e) => (e.wire.metadata as { seq: number }).seq))
        assert.strictEqual(seqs.size, 1234)
        assert.notStrictEqual(exit.signal, "SIGKILL")
      }), { timeout: 60_000 })
  }
})
