/**
 * Store layers for tests: real SQLite files in a temp directory and real
 * PostgreSQL databases, each fresh and removed afterwards.
 */
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { inject } from "vitest"
import type { EventStore } from "../../src/EventStore.js"
import * as SqlEventStore from "../../src/SqlEventStore.js"
import { createDatabase } from "./postgres.js"

/** A temp directory for the lifetime of the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "polar-events-store-test-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** The store in a fresh SQLite file. */
export const sqlite = (options: Omit<SqlEventStore.SqliteOptions, "filename"> & SqlEventStore.InternalOptions = {}) =>
  Layer.unwrapScoped(Effect.map(tempDir, (dir) =>
    SqlEventStore.layerSqlite({ ...options, filename: Path.join(dir, "events.db") } as SqlEventStore.SqliteOptions)))

/** A fresh PostgreSQL database (dropped at the end of the scope); its URL. */
export const pgDatabase = Effect.acquireRelease(
  Effect.promise(() => createDatabase(inject("pgUrl"))),
  (db) => Effect.promise(() => db.drop())
).pipe(Effect.map((db) => db.url))

/** The store in a fresh PostgreSQL database. */
export const pg = (options: SqlEventStore.StoreOptions & SqlEventStore.InternalOptions = {}): Layer.Layer<EventStore, unknown> =>
  Layer.unwrapScoped(Effect.map(pgDatabase, (url) => SqlEventStore.layerPg({ ...options, url } as SqlEventStore.PgOptions)))
