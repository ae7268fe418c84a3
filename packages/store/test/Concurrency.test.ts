/**
 * Several OS processes writing one store at once, with overlapping external
 * ids: no error, and exactly the right events stored.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { randomUUID } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { inject } from "vitest"
import { EventStore } from "../src/EventStore.js"
import * as SqlEventStore from "../src/SqlEventStore.js"
import { buildFixture, runChild } from "./utils/children.js"
import { createDatabase } from "./utils/postgres.js"

/**
 * Process p ingests ids [p * STEP, p * STEP + COUNT): consecutive processes
 * overlap by COUNT - STEP ids. Every tenth id has no external id.
 */
const COUNT = 10_000
const STEP = 4000
const BATCH = 200

const expected = (processes: number) => {
  const last = (processes - 1) * STEP + COUNT
  let withExternal = 0
  let without = 0
  for (let k = 0; k < last; k++) if (k % 10 !== 0) withExternal++
  for (let p = 0; p < processes; p++) {
    for (let k = p * STEP; k < p * STEP + COUNT; k++) if (k % 10 === 0) without++
  }
  return { stored: withExternal + without, offered: processes * COUNT }
}

interface ChildResult {
  readonly inserted: number
  readonly duplicates: number
  readonly started: number
  readonly ended: number
}

const check = async (
  layer: Layer.Layer<EventStore, unknown>,
  org: string,
  processes: number,
  results: ReadonlyArray<ChildResult>
) => {
  const { offered, stored } = expected(processes)
  assert.ok(
    Math.max(...results.map((r) => r.started)) < Math.min(...results.map((r) => r.ended)),
    "the processes were writing at the same time"
  )
  const inserted = results.reduce((n, r) => n + r.inserted, 0)
  const duplicates = results.reduce((n, r) => n + r.duplicates, 0)
  assert.strictEqual(inserted + duplicates, offered)
  assert.strictEqual(inserted, stored, "the processes together inserted each event once")
  const rt = ManagedRuntime.make(layer)
  try {
    const store = await rt.runPromise(EventStore)
    const page = await rt.runPromise(store.list(org, { limit: 1 }))
    assert.strictEqual((page.pagination as any).totalCount, stored, "the store holds exactly that many")
    const names = await rt.runPromise(store.names(org, { limit: 100 }))
    assert.strictEqual(names.items.reduce((n, x) => n + x.occurrences, 0), stored, "the names summary agrees")
  } finally {
    await rt.dispose()
  }
}

describe("concurrency", () => {
  for (const [kind, title] of [["sqlite", "4 processes"], ["sqlite-thread", "4 processes, each writing on a thread,"]]) {
    it.live(`${title} ingest into one SQLite file at once`, () =>
      Effect.promise(async () => {
        const fixture = await buildFixture("ingestChild")
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "polar-events-procs-"))
        try {
          const file = Path.join(dir, "events.db")
          const org = randomUUID()
          const go = String(Date.now() + 4000)
          const results = await Promise.all(
            Array.from({ length: 4 }, (_, p) =>
              runChild(fixture.file, [kind, file, org, String(p * STEP), String(COUNT), String(BATCH)], {
                POLAR_EVENTS_GO: go
              }))
          )
          await check(SqlEventStore.layerSqlite({ filename: file }), org, 4, results)
        } finally {
          fixture.cleanup()
          Fs.rmSync(dir, { recursive: true, force: true })
        }
      }), 180_000)
  }

  it.live("8 processes ingest into one PostgreSQL database at once", () =>
    Effect.promise(async () => {
      const fixture = await buildFixture("ingestChild")
      const db = await createDatabase(inject("pgUrl"))
      try {
        const org = randomUUID()
        const go = String(Date.now() + 6000)
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, p) =>
            runChild(fixture.file, ["pg", db.url, org, String(p * STEP), String(COUNT), String(BATCH)], {
              POLAR_EVENTS_GO: go
            }))
        )
        await check(SqlEventStore.layerPg({ url: db.url }), org, 8, results)
      } finally {
        fixture.cleanup()
        await db.drop()
      }
    }), 180_000)
})
