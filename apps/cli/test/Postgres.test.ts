/**
 * `--pg URL` (and `POLAR_EVENTS_PG_URL`): the same commands on PostgreSQL,
 * with a real server (the store package's test helper finds or starts one;
 * it never skips).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { createDatabase, type PostgresServer, startPostgres } from "../../../packages/store/test/utils/postgres.js"
import { cleanup, ndjson, ok, run, serve, tempDir } from "./utils/cli.js"

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../examples/sample-events.ndjson")

let dir: string
let pg: PostgresServer
let url: string
let drop: () => Promise<void>

beforeAll(async () => {
  dir = tempDir()
  pg = await startPostgres()
  const db = await createDatabase(pg.url, "polar_events_cli")
  url = db.url
  drop = db.drop
}, 120_000)
afterAll(async () => {
  await drop?.()
  await pg?.stop()
  cleanup(dir)
}, 60_000)

describe("PostgreSQL", () => {
  it("imports, lists, meters, exports and pushes with --pg", async () => {
    const migrated = JSON.parse(await ok(["db", "migrate", "--pg", url, "--json"]))
    assert.isAbove(migrated.schemaVersion, 0)
    assert.notInclude(JSON.stringify(migrated), "password")
    const imported = JSON.parse(await ok(["import", SAMPLE, "--pg", url, "--json"]))
    assert.strictEqual(imported.inserted, 200)
    const again = JSON.parse(await ok(["import", SAMPLE, "--json"], { env: { POLAR_EVENTS_PG_URL: url } }))
    assert.deepStrictEqual([again.inserted, again.duplicates], [0, 200])

    const info = JSON.parse(await ok(["db", "info", "--pg", url, "--json"]))
    assert.strictEqual(info.kind, "postgresql")
    assert.strictEqual(info.events, 200)

    const events = ndjson(await ok(["list", "--pg", url, "--all", "--format", "ndjson", "--external-customer-id", "acme"]))
    const sample = ndjson(await import("node:fs").then((fs) => fs.readFileSync(SAMPLE, "utf8")))
    assert.strictEqual(events.length, sample.filter((e) => e.external_customer_id === "acme").length)
    const total = sample.filter((e) => e.name === "llm.completion").reduce((a, e) => a + e.metadata._llm.total_tokens, 0)
    const q = JSON.parse(await ok(["quantities", "--pg", url, "--json", "--aggregation", "sum:_llm.total_tokens", "--name", "llm.completion"]))
    assert.strictEqual(q.total, total)
    const names = JSON.parse(await ok(["names", "--pg", url, "--json"]))
    assert.strictEqual(names.reduce((a: number, n: any) => a + n.occurrences, 0), 200)
    assert.strictEqual(ndjson(await ok(["export", "--pg", url])).length, 200)

    // push from PostgreSQL, with the outbox in a SQLite file
    const token = "polar_oat_pg_test"
    const org = "7e3c1a9b-2d4f-4a6b-8c0d-1e2f3a4b5c6d"
    const server = await serve(["--db", path.join(dir, "server.db"), "--token", `${token}=${org}`])
    try {
      const pushed = JSON.parse(
        await ok(["push", "--pg", url, "--outbox", path.join(dir, "outbox.db"), "--server", server.url, "--token", token, "--json"])
      )
      assert.deepStrictEqual([pushed.delivered, pushed.pending], [200, 0])
    } finally {
      await server.stop()
    }
    const served = JSON.parse(await ok(["db", "info", "--db", path.join(dir, "server.db"), "--json"]))
    assert.strictEqual(served.events, 200)

    const bad = await run(["list", "--pg", "postgres://nobody:secret@127.0.0.1:1/nothing"])
    assert.strictEqual(bad.code, 1)
    assert.notInclude(bad.stderr, "secret")
    assert.match(bad.stderr, /^error: /)
  }, 300_000)
})
