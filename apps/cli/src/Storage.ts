/**
 * Opening the local store for a command: the SQLite file (created with its
 * folder on first use) or PostgreSQL, the `EventStore` over it, and a small
 * key-value table of the CLI's own (`polar_events_cli`) that remembers the
 * default organization and the positions of `push` and `pull`.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { EventStore } from "@polar-events/store"
import { SqlEventStore } from "@polar-events/store/sql"
import { Context, Effect, Layer, Option } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { CommandError } from "./CliError.js"
import { CliSettings, type Database, describeDatabase, type Settings } from "./GlobalOptions.js"

/** The SQLite page cache of the store, in MiB: enough for fast imports, small enough for a 250 MB RSS budget. */
const CACHE_MIB = 16

/** The page cache of the CLI's own connection (settings, outbox), in MiB. */
const META_CACHE_MIB = 4

/**
 * The CLI's key-value table, in the same database as the events.
 *
 * @since 0.1.0
 */
export interface MetaService {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, CommandError>
  readonly set: (key: string, value: string) => Effect.Effect<void, CommandError>
  /** Sets `key` to `value` unless it is set, and returns what it holds. */
  readonly setIfAbsent: (key: string, value: string) => Effect.Effect<string, CommandError>
}

/**
 * The key-value table as a service.
 *
 * @since 0.1.0
 */
export class Meta extends Context.Tag("polar-events/Meta")<Meta, MetaService>() {}

/**
 * The organization the command works in: `--org`, else the default one.
 *
 * @since 0.1.0
 */
export class Organization extends Context.Tag("polar-events/Organization")<Organization, string>() {}

const META_TABLE = "polar_events_cli"

const dbError = (what: string) => (cause: unknown) =>
  new CommandError({ message: `${what}: ${SqlEventStore.causeMessage(cause)}`, cause })

/**
 * The key-value table over the `SqlClient` in context (created if missing).
 *
 * @since 0.1.0
 */
export const makeMeta: Effect.Effect<MetaService, CommandError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`).pipe(
    Effect.mapError(dbError("cannot prepare the database"))
  )
  const get = (key: string) =>
    sql<{ value: string }>`SELECT value FROM ${sql(META_TABLE)} WHERE key = ${key}`.pipe(
      Effect.map((rows) => Option.fromNullable(rows[0]?.value)),
      Effect.mapError(dbError("cannot read settings"))
    )
  const set = (key: string, value: string) =>
    sql`INSERT INTO ${sql(META_TABLE)} (key, value) VALUES (${key}, ${value})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`.pipe(
      Effect.asVoid,
      Effect.mapError(dbError("cannot save settings"))
    )
  const setIfAbsent = (key: string, value: string) =>
    sql`INSERT INTO ${sql(META_TABLE)} (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO NOTHING`.pipe(
      Effect.mapError(dbError("cannot save settings")),
      Effect.zipRight(get(key)),
      Effect.map(Option.getOrElse(() => value))
    )
  return { get, set, setIfAbsent }
})

/** The key of the default organization in the key-value table. @since 0.1.0 */
export const DEFAULT_ORG_KEY = "default_organization_id"

/**
 * Resolves the organization: `--org`, else the remembered default, created
 * (a random UUID v4) on first use.
 *
 * @since 0.1.0
 */
export const organization: Effect.Effect<string, CommandError, Meta | CliSettings> = Effect.gen(function*() {
  const settings = yield* CliSettings
  if (Option.isSome(settings.org)) return settings.org.value
  const meta = yield* Meta
  return yield* meta.setIfAbsent(DEFAULT_ORG_KEY, crypto.randomUUID())
})

/** Creates the folder of a SQLite file. */
const ensureFolder = (filename: string) =>
  Effect.try({
    try: () => {
      if (filename !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true })
    },
    catch: dbError(`cannot create the folder of ${filename}`)
  })

/**
 * An `SqlClient` for the database (SQLite with the store's pragmas, or
 * PostgreSQL).
 *
 * @since 0.1.0
 */
export const sqlClientLayer = (database: Database): Layer.Layer<SqlClient.SqlClient, CommandError> =>
  database._tag === "sqlite"
    ? Layer.unwrapEffect(
      Effect.as(
        ensureFolder(database.filename),
        SqlEventStore.layerSqliteClient({ filename: database.filename, cacheSizeMiB: META_CACHE_MIB })
      )
    ).pipe(Layer.mapError(dbError(`cannot open ${describeDatabase(database)}`)))
    : PgClient.layer({ url: database.url, maxConnections: 2, applicationName: "polar-events-cli" }).pipe(
      Layer.mapError(dbError(`cannot connect to ${describeDatabase(database)}`))
    )

/**
 * What an opened database gives a command.
 *
 * @since 0.1.0
 */
export type Services = EventStore.EventStore | SqlClient.SqlClient | Meta | Organization

/**
 * The store, the CLI's table and the organization for the settings in
 * context. SQLite shares one connection between them; PostgreSQL gets the
 * store's pool (COPY for writes) and a small one for the CLI's table.
 *
 * @since 0.1.0
 */
export const make = (options: {
  /** SQLite: write on a thread of its own (for `serve`, whose requests arrive concurrently) */
  readonly writeThread?: boolean | undefined
} = {}): Layer.Layer<Services, CommandError, CliSettings> =>
  Layer.unwrapEffect(Effect.map(CliSettings, (settings: Settings) => {
    const client = sqlClientLayer(settings.database)
    const store: Layer.Layer<EventStore.EventStore, CommandError, SqlClient.SqlClient> = settings.database._tag ===
        "sqlite"
      ? SqlEventStore.layerSqlite({
        filename: settings.database.filename,
        cacheSizeMiB: CACHE_MIB,
        readCacheSizeMiB: CACHE_MIB,
        writeThread: options.writeThread
      }).pipe(
        Layer.mapError(dbError("cannot open the store"))
      )
      : SqlEventStore.layerPg({ url: settings.database.url, maxConnections: 4 }).pipe(
        Layer.mapError(dbError("cannot open the store"))
      )
    const meta = Layer.effect(Meta, makeMeta)
    const org = Layer.effect(Organization, organization)
    return org.pipe(
      Layer.provideMerge(meta),
      Layer.provideMerge(store),
      Layer.provideMerge(client)
    )
  }))

/**
 * `make()`: what every command but `serve` opens.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Services, CommandError, CliSettings> = make()

/**
 * Only the SQL client and the CLI's table, without the store (so without
 * running its migrations): for `db info`.
 *
 * @since 0.1.0
 */
export const clientOnly: Layer.Layer<SqlClient.SqlClient, CommandError, CliSettings> = Layer.unwrapEffect(
  Effect.map(CliSettings, (settings) => sqlClientLayer(settings.database))
)
