import { assert, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { EventStore, validateAndIngest } from "../src/EventStore.js"
import { holdersSql } from "../src/internal/writePlan.js"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlEventStore from "../src/SqlEventStore.js"
import { conformance } from "./conformance.js"
import { sqlSuite } from "./sqlSuite.js"
import { newOrg } from "./utils/events.js"
import { sqlite, tempDir } from "./utils/layers.js"

conformance("sqlite", sqlite())

// the write connection on a thread of its own (what a server uses)
conformance("sqlite with a write thread", sqlite({ writeThread: true }))

// the same implementation over a plain @effect/sql client (multi-row INSERT instead of the driver loop)
conformance(
  "sqlite over SqlClient",
  Layer.unwrapScoped(Effect.map(tempDir, (dir) =>
    SqlEventStore.layer().pipe(Layer.provide(SqliteClient.layer({ filename: Path.join(dir, "events.db") })))))
)

const sqliteTarget = (writeThread: boolean) =>
  Effect.map(tempDir, (dir) => {
    const filename = Path.join(dir, "events.db")
    return {
      layer: (options = {}) => SqlEventStore.layerSqlite({ ...options, filename, writeThread } as SqlEventStore.SqliteOptions),
      exec: async (sql: string) => {
        const db = new Database(filename)
        try {
          const st = db.prepare(sql)
          return st.reader ? (st.all() as Array<Record<string, unknown>>) : (st.run(), [])
        } finally {
          db.close()
        }
      },
      failingTrigger:
        "CREATE TRIGGER pe_test_boom BEFORE INSERT ON pe_events WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
      failingNamesTrigger:
        "CREATE TRIGGER pe_test_names_boom BEFORE INSERT ON pe_event_names WHEN NEW.name = 'late-boom' BEGIN SELECT RAISE(ABORT, 'late boom'); END"
    }
  })

sqlSuite("sqlite", sqliteTarget(false))
sqlSuite("sqlite with a write thread", sqliteTarget(true))

it.live("sqlite: a duplicate is looked up through the dedup index, not by scanning the organization", () =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* tempDir
    const filename = Path.join(dir, "events.db")
    yield* Effect.provide(EventStore, SqlEventStore.layerSqlite({ filename }))
    const db = new Database(filename, { readonly: true })
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${holdersSql("sqlite", 3)}`).all(1, 1, 2, 3) as Array<{ detail: string }>
      assert.deepStrictEqual(plan.map((r) => r.detail), ["SEARCH pe_events USING INDEX pe_events_dedup (org=? AND ext_hash=?)"])
    } finally {
      db.close()
    }
  })))

for (const writeThread of [false, true]) {
  it.live(`sqlite${writeThread ? " with a write thread" : ""}: WAL checkpoints run beside the writer while the store is open`, () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = Path.join(dir, "events.db")
      const size = () => Fs.statSync(filename).size
      yield* Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const before = size()
        // about 30 MB of WAL: far below the write connection's own automatic checkpoint (400 MB)
        for (let b = 0; b < 40; b++) {
          yield* validateAndIngest(store, org, Array.from({ length: 1000 }, (_, i) => ({
            name: "api.call",
            externalCustomerId: `customer_${(b * 1000 + i) % 5000}`,
            externalId: `evt_${b}_${i}`,
            metadata: { route: "/v1/things/" + "x".repeat(300), n: i }
          })))
        }
        // the checkpointer copies the WAL back into the database file without a commit waiting for it
        let copied = false
        for (let i = 0; i < 100 && !copied; i++) {
          copied = size() > before + 8 * 1024 * 1024
          if (!copied) yield* Effect.sleep("50 millis")
        }
        assert.ok(copied, `the database file grew from ${before} to ${size()} bytes while the store was open`)
      }).pipe(Effect.provide(SqlEventStore.layerSqlite({ filename, writeThread })))
      // closed: the last connection checkpointed everything and removed the WAL
      assert.strictEqual(Fs.existsSync(`${filename}-wal`), false)
      const db = new Database(filename, { readonly: true })
      try {
        assert.strictEqual((db.prepare("SELECT COUNT(*) AS n FROM pe_events").get() as { n: number }).n, 40_000)
      } finally {
        db.close()
      }
    })), 60_000)
}
