/**
 * `import` streams in constant memory: 1,000,000 events, checked and then
 * written (the default, all-or-nothing mode), with a peak RSS of the child
 * process under 250 MB; `export` of them stays under the same bound. A
 * memory bound, not a speed test.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cleanup, ok, runMeasured, tempDir } from "./utils/cli.js"
import { ingestEvent, wireEvent, writeNdjson } from "./utils/events.js"

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => cleanup(dir))

describe("memory", () => {
  it("imports 1,000,000 events with a peak RSS under 250 MB", async () => {
    const N = 1_000_000
    const file = path.join(dir, "million.ndjson")
    writeNdjson(file, N, (i) => (i % 4 === 0 ? ingestEvent(i, { customers: 10_000, stepMs: 1_000 }) : wireEvent(i)))
    const sizeMiB = fs.statSync(file).size / 1024 / 1024
    assert.isAbove(sizeMiB, 250, "the input is larger than the memory budget")
    const db = path.join(dir, "events.db")
    const r = await runMeasured(["import", file, "--db", db, "--json", "--no-progress"], { timeoutMs: 1_500_000 })
    assert.strictEqual(r.code, 0, r.stderr)
    const summary = JSON.parse(r.stdout.trim())
    assert.strictEqual(summary.inserted, N)
    assert.isAbove(r.peakMiB, 0)
    process.stderr.write(
      `memory: 1,000,000 events (${sizeMiB.toFixed(0)} MB) imported in ${r.seconds.toFixed(0)} s, peak RSS ${r.peakMiB.toFixed(0)} MB\n`
    )
    assert.isBelow(r.peakMiB, 250)
    const info = JSON.parse(await ok(["db", "info", "--db", db, "--json"]))
    assert.strictEqual(info.events, N)

    const out = path.join(dir, "export.ndjson")
    const exported = await runMeasured(["export", "--db", db, "--output", out, "--json"], { timeoutMs: 900_000 })
    assert.strictEqual(exported.code, 0, exported.stderr)
    assert.strictEqual(JSON.parse(exported.stdout.trim()).exported, N)
    process.stderr.write(`memory: export of 1,000,000 events in ${exported.seconds.toFixed(0)} s, peak RSS ${exported.peakMiB.toFixed(0)} MB\n`)
    assert.isBelow(exported.peakMiB, 250)
    assert.isAbove(fs.statSync(out).size, N * 100)
  }, 1_800_000)
})
