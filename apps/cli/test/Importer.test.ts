/**
 * The `Importer` service in-process, on real SQLite files in a temporary
 * folder: all or nothing, `skipInvalid`, `dryRun`, idempotent re-imports,
 * CSV and JSON arrays, and the report printed through `Console`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EventStore } from "@polar-events/store"
import { Effect, Either, Option, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Importer from "../src/Importer.js"
import { cleanup, tempDir } from "./utils/cli.js"
import { ingestEvent, wireEvent, writeNdjson } from "./utils/events.js"
import { captured, storage } from "./utils/services.js"

const ORG = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

let dir: string
beforeAll(() => {
  dir = tempDir("polar-events-importer-")
})
afterAll(() => cleanup(dir))

let n = 0
const freshDb = () => path.join(dir, `db-${++n}`, "events.db")
const file = (name: string, content: string) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, content)
  return p
}

const defaults: Importer.ImportOptions = {
  file: "",
  format: Option.none(),
  skipInvalid: false,
  dryRun: false,
  batchSize: 5_000,
  progress: false,
  color: false
}

/** Runs one import on a database and counts what the organization holds afterwards. */
const importInto = (db: string, options: Partial<Importer.ImportOptions>) =>
  Effect.gen(function*() {
    const importer = yield* Importer.Importer
    const store = yield* EventStore.EventStore
    const { err, result } = yield* captured(importer.run({ ...defaults, ...options }))
    const stored = yield* Stream.runCount(store.stream(ORG))
    return { report: result, err, stored }
  }).pipe(Effect.provide(Importer.Importer.Default), Effect.provide(storage(db, ORG, { writeThread: true })))

describe("Importer", () => {
  it.effect("imports an NDJSON file in pipelined batches, and a second run stores nothing twice", () =>
    Effect.gen(function*() {
      const db = freshDb()
      const input = path.join(dir, "mixed.ndjson")
      writeNdjson(input, 2_500, (i) => (i % 2 === 0 ? ingestEvent(i, { withExternalId: i % 4 !== 0 }) : wireEvent(i)))
      const first = yield* importInto(db, { file: input, batchSize: 300 })
      assert.strictEqual(first.report._tag, "Imported")
      assert.deepStrictEqual(first.report.stats, { records: 2_500, valid: 2_500, invalid: 0, inserted: 2_500, duplicates: 0 })
      assert.strictEqual(first.stored, 2_500)
      assert.deepStrictEqual(first.err, [])
      const again = yield* importInto(db, { file: input })
      assert.deepStrictEqual(again.report.stats, { records: 2_500, valid: 2_500, invalid: 0, inserted: 0, duplicates: 2_500 })
      assert.strictEqual(again.stored, 2_500)
    }))

  it.effect("writes nothing when a record is bad, reports every bad line through Console, and renders the failure", () =>
    Effect.gen(function*() {
      const db = freshDb()
      const input = file("bad.ndjson", [
        JSON.stringify(ingestEvent(1)),
        "{not json",
        JSON.stringify(ingestEvent(2)),
        JSON.stringify({ name: "x", metadata: {} })
      ].join("\n") + "\n")
      const r = yield* importInto(db, { file: input })
      assert.strictEqual(r.report._tag, "Invalid")
      assert.deepStrictEqual([r.report.stats.records, r.report.stats.valid, r.report.stats.invalid], [4, 2, 2])
      assert.strictEqual(r.stored, 0)
      assert.deepStrictEqual(r.err.map((l) => /^line (\d+):/.exec(l)?.[1]), ["2", "4"])
      const rendered = yield* captured(Effect.either(Importer.render(r.report, { json: true, dryRun: false })))
      assert.isTrue(Either.isLeft(rendered.result))
      assert.match(rendered.err[0]!, /^error: 2 of 4 records are invalid; nothing was imported/)
      assert.deepStrictEqual(JSON.parse(rendered.out[0]!).imported, false)
    }))

  it.effect("skipInvalid writes the good records in one pass; dryRun writes nothing", () =>
    Effect.gen(function*() {
      const db = freshDb()
      const input = file("some-bad.ndjson", [1, 2, 3].map((i) => JSON.stringify(ingestEvent(i))).join("\n") + "\n[]\n")
      const dry = yield* importInto(db, { file: input, dryRun: true, skipInvalid: true })
      assert.strictEqual(dry.stored, 0)
      assert.deepStrictEqual([dry.report.stats.valid, dry.report.stats.invalid], [3, 1])
      const skipped = yield* importInto(db, { file: input, skipInvalid: true })
      assert.strictEqual(skipped.report._tag, "Imported")
      assert.deepStrictEqual([skipped.report.stats.inserted, skipped.report.stats.invalid], [3, 1])
      assert.strictEqual(skipped.stored, 3)
      const line = yield* captured(Importer.render(skipped.report, { json: false, dryRun: false }))
      assert.match(line.out[0]!, /^imported 3 events in [\d.]+s \([\d,]+\/s\): 3 new, 1 invalid skipped$/)
    }))

  it.effect("reads CSV and JSON arrays (format from the extension or the first character)", () =>
    Effect.gen(function*() {
      const db = freshDb()
      const csv = file("events.csv", "name,external_customer_id,external_id,metadata.tokens\nllm.call,c1,e1,10\nllm.call,c2,e2,20\n")
      const json = file("events.data", JSON.stringify([ingestEvent(10), ingestEvent(11), ingestEvent(12)]))
      const a = yield* importInto(db, { file: csv })
      assert.deepStrictEqual([a.report._tag, a.report.stats.inserted], ["Imported", 2])
      const b = yield* importInto(db, { file: json })
      assert.deepStrictEqual([b.report._tag, b.report.stats.inserted, b.stored], ["Imported", 3, 5])
    }))

  it.effect("a missing file fails with a CommandError", () =>
    Effect.gen(function*() {
      const r = yield* Effect.flip(importInto(freshDb(), { file: path.join(dir, "absent.ndjson") }))
      assert.strictEqual(r._tag, "CommandError")
      assert.match(r.message, /no such file/)
    }))
})
