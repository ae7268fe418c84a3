/**
 * `push`, `pull` and `serve`, end to end through the built binary: local
 * events pushed through a fault-injecting proxy to `polar-events serve`
 * arrive exactly once and pull back unchanged; the official SDK
 * (`@polar-sh/sdk`) works against `serve`.
 */
import { Polar } from "@polar-sh/sdk"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { cleanup, ndjson, ok, run, serve, tempDir } from "./utils/cli.js"
import { ingestEvent, writeNdjson } from "./utils/events.js"
import { rotation, startProxy } from "./utils/faultProxy.js"

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => cleanup(dir))

const ORG = "5b0e7c1d-2f3a-4b5c-8d6e-7f8091a2b3c4"
const TOKEN = "polar_oat_test_0123456789abcdef"

/** What must survive a trip: everything but ids and the organization. */
const essence = (e: Record<string, any>) =>
  JSON.stringify([Date.parse(e.timestamp), e.name, e.customer_id, e.external_customer_id, e.metadata])

describe("push and pull", () => {
  it("push through faults (5xx, 429, dropped connections) delivers every event exactly once; pull brings them back", async () => {
    const N = 1500
    const local = path.join(dir, "local.db")
    const file = path.join(dir, "events.ndjson")
    writeNdjson(file, N, (i) => ingestEvent(i, { withExternalId: i % 3 !== 0 }))
    await ok(["import", file, "--db", local])

    const server = await serve(["--db", path.join(dir, "server.db"), "--token", `${TOKEN}=${ORG}`])
    const proxy = await startProxy({ upstream: server.url, ingestFault: rotation })
    try {
      const pushed = await run(["push", "--db", local, "--server", proxy.url, "--token", TOKEN, "--batch-size", "100", "--json"], {
        timeoutMs: 300_000
      })
      assert.strictEqual(pushed.code, 0, pushed.stderr)
      const summary = JSON.parse(pushed.stdout)
      assert.strictEqual(summary.offered, N)
      assert.strictEqual(summary.delivered + summary.duplicates, N)
      assert.strictEqual(summary.pending, 0)
      assert.isAbove(summary.retried, 0)
      for (const fault of ["503", "500", "429", "drop-before", "drop-after"] as const) {
        assert.isAbove(proxy.faults[fault], 0, fault)
      }
      assert.strictEqual(proxy.inserted(), N)
      assert.notInclude(pushed.stdout + pushed.stderr, TOKEN)

      const names = JSON.parse(await ok(["names", "--db", path.join(dir, "server.db"), "--org", ORG, "--json"]))
      assert.strictEqual(names.reduce((a: number, n: any) => a + n.occurrences, 0), N)

      const again = JSON.parse(await ok(["push", "--db", local, "--server", proxy.url, "--token", TOKEN, "--json"]))
      assert.deepStrictEqual([again.offered, again.delivered], [0, 0])
      const full = JSON.parse(await ok(["push", "--db", local, "--server", server.url, "--token", TOKEN, "--full", "--json"], { timeoutMs: 300_000 }))
      assert.deepStrictEqual([full.offered, full.delivered, full.duplicates], [N, 0, N])

      const pulledDb = path.join(dir, "pulled.db")
      const pulled = JSON.parse(await ok(["pull", "--db", pulledDb, "--server", server.url, "--token", TOKEN, "--json"]))
      assert.deepStrictEqual([pulled.inserted, pulled.duplicates], [N, 0])
      const mine = ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", local])).map(essence).sort()
      const theirs = ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", pulledDb])).map(essence).sort()
      assert.strictEqual(theirs.length, N)
      assert.deepStrictEqual(theirs, mine)

      // incremental: only what is new comes; idempotent by id
      await ok(["ingest", "--name", "late.event", "--external-customer-id", "customer_1", "--db", local])
      assert.strictEqual(JSON.parse(await ok(["push", "--db", local, "--server", server.url, "--token", TOKEN, "--json"])).delivered, 1)
      const more = JSON.parse(await ok(["pull", "--db", pulledDb, "--server", server.url, "--token", TOKEN, "--json"]))
      assert.strictEqual(more.inserted, 1)
      assert.isBelow(more.seen, 5)
      const fullPull = JSON.parse(await ok(["pull", "--db", pulledDb, "--server", server.url, "--token", TOKEN, "--full", "--json"]))
      assert.deepStrictEqual([fullPull.inserted, fullPull.duplicates], [0, N + 1])
    } finally {
      await proxy.close()
      await server.stop()
    }
  })

  it("push and pull need a token (exit 2) and report a refused one (exit 1) without printing it", async () => {
    const db = path.join(dir, "auth.db")
    await ok(["ingest", "--name", "x", "--external-customer-id", "a", "--db", db])
    const missing = await run(["push", "--db", db, "--server", "http://127.0.0.1:9"])
    assert.strictEqual(missing.code, 2)
    assert.match(missing.stderr, /access token is needed/)
    const server = await serve(["--db", path.join(dir, "auth-server.db"), "--token", `${TOKEN}=${ORG}`])
    try {
      const wrong = "polar_oat_wrong_secret_value"
      const refused = await run(["pull", "--db", db, "--server", server.url, "--token", wrong])
      assert.strictEqual(refused.code, 1)
      assert.match(refused.stderr, /401/)
      assert.notInclude(refused.stderr + refused.stdout, wrong)
      const viaEnv = await run(["pull", "--db", db, "--json"], { env: { POLAR_ACCESS_TOKEN: TOKEN, POLAR_SERVER: server.url } })
      assert.strictEqual(viaEnv.code, 0, viaEnv.stderr)
    } finally {
      await server.stop()
    }
  })
})

