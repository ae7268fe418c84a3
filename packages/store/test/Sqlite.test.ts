import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import * as Path from "node:path"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlEventStore from "../src/SqlEventStore.js"
import { conformance } from "./conformance.js"
import { sqlSuite } from "./sqlSuite.js"
import { sqlite, tempDir } from "./utils/layers.js"

conformance("sqlite", sqlite())

// the same implementation over a plain @effect/sql client (multi-row INSERT instead of the driver loop)
conformance(
  "sqlite over SqlClient",
  Layer.unwrapScoped(Effect.map(tempDir, (dir) =>
    SqlEventStore.layer().pipe(Layer.provide(SqliteClient.layer({ filename: Path.join(dir, "events.db") })))))
)

sqlSuite(
  "sqlite",
  Effect.map(tempDir, (dir) => {
    const filename = Path.join(dir, "events.db")
    return {
      layer: (options = {}) => SqlEventStore.layerSqlite({ ...options, filename } as SqlEventStore.SqliteOptions),
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
        "CREATE TRIGGER pe_test_boom BEFORE INSERT ON pe_events WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END"
    }
  })
)
