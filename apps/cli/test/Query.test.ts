/**
 * Reading the local store: `list`, `get`, `names`, `quantities` and
 * `export`, in every output format, with the API's filters as flags.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cleanup, ndjson, ok, run, tempDir } from "./utils/cli.js"
import { ingestEvent, START, writeNdjson } from "./utils/events.js"

let dir: string
let db: string
const N = 120
const events = Array.from({ length: N }, (_, i) => ingestEvent(i, { customers: 4 }))

beforeAll(async () => {
  dir = tempDir()
  db = path.join(dir, "events.db")
  const file = path.join(dir, "events.ndjson")
  writeNdjson(file, N, (i) => events[i])
  await ok(["import", file, "--db", db])
})
afterAll(() => cleanup(dir))

const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") {
        field += "\""
        i++
      } else if (c === "\"") quoted = false
      else field += c
    } else if (c === "\"") quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  return rows
}

describe("list", () => {
  it("prints the newest events first, 10 by default, as a table", async () => {
    const out = await ok(["list", "--db", db])
    const lines = out.trimEnd().split("\n")
    assert.match(lines[0]!, /^TIMESTAMP\s+NAME\s+CUSTOMER\s+SOURCE\s+ID\s+METADATA$/)
    assert.strictEqual(lines.length, 11)
    assert.include(lines[1]!, new Date(START + (N - 1) * 60_000).toISOString().slice(0, 19))
    assert.include(lines[1]!, events[N - 1]!.name)
  })

  it("filters like the API: names, customers, metadata, time bounds (exclusive), a meter filter, sorting", async () => {
    const all = ndjson(await ok(["list", "--db", db, "--all", "--format", "ndjson"]))
    assert.strictEqual(all.length, N)
    const byName = ndjson(await ok(["list", "--db", db, "--all", "--format", "ndjson", "--name", "storage.upload", "--name", "llm.completion"]))
    assert.strictEqual(byName.length, events.filter((e) => e.name !== "api.request").length)
    const byCustomer = ndjson(await ok(["list", "--db", db, "--all", "--format", "ndjson", "--external-customer-id", "customer_1"]))
    assert.strictEqual(byCustomer.length, N / 4)
    assert.isTrue(byCustomer.every((e) => e.external_customer_id === "customer_1"))
    const byMeta = ndjson(await ok(["list", "--db", db, "--all", "--format", "ndjson", "--metadata", "model=gpt-4o"]))
    assert.strictEqual(byMeta.length, events.filter((e) => (e.metadata as any).model === "gpt-4o").length)
    const start = new Date(START + 10 * 60_000).toISOString()
    const end = new Date(START + 20 * 60_000).toISOString()
    const window = ndjson(await ok(["list", "--db", db, "--all", "--format", "ndjson", "--start", start, "--end-timestamp", end, "--sort", "timestamp"]))
    assert.deepStrictEqual(window.map((e) => Date.parse(e.timestamp)), Array.from({ length: 9 }, (_, k) => START + (11 + k) * 60_000))
    const filter = JSON.stringify({ conjunction: "and", clauses: [{ property: "latency_ms", operator: "lt", value: 100 }] })
    const filtered = ndjson(await ok(["list", "--db", db, "--all", "--format", "ndjson", "--filter", filter]))
    assert.strictEqual(filtered.length, events.filter((e) => typeof (e.metadata as any).latency_ms === "number" && (e.metadata as any).latency_ms < 100).length)
    assert.isAbove(filtered.length, 0)
  })

  it("--limit N and --all; json, ndjson and csv formats; --json", async () => {
    const json = JSON.parse(await ok(["list", "--db", db, "--limit", "150", "--format", "json"]))
    assert.strictEqual(json.length, N)
    const short = JSON.parse(await ok(["list", "--db", db, "--limit", "3", "--json"]))
    assert.strictEqual(short.length, 3)
    assert.deepStrictEqual(short, json.slice(0, 3))
    const csv = parseCsv(await ok(["list", "--db", db, "--limit", "5", "--format", "csv"]))
    assert.deepStrictEqual(csv[0]!.slice(0, 4), ["id", "timestamp", "name", "source"])
    assert.strictEqual(csv.length, 6)
    assert.strictEqual(csv[1]![0], json[0].id)
    const both = await run(["list", "--db", db, "--limit", "3", "--all"])
    assert.strictEqual(both.code, 2)
    assert.match(both.stderr, /^error: use either --limit N or --all, not both$/m)
  })

  it("turns a bad filter flag into a usage error naming the flag", async () => {
    const r = await run(["list", "--db", db, "--customer-id", "nope"])
    assert.strictEqual(r.code, 2)
    assert.match(r.stderr, /^error: --customer-id 'nope': /m)
    const t = await run(["list", "--db", db, "--start", "2025-03-01T10:00:00"])
    assert.strictEqual(t.code, 2)
    assert.match(t.stderr, /has no time zone/)
    const f = await run(["list", "--db", db, "--filter", "{\"conjunction\":\"xor\",\"clauses\":[]}"])
    assert.strictEqual(f.code, 2)
    assert.match(f.stderr, /^error: --filter/m)
  })
})

describe("get", () => {
  it("shows one event as JSON, table, ndjson or csv; an unknown id is exit 1", async () => {
    const [first] = JSON.parse(await ok(["list", "--db", db, "--limit", "1", "--json"]))
    const pretty = await ok(["get", first.id, "--db", db])
    assert.deepStrictEqual(JSON.parse(pretty), first)
    assert.include(pretty, "\n  \"id\"")
    assert.deepStrictEqual(JSON.parse(await ok(["get", first.id, "--db", db, "--json"])), first)
    assert.deepStrictEqual(ndjson(await ok(["get", first.id, "--db", db, "--format", "ndjson"])), [first])
    const table = await ok(["get", first.id, "--db", db, "--format", "table"])
    assert.include(table, first.id)
    const csv = parseCsv(await ok(["get", first.id, "--db", db, "--format", "csv"]))
    assert.strictEqual(csv[1]![0], first.id)
    const missing = await run(["get", "0190a3a2-0000-7000-8000-000000000000", "--db", db])
    assert.strictEqual(missing.code, 1)
    assert.match(missing.stderr, /^error: no event with id 0190a3a2-0000-7000-8000-000000000000 in organization /m)
  })
})

describe("names", () => {
  it("lists names with occurrences in every format", async () => {
    const json = JSON.parse(await ok(["names", "--db", db, "--json"]))
    const expected = new Map<string, number>()
    for (const e of events) expected.set(e.name, (expected.get(e.name) ?? 0) + 1)
    assert.deepStrictEqual(
      new Map(json.map((n: any) => [n.name, n.occurrences])),
      expected
    )
    assert.strictEqual(json[0].source, "user")
    const table = await ok(["names", "--db", db])
    assert.match(table.split("\n")[0]!, /^NAME\s+SOURCE\s+OCCURRENCES\s+FIRST SEEN\s+LAST SEEN$/)
    assert.match(table, /api\.request\s+user\s+60\s/)
    assert.strictEqual(ndjson(await ok(["names", "--db", db, "--format", "ndjson"])).length, 3)
    const csv = parseCsv(await ok(["names", "--db", db, "--format", "csv", "--sort", "name"]))
    assert.deepStrictEqual(csv.map((r) => r[0]), ["name", "api.request", "llm.completion", "storage.upload"])
    const one = JSON.parse(await ok(["names", "--db", db, "--json", "--query", "storage"]))
    assert.deepStrictEqual(one.map((n: any) => n.name), ["storage.upload"])
  })
})

describe("quantities", () => {
  it("counts per bucket with a table and a chart, and sums a metadata property with filters", async () => {
    const table = await ok(["quantities", "--db", db, "--interval", "hour"])
    const lines = table.split("\n")
    assert.match(lines[0]!, /^BUCKET\s+COUNT$/)
    assert.match(table, /^2025-03-01 00:00\s+60\s+█+$/m)
    assert.match(table, /^2025-03-01 01:00\s+60\s+█+$/m)
    assert.match(table, /^total\s+120$/m)
    assert.match(table, /hours in UTC: [▁-█]{2}$/m)

    const json = JSON.parse(
      await ok([
        "quantities",
        "--db",
        db,
        "--json",
        "--aggregation",
        "sum:_llm.total_tokens",
        "--where",
        "name eq llm.completion",
        "--interval",
        "day",
        "--start",
        "2025-03-01",
        "--end",
        "2025-03-02"
      ])
    )
    const expected = events.filter((e) => e.name === "llm.completion").reduce((a, e) => a + (e.metadata as any)._llm.total_tokens, 0)
    assert.strictEqual(json.total, expected)
    assert.deepStrictEqual(json.quantities.map((q: any) => q.timestamp), ["2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"])
    assert.deepStrictEqual(json.quantities.map((q: any) => q.quantity), [expected, 0])

    const customer = JSON.parse(await ok(["quantities", "--db", db, "--json", "--external-customer-id", "customer_2", "--name", "api.request"]))
    assert.strictEqual(customer.total, events.filter((e, i) => i % 4 === 2 && e.name === "api.request").length)

    const unique = JSON.parse(await ok(["quantities", "--db", db, "--json", "--aggregation", "unique:cached"]))
    assert.strictEqual(unique.total, 2)
    const max = JSON.parse(await ok(["quantities", "--db", db, "--json", "--aggregation", "max:latency_ms", "--filter", JSON.stringify({ conjunction: "and", clauses: [] })]))
    assert.strictEqual(max.total, Math.max(...events.map((e) => (e.metadata as any).latency_ms ?? -1)))

    const tz = await ok(["quantities", "--db", db, "--interval", "day", "--tz", "America/Los_Angeles"])
    assert.match(tz, /^2025-02-28\s+/m)
    assert.match(tz, /days in America\/Los_Angeles:/)
    const csv = parseCsv(await ok(["quantities", "--db", db, "--format", "csv"]))
    assert.deepStrictEqual(csv[0], ["timestamp", "quantity"])
    assert.deepStrictEqual(csv[csv.length - 1], ["total", "120"])
  })

  it("rejects bad aggregations, clauses and zones with exit 2", async () => {
    for (const args of [["--aggregation", "median:x"], ["--aggregation", "sum"], ["--where", "tokens ~~ 3"], ["--where", "tokens gt 1.5"], ["--tz", "Mars/Olympus"], ["--interval", "minute"]]) {
      const r = await run(["quantities", "--db", db, ...args])
      assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`)
    }
  })
})

describe("export", () => {
  it("writes every matching event to stdout or a file, as NDJSON or CSV", async () => {
    const out = ndjson(await ok(["export", "--db", db]))
    assert.strictEqual(out.length, N)
    const file = path.join(dir, "export.csv")
    const r = await run(["export", "--db", db, "--format", "csv", "--output", file, "--name", "llm.completion"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stderr, /exported 30 events to /)
    const csv = parseCsv(fs.readFileSync(file, "utf8"))
    assert.strictEqual(csv.length, 31)
    const header = csv[0]!
    assert.includeMembers(header, ["metadata.model", "metadata._llm.total_tokens", "metadata._cost.amount", "metadata._cost.currency"])
    const row = csv[1]!
    assert.strictEqual(row[header.indexOf("metadata._cost.currency")], "usd")
    const json = JSON.parse(await ok(["export", "--db", db, "--output", path.join(dir, "x.ndjson"), "--json"]))
    assert.strictEqual(json.exported, N)
  })
})