describe("serve", () => {
  it("serves the local store to the official SDK with a development token printed once", async () => {
    const db = path.join(dir, "served.db")
    const first = await serve(["--db", db])
    let token: string
    try {
      const m = /(polar_oat_dev_[A-Za-z0-9_-]+)/.exec(first.out())
      assert.isNotNull(m, first.out())
      token = m![1]!
      const polar = new Polar({ accessToken: token, serverURL: first.url })
      const events = Array.from({ length: 12 }, (_, i) => ({
        name: i % 2 === 0 ? "api.call" : "llm.completion",
        externalCustomerId: `sdk_customer_${i % 3}`,
        externalId: `sdk_${i}`,
        timestamp: new Date(Date.UTC(2025, 4, 1, 10, i)),
        metadata: { tokens: i * 10, route: "/v1/chat" }
      }))
      assert.deepStrictEqual(await polar.events.ingest({ events }), { inserted: 12, duplicates: 0 })
      assert.deepStrictEqual(await polar.events.ingest({ events: events.slice(0, 2) }), { inserted: 0, duplicates: 2 })
      const page = await polar.events.list({ name: "api.call", externalCustomerId: "sdk_customer_0", sorting: ["timestamp"] })
      assert.deepStrictEqual(page.items.map((e) => e.timestamp.toISOString()), [0, 6].map((i) => events[i]!.timestamp.toISOString()))
      const got = await polar.events.get({ id: page.items[0]!.id })
      assert.strictEqual(got.name, "api.call")
      const names = await polar.events.listNames({})
      assert.deepStrictEqual(names.result.items.map((n) => [n.name, n.occurrences]).sort(), [["api.call", 6], ["llm.completion", 6]])
    } finally {
      await first.stop()
    }
    // the events are in the local store, in the default organization
    const local = ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db]))
    assert.strictEqual(local.length, 12)
    const org = JSON.parse(await ok(["db", "info", "--db", db, "--json"])).defaultOrganizationId
    assert.deepStrictEqual([...new Set(local.map((e) => e.organization_id))], [org])

    // a second start reuses the token and does not print it again
    const second = await serve(["--db", db])
    try {
      await second.waitFor(/using the development token created earlier/)
      assert.notInclude(second.out(), token)
      const polar = new Polar({ accessToken: token, serverURL: second.url })
      assert.strictEqual((await polar.events.list({ limit: 100 })).items.length, 12)
    } finally {
      await second.stop()
    }
  })

  it("refuses a bad --token and a taken port", async () => {
    const bad = await run(["serve", "--db", path.join(dir, "x.db"), "--token", "secret-without-org"])
    assert.strictEqual(bad.code, 2)
    assert.notInclude(bad.stderr, "secret-without-org")
    const a = await serve(["--db", path.join(dir, "y.db")])
    try {
      const port = new URL(a.url).port
      const taken = await run(["serve", "--db", path.join(dir, "y.db"), "--port", port])
      assert.strictEqual(taken.code, 1)
      assert.match(taken.stderr, /^error: cannot listen on 127\.0\.0\.1:\d+/m)
    } finally {
      await a.stop()
    }
  })
})
