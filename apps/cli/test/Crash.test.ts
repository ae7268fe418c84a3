/**
 * Crash safety: `kill -9` in the middle of `import` and of `push`, then the
 * same command again, and every event is stored exactly once.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { background, cleanup, ndjson, ok, run, serve, tempDir, until } from "./utils/cli.js"
import { ingestEvent, wireEvent, writeNdjson } from "./utils/events.js"
import { startProxy } from "./utils/faultProxy.js"

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => cleanup(dir))

const count = async (db: string, org?: string) => {
  const names = JSON.parse(await ok(["names", "--db", db, "--json", "--all", ...(org ? ["--org", org] : [])]))
  return names.reduce((a: number, n: { occurrences: number }) => a + n.occurrences, 0) as number
}

describe("kill -9", () => {
  it("in the middle of import: running it again stores every event exactly once", async () => {
    const N = 300_000
    const db = path.join(dir, "import.db")
    const file = path.join(dir, "big.ndjson")
    // half stored events (idempotent by id), half events to ingest without external_id (derived ids)
    writeNdjson(file, N, (i) => (i % 2 === 0 ? wireEvent(i) : ingestEvent(i, { withExternalId: false })))
    const args = ["import", file, "--db", db, "--batch-size", "1000"]
    const first = background(args)
    await first.waitFor(/importing: [\d,]+ records/, 240_000)
    // killed once a first batch is committed, whatever the machine's speed
    const stored = async () => JSON.parse(await ok(["db", "info", "--db", db, "--json"])).events as number
    await until(async () => (await stored()) > 0, 240_000, "a first committed batch")
    first.child.kill("SIGKILL")
    await first.stop()
    assert.strictEqual(first.child.signalCode, "SIGKILL")
    const partial = JSON.parse(await ok(["db", "info", "--db", db, "--json"])).events
    assert.isAbove(partial, 0, "the import wrote nothing before it was killed")
    assert.isBelow(partial, N, "the import finished before it was killed")

    const again = await run([...args, "--json"], { timeoutMs: 600_000 })
    assert.strictEqual(again.code, 0, again.stderr)
    const summary = JSON.parse(again.stdout)
    assert.strictEqual(summary.inserted + summary.duplicates, N)
    assert.strictEqual(summary.duplicates, partial)
    assert.strictEqual(await count(db), N)
    const ids = ndjson(await ok(["export", "--db", db])).map((e) => e.id)
    assert.strictEqual(new Set(ids).size, N)
  }, 900_000)

  it("in the middle of push: running it again delivers every event exactly once", async () => {
    const N = 5_000
    const ORG = "0d7f3a52-6b1c-4e8d-9a2b-3c4d5e6f7a8b"
    const TOKEN = "polar_oat_crash_test"
    const local = path.join(dir, "push-local.db")
    const serverDb = path.join(dir, "push-server.db")
    const file = path.join(dir, "push.ndjson")
    writeNdjson(file, N, (i) => ingestEvent(i, { withExternalId: i % 2 === 0 }))
    await ok(["import", file, "--db", local])
    const server = await serve(["--db", serverDb, "--token", `${TOKEN}=${ORG}`])
    const proxy = await startProxy({ upstream: server.url, latencyMs: 40 })
    try {
      const args = ["push", "--db", local, "--server", proxy.url, "--token", TOKEN, "--batch-size", "50"]
      const first = background(args)
      await until(() => proxy.inserted() >= 1_000, 240_000, "1,000 events delivered")
      first.child.kill("SIGKILL")
      await first.stop()
      assert.strictEqual(first.child.signalCode, "SIGKILL")
      const delivered = await count(serverDb, ORG)
      assert.isAtLeast(delivered, 1_000)
      assert.isBelow(delivered, N, "push finished before it was killed")

      const again = await run([...args, "--json"], { timeoutMs: 600_000 })
      assert.strictEqual(again.code, 0, again.stderr)
      assert.strictEqual(JSON.parse(again.stdout).pending, 0)
      assert.strictEqual(await count(serverDb, ORG), N)
      assert.strictEqual(proxy.inserted(), N)

      const pulled = path.join(dir, "push-pulled.db")
      await ok(["pull", "--db", pulled, "--server", server.url, "--token", TOKEN])
      const essence = (e: Record<string, any>) => JSON.stringify([Date.parse(e.timestamp), e.name, e.external_customer_id, e.metadata])
      const mine = ndjson(await ok(["export", "--db", local])).map(essence).sort()
      const theirs = ndjson(await ok(["export", "--db", pulled])).map(essence).sort()
      assert.deepStrictEqual(theirs, mine)
    } finally {
      await proxy.close()
      await server.stop()
    }
  }, 900_000)
})
