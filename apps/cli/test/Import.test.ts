/**
 * `polar-events import`: NDJSON, JSON arrays and CSV; every bad line
 * reported with its number; all or nothing by default; `--skip-invalid`;
 * `--dry-run`; stdin; running the same import twice.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cleanup, ndjson, ok, run, tempDir } from "./utils/cli.js"
import { ingestEvent, wireEvent, writeNdjson } from "./utils/events.js"

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => cleanup(dir))

let n = 0
const freshDb = () => path.join(dir, `db-${++n}`, "events.db")
const file = (name: string, content: string) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, content)
  return p
}
const stored = async (db: string) => ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db]))

describe("import", () => {
  it("reports every bad line with its number and reason, and writes nothing", async () => {
    const db = freshDb()
    const lines = [
      JSON.stringify(ingestEvent(1)),
      "{not json",
      JSON.stringify(ingestEvent(2)),
      JSON.stringify({ name: "api.request", metadata: {} }),
      "",
      JSON.stringify({ ...ingestEvent(3), customer_id: "not-a-uuid", external_customer_id: undefined }),
      JSON.stringify({ ...ingestEvent(4), metadata: { nested: { a: 1 } } }),
      JSON.stringify(ingestEvent(5)),
      "[1, 2]",
      JSON.stringify({ ...ingestEvent(6), timestamp: "2025-03-01T10:00:00" })
    ]
    const r = await run(["import", file("bad.ndjson", lines.join("\n") + "\n"), "--db", db])
    assert.strictEqual(r.code, 1, r.stderr)
    const reported = r.stderr.split("\n").filter((l) => /^line \d+:/.test(l))
    assert.deepStrictEqual(reported.map((l) => Number(/^line (\d+)/.exec(l)![1])), [2, 4, 6, 7, 9, 10])
    assert.match(reported[0]!, /^line 2: invalid JSON/)
    assert.match(reported[1]!, /^line 4: .*customer_id.*missing|^line 4: .*missing/)
    assert.match(reported[2]!, /^line 6: customer_id: .*UUID/)
    assert.match(reported[3]!, /^line 7: metadata\.nested/)
    assert.match(reported[4]!, /^line 9: expected an event \(a JSON object\), got an array/)
    assert.match(reported[5]!, /^line 10: timestamp: .*timezone/)
    assert.match(r.stderr, /error: 6 of 9 records are invalid; nothing was imported/)
    assert.deepStrictEqual(await stored(db), [])

    const skip = await run(["import", path.join(dir, "bad.ndjson"), "--db", db, "--skip-invalid", "--json"])
    assert.strictEqual(skip.code, 0, skip.stderr)
    assert.strictEqual(skip.stderr.split("\n").filter((l) => /^line \d+:/.test(l)).length, 6)
    const summary = JSON.parse(skip.stdout)
    assert.strictEqual(summary.inserted, 3)
    assert.strictEqual(summary.invalid, 6)
    const events = await stored(db)
    assert.strictEqual(events.length, 3)
    assert.deepStrictEqual(
      events.map((e) => Date.parse(e.timestamp)).sort(),
      [1, 2, 5].map((i) => Date.parse(ingestEvent(i).timestamp)).sort()
    )
  })

  it("--dry-run checks and writes nothing", async () => {
    const db = freshDb()
    const p = path.join(dir, "dry.ndjson")
    writeNdjson(p, 50, (i) => ingestEvent(i))
    const r = await run(["import", p, "--db", db, "--dry-run"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /dry run: 50 valid events; nothing written/)
    assert.deepStrictEqual(await stored(db), [])
  })

  it("imports NDJSON of ingest payloads, ingest bodies and stored events, and is idempotent", async () => {
    const db = freshDb()
    const lines = [
      ...Array.from({ length: 20 }, (_, i) => JSON.stringify(ingestEvent(i))),
      JSON.stringify({ events: [ingestEvent(100), ingestEvent(101, { withExternalId: false })] }),
      ...Array.from({ length: 5 }, (_, i) => JSON.stringify(wireEvent(i)))
    ]
    const p = file("mixed.ndjson", lines.join("\r\n"))
    const first = JSON.parse(await ok(["import", p, "--db", db, "--json"]))
    assert.deepStrictEqual([first.records, first.inserted, first.duplicates, first.invalid], [27, 27, 0, 0])
    const again = JSON.parse(await ok(["import", p, "--db", db, "--json"]))
    assert.deepStrictEqual([again.inserted, again.duplicates], [0, 27])
    const events = await stored(db)
    assert.strictEqual(events.length, 27)
    const wire = events.find((e) => e.id === wireEvent(3).id)
    assert.isDefined(wire)
    assert.deepStrictEqual(wire!.metadata, wireEvent(3).metadata)
    assert.strictEqual(wire!.external_customer_id, wireEvent(3).external_customer_id)
  })

  it("imports a JSON array, streamed, with line numbers of its elements", async () => {
    const db = freshDb()
    const text = "[\n" + [ingestEvent(1), ingestEvent(2), { name: "" }, ingestEvent(3)].map((e) => "  " + JSON.stringify(e, null, 2).replace(/\n/g, "\n  ")).join(",\n") + "\n]\n"
    const p = file("events.json", text)
    const bad = await run(["import", p, "--db", db])
    assert.strictEqual(bad.code, 1)
    const badLine = text.split("\n").findIndex((l) => l.includes("\"name\": \"\"")) + 1
    const reported = bad.stderr.split("\n").filter((l) => /^line \d+:/.test(l))
    assert.strictEqual(reported.length, 1)
    assert.strictEqual(Number(/^line (\d+)/.exec(reported[0]!)![1]), badLine - 1)
    const good = JSON.parse(await ok(["import", p, "--db", db, "--skip-invalid", "--json"]))
    assert.strictEqual(good.inserted, 3)
    const p2 = file("body.json", JSON.stringify({ events: [ingestEvent(7), ingestEvent(8)] }))
    assert.strictEqual(JSON.parse(await ok(["import", p2, "--db", db, "--json"])).inserted, 2)
    const empty = JSON.parse(await ok(["import", file("empty.json", "[]"), "--db", db, "--json"]))
    assert.strictEqual(empty.records, 0)
    const broken = await run(["import", file("broken.json", "[" + JSON.stringify(ingestEvent(9))), "--db", db])
    assert.strictEqual(broken.code, 1)
    assert.match(broken.stderr, /not closed/)
  })

  it("imports CSV with metadata.* columns, typed values, quoted fields and bad rows", async () => {
    const db = freshDb()
    const csv = [
      "name,external_customer_id,external_id,timestamp,metadata.tokens,metadata.model,metadata.cached,metadata._cost.amount,metadata._cost.currency,metadata.note",
      "llm.completion,acme,c1,2025-03-01T10:00:00Z,120,gpt-4o,false,0.5,usd,\"multi\nline, with comma\"",
      "api.request,globex,c2,2025-03-01T11:00:00Z,7,,true,,,\"\"\"42\"\"\"",
      "api.request,,c3,2025-03-01T12:00:00Z,1,,,,,",
      "api.request,globex,c4,2025-03-01T13:00:00Z,1,,,,",
      "api.request,initech,c5,not-a-time,1,,,,,"
    ].join("\n") + "\n"
    const p = file("events.csv", csv)
    const r = await run(["import", p, "--db", db])
    assert.strictEqual(r.code, 1)
    const reported = r.stderr.split("\n").filter((l) => /^line \d+:/.test(l))
    assert.deepStrictEqual(reported.map((l) => Number(/^line (\d+)/.exec(l)![1])), [5, 6, 7])
    assert.match(reported[1]!, /expected 10 CSV fields, found 9/)
    const skip = JSON.parse(await ok(["import", p, "--db", db, "--skip-invalid", "--json"]))
    assert.strictEqual(skip.inserted, 2)
    const events = await stored(db)
    const c1 = events.find((e) => e.name === "llm.completion")!
    assert.deepStrictEqual(c1.metadata, {
      tokens: 120,
      model: "gpt-4o",
      cached: false,
      _cost: { amount: "0.5", currency: "usd" },
      note: "multi\nline, with comma"
    })
    const c2 = events.find((e) => e.name === "api.request")!
    assert.deepStrictEqual(c2.metadata, { tokens: 7, cached: true, note: "42" })

    const header = await run(["import", file("unknown.csv", "name,colour\nx,red\n"), "--db", db])
    assert.strictEqual(header.code, 1)
    assert.match(header.stderr, /line 1: unknown CSV column 'colour'/)
  })

  it("reads stdin (`-`), spooling it for the all-or-nothing second pass", async () => {
    const db = freshDb()
    const input = Array.from({ length: 30 }, (_, i) => JSON.stringify(ingestEvent(i))).join("\n")
    const r = await run(["import", "-", "--db", db, "--json"], { input })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual(JSON.parse(r.stdout).inserted, 30)
    const csv = "name,external_customer_id,metadata.n\nfrom.stdin,acme,1\nfrom.stdin,acme,2\n"
    assert.strictEqual(JSON.parse(await ok(["import", "-", "--db", db, "--json"], { input: csv })).inserted, 2)
    const bad = await run(["import", "-", "--db", db], { input: "{\"name\":\"x\"}\n" })
    assert.strictEqual(bad.code, 1)
    assert.match(bad.stderr, /^line 1: /m)
    assert.strictEqual((await stored(db)).length, 32)
  })

  it("round-trips: export as NDJSON and CSV, import into another database, same events", async () => {
    const db = freshDb()
    const p = path.join(dir, "round.ndjson")
    writeNdjson(p, 40, (i) => ingestEvent(i))
    await ok(["import", p, "--db", db])
    const exported = path.join(dir, "exported.ndjson")
    await ok(["export", "--db", db, "--output", exported])
    const csvOut = path.join(dir, "exported.csv")
    await ok(["export", "--db", db, "--format", "csv", "-o", csvOut])
    const original = await stored(db)
    for (const source of [exported, csvOut]) {
      const other = freshDb()
      const r = JSON.parse(await ok(["import", source, "--db", other, "--json"]))
      assert.strictEqual(r.inserted, 40)
      const copy = await stored(other)
      const strip = (e: Record<string, any>) => ({ ...e, organization_id: undefined })
      assert.deepStrictEqual(copy.map(strip), original.map(strip), source)
    }
  })

  it("fails with exit 1 for a missing file and exit 2 for bad flags", async () => {
    const r = await run(["import", path.join(dir, "nope.ndjson"), "--db", freshDb()])
    assert.strictEqual(r.code, 1)
    assert.match(r.stderr, /^error: cannot read .*nope\.ndjson: no such file$/m)
    const usage = await run(["import", "x.ndjson", "--format", "xml", "--db", freshDb()])
    assert.strictEqual(usage.code, 2)
  })

  it("checks a large NDJSON file in two parts at once, reporting bad lines of both in order", async () => {
    // over 4 MiB: the second half is checked on a worker thread
    const lines = Array.from({ length: 16_000 }, (_, i) => JSON.stringify(wireEvent(i)))
    lines[1] = "{not json"
    lines[4_999] = JSON.stringify({ ...wireEvent(4_999), timestamp: "yesterday" })
    lines[11_999] = "[1, 2]"
    lines[15_999] = JSON.stringify({ ...wireEvent(15_999), name: 42 })
    const big = file("big.ndjson", lines.join("\n") + "\n")
    assert.ok(fs.statSync(big).size > 4 * 1024 * 1024)
    const db = freshDb()
    const r = await run(["import", big, "--db", db])
    assert.strictEqual(r.code, 1, r.stderr)
    const reported = r.stderr.split("\n").filter((l) => /^line \d+:/.test(l))
    assert.deepStrictEqual(reported.map((l) => Number(/^line (\d+)/.exec(l)![1])), [2, 5_000, 12_000, 16_000])
    assert.match(reported[2]!, /^line 12000: expected an event \(a JSON object\), got an array/)
    assert.match(r.stderr, /error: 4 of 16,000 records are invalid; nothing was imported/)
    assert.deepStrictEqual(await stored(db), [])

    const dryRun = await run(["import", big, "--db", db, "--dry-run"])
    assert.deepStrictEqual(
      dryRun.stderr.split("\n").filter((l) => /^line \d+:/.test(l)).map((l) => Number(/^line (\d+)/.exec(l)![1])),
      [2, 5_000, 12_000, 16_000]
    )

    // fixed, the whole file goes in
    lines[1] = JSON.stringify(wireEvent(1))
    lines[4_999] = JSON.stringify(wireEvent(4_999))
    lines[11_999] = JSON.stringify(wireEvent(11_999))
    lines[15_999] = JSON.stringify(wireEvent(15_999))
    const good = file("big-good.ndjson", lines.join("\n") + "\n")
    const summary = JSON.parse(await ok(["import", good, "--db", db, "--json"]))
    assert.strictEqual(summary.records, 16_000)
    assert.strictEqual(summary.inserted, 16_000)
  }, 120_000)
})
