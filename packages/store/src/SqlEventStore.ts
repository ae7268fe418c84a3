/**
 * The SQL `EventStore`: one implementation over `@effect/sql`'s `SqlClient`
 * for SQLite (the embedded default) and PostgreSQL, branching by dialect only
 * where the SQL differs. It runs its own versioned migrations at start.
 *
 * - `layerSqlite({ filename })`: a file any number of processes may share
 *   (WAL, a busy timeout, `BEGIN IMMEDIATE` writes).
 * - `layerPg({ url })` / `layerPgConfig(config)`: PostgreSQL; ingest goes
 *   through `COPY` on a dedicated `pg` pool.
 * - `layer()`: over a `SqlClient` you provide (SQLite or PostgreSQL).
 *
 * Concurrent writes of one process are group-committed: they queue, and one
 * writer commits everything waiting in one transaction.
 *
 * Importing this module loads no database driver: `layerSqlite` loads
 * `better-sqlite3` and `@effect/sql-sqlite-node`, `layerPg` loads `pg`,
 * `pg-copy-streams` and `@effect/sql-pg`, each when the layer is built. A
 * SQLite-only program needs no PostgreSQL package, and the other way round.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Ids, Timestamp, type ValidationError } from "@polar-events/core"
import {
  Chunk,
  Config,
  type ConfigError,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Redacted,
  type Scope,
  Stream
} from "effect"
import type Pg from "pg"
import {
  EventStore,
  type EventsPage,
  EventStoreError,
  type IngestResult,
  type ListQuery,
  type Stats
} from "./EventStore.js"
import type * as T from "./internal/types.js"
import {
  checkOrganization,
  checkQuantities,
  fromCreate,
  fromEvents,
  makeStats,
  normalizeId,
  normalizeList,
  normalizeNames,
  type NormalizedList,
  type Stored
} from "./internal/common.js"
import * as GroupCommit from "./internal/groupCommit.js"
import { bytesToUuid } from "./internal/ids.js"
import * as Reader from "./internal/reader.js"
import { migrations, migrationsTable, PG_MIGRATION_LOCK } from "./internal/schema.js"
import type { Dialect } from "./internal/sqlExpr.js"
import type * as SqliteWriter from "./internal/sqliteWriter.js"
import * as SqlWriter from "./internal/sqlWriter.js"
import { defaultWriterOptions, Keys, type WriterOptions } from "./internal/writePlan.js"
import type { Writer } from "./internal/writer.js"

/**
 * Tuning of the SQL store.
 *
 * @since 0.1.0
 */
export interface StoreOptions {
  /** The most events committed in one group-commit transaction (default 20,000). */
  readonly maxGroupSize?: number | undefined
  /**
   * Groups being written at once (default 1; 2 with a SQLite write thread,
   * which runs the second after the first). More also helps PostgreSQL.
   */
  readonly writers?: number | undefined
}

/** @internal */
export interface InternalOptions extends StoreOptions {
  /** the backend's own writer (SQLite's write connection, PostgreSQL's COPY); else the generic SqlClient writer */
  readonly backendWriter?: Writer | undefined
  /** tests: the external id hash */
  readonly writer?: WriterOptions | undefined
}

type RequestValidationError = ValidationError.RequestValidationError

/** With a write thread: the events a group gathers while another is written, before it queues behind it. */
const GATHER_WHILE_BUSY = 1000

/**
 * The message of a failure's cause, for a person: an `Error`'s, or the
 * driver's when the error wraps one (an `@effect/sql` `SqlError` says only
 * "Failed to execute statement"; its cause says why).
 *
 * @since 0.1.0
 */
export const causeMessage = (cause: unknown): string =>
  cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)

const storeError = (operation: string) => (cause: SqlError | unknown): EventStoreError =>
  new EventStoreError({ operation, message: `${operation} failed: ${causeMessage(cause)}`, cause })

/**
 * Loads a backend's modules when its layer is built, so that importing this
 * entry loads no driver; a driver that is not installed fails the layer with
 * the packages to install.
 */
const loadDriver = <A>(packages: string, load: () => Promise<A>): Effect.Effect<A, EventStoreError> =>
  Effect.tryPromise({
    try: load,
    catch: (cause) =>
      new EventStoreError({
        operation: "open",
        message: `open failed: cannot load ${packages} (install ${packages} beside @polar-events/store): ${causeMessage(cause)}`,
        cause
      })
  })

const loadSqlite = loadDriver("better-sqlite3 and @effect/sql-sqlite-node", () =>
  Promise.all([import("@effect/sql-sqlite-node/SqliteClient"), import("./internal/sqliteWriter.js")]))

const loadPg = loadDriver("pg, pg-copy-streams and @effect/sql-pg", () =>
  Promise.all([import("pg"), import("@effect/sql-pg/PgClient"), import("./internal/pgWriter.js")]))

const dialectOf = (sql: SqlClient.SqlClient): Effect.Effect<Dialect, EventStoreError> =>
  sql.onDialectOrElse({
    sqlite: () => Effect.succeed<Dialect>("sqlite"),
    pg: () => Effect.succeed<Dialect>("pg"),
    orElse: () =>
      Effect.fail(new EventStoreError({ operation: "start", message: "Only SQLite and PostgreSQL are supported." }))
  })

/**
 * Creates or upgrades the schema (idempotent; several processes may run it at
 * once). Needs a SQLite or PostgreSQL `SqlClient`.
 *
 * @since 0.1.0
 */
export const migrate: Effect.Effect<void, EventStoreError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const dialect = yield* dialectOf(sql)
  yield* SqlWriter.transaction(sql, dialect)(Effect.gen(function*() {
    if (dialect === "pg") yield* sql.unsafe(`SELECT pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`)
    yield* sql.unsafe(migrationsTable[dialect])
    const rows = yield* sql.unsafe<{ version: number }>("SELECT version FROM pe_migrations")
    const applied = new Set(rows.map((r) => Number(r.version)))
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      for (const statement of m[dialect]) yield* sql.unsafe(statement)
      yield* sql.unsafe(
        dialect === "pg"
          ? "INSERT INTO pe_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
          : "INSERT INTO pe_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        [m.version, m.name, Date.now()]
      )
    }
  })).pipe(Effect.mapError(storeError("migrate")))
})

/**
 * The schema version of the database (0 before the first migration).
 *
 * @since 0.1.0
 */
export const schemaVersion: Effect.Effect<number, EventStoreError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql.unsafe<{ v: number | null }>("SELECT MAX(version) AS v FROM pe_migrations").pipe(
    Effect.orElseSucceed(() => [{ v: 0 }])
  )
  return Number(rows[0]?.v ?? 0)
})

/**
 * What the database holds (the port's `stats`) over the `SqlClient` in
 * context, without opening the store or running its migrations: for a tool
 * that inspects a database (`polar-events db info`). Needs the schema (a
 * database at schema version 0 has no events to count: check
 * `schemaVersion` first).
 *
 * @since 0.1.0
 */
export const stats: Effect.Effect<Stats, EventStoreError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => Reader.stats(sql).pipe(Effect.map(makeStats), Effect.mapError(storeError("stats")))
)

/** The latest schema version this package knows. @since 0.1.0 */
export const latestSchemaVersion: number = migrations[migrations.length - 1]!.version

const STREAM_PAGE = 1000

/**
 * Builds the store over the `SqlClient` in context: runs the migrations and
 * starts the group-commit writer in the current scope.
 *
 * @since 0.1.0
 */
export const make = (
  options: StoreOptions = {}
): Effect.Effect<EventStore.Service, EventStoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const internal = options as InternalOptions
    const sql = yield* SqlClient.SqlClient
    const dialect = yield* dialectOf(sql)
    yield* migrate
    const keys = new Keys()
    const writerOptions = internal.writer ?? defaultWriterOptions
    const ctx: Reader.ReaderContext = { sql, dialect, keys }

    const writer: Writer = internal.backendWriter ?? SqlWriter.make(sql, dialect)

    const write = (items: ReadonlyArray<Stored>) =>
      writer.write(keys, items, writerOptions).pipe(
        Effect.map((r) => {
          keys.merge(r.learned)
          return r.inserted
        }),
        Effect.mapError(storeError("write"))
      )

    const threaded = writer.pipelined
    const submit = yield* GroupCommit.make<Stored, boolean, EventStoreError>({
      write,
      maxItems: options.maxGroupSize ?? 20_000,
      // a write thread takes a second group while it writes one
      writers: options.writers ?? (threaded ? 2 : 1),
      lingerTurns: dialect === "sqlite" && !threaded ? 8 : 0,
      gatherWhileBusy: threaded ? GATHER_WHILE_BUSY : undefined
    })

    const count = (flags: ReadonlyArray<boolean>) => {
      let inserted = 0
      for (const f of flags) if (f) inserted++
      return { inserted, duplicates: flags.length - inserted }
    }

    const service: EventStore.Service = {
      ingest: (organizationId, events) =>
        Effect.suspend((): Effect.Effect<IngestResult, RequestValidationError | EventStoreError> => {
          const orgId = normalizeId(organizationId)
          const invalid = checkOrganization(orgId, events)
          if (invalid !== undefined) return Effect.fail(invalid)
          const now = Date.now()
          const stored = events.map((e) => {
            const id = Ids.makeUuidV7Bytes(now)
            return fromCreate(orgId, e, bytesToUuid(id), now * 1000, id)
          })
          return Effect.map(submit(stored), count)
        }),

      insert: (events) =>
        Effect.suspend((): Effect.Effect<IngestResult, RequestValidationError | EventStoreError> => {
          const prepared = fromEvents(events, Date.now() * 1000)
          if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
          return Effect.map(submit(prepared.right), count)
        }),

      get: (organizationId, id) =>
        Reader.get(ctx, normalizeId(organizationId), normalizeId(id)).pipe(
          Effect.map(Option.fromNullable),
          Effect.mapError(storeError("get"))
        ),

      list: (organizationId, query = {}) =>
        Effect.suspend((): Effect.Effect<EventsPage, RequestValidationError | EventStoreError> => {
          const orgId = normalizeId(organizationId)
          const normalized = normalizeList(orgId, query)
          if (Either.isLeft(normalized)) return Effect.fail(normalized.left)
          return Reader.list(ctx, orgId, normalized.right).pipe(Effect.mapError(storeError("list")))
        }),

      stream: (organizationId, query: ListQuery = {}) =>
        Stream.suspend((): Stream.Stream<T.Event, RequestValidationError | EventStoreError> => {
          const orgId = normalizeId(organizationId)
          const { cursor: _c, cursorPagination: _p, limit: _l, page: _g, ...filters } = query
          const normalized = normalizeList(orgId, filters)
          if (Either.isLeft(normalized)) return Stream.fail(normalized.left)
          // a pull per page, keyed by the last event seen: constant memory, stable under inserts
          let next: NormalizedList | undefined = { ...normalized.right, limit: STREAM_PAGE, page: 1, cursorMode: true }
          const pull = Effect.suspend(() => {
            const n = next
            if (n === undefined) return Effect.fail(Option.none())
            return Reader.list(ctx, orgId, n).pipe(
              Effect.mapError((e) => Option.some(storeError("stream")(e))),
              Effect.map((page) => {
                const last = page.items[page.items.length - 1]
                const more = "hasNextPage" in page.pagination && page.pagination.hasNextPage && last !== undefined
                next = more ? { ...n, after: { ts: Timestamp.toEpochMicros(last!.timestamp), id: last!.id } } : undefined
                return Chunk.unsafeFromArray(page.items)
              })
            )
          })
          return Stream.repeatEffectChunkOption(pull)
        }),

      names: (organizationId, query = {}) =>
        Effect.suspend(() => {
          const orgId = normalizeId(organizationId)
          return Reader.names(ctx, orgId, normalizeNames(orgId, query)).pipe(Effect.mapError(storeError("names")))
        }),

      quantities: (organizationId, query) =>
        Effect.suspend((): Effect.Effect<T.MeterQuantities, RequestValidationError | EventStoreError> => {
          const tz = checkQuantities(query)
          if (Either.isLeft(tz)) return Effect.fail(tz.left)
          return Reader.quantities(ctx, normalizeId(organizationId), query, tz.right).pipe(
            Effect.mapError(storeError("quantities"))
          )
        }),

      stats: Effect.provideService(stats, SqlClient.SqlClient, sql)
    }
    return service
  })

/**
 * The store over a `SqlClient` you provide (SQLite or PostgreSQL).
 *
 * @since 0.1.0
 */
export const layer = (options: StoreOptions = {}): Layer.Layer<EventStore, EventStoreError, SqlClient.SqlClient> =>
  Layer.scoped(EventStore, make(options))

/**
 * Options of the SQLite store.
 *
 * @since 0.1.0
 */
export interface SqliteOptions extends StoreOptions {
  /** The database file (created if missing). */
  readonly filename: string
  /** How long a writer waits for another process's write lock (default 30 seconds). */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /**
   * The page cache of the write connection, in MiB (default 256): random
   * index pages (dedup, customers) stay in memory between commits.
   */
  readonly cacheSizeMiB?: number | undefined
  /** The page cache of the read connection, in MiB (default 32). */
  readonly readCacheSizeMiB?: number | undefined
  /**
   * Run the write connection on a thread of its own (default false). A
   * server with many concurrent producers gains: its main thread parses and
   * validates the next requests while a group commits. A single producer
   * that waits for each batch gains nothing and pays for copying the rows.
   */
  readonly writeThread?: boolean | undefined
  /**
   * How often WAL checkpoints run on their thread (default 1 second; 250 ms
   * with `writeThread`). Longer copies a page that many commits wrote once
   * (faster ingest); shorter keeps each checkpoint's burst of writes, and the
   * latency it adds to a server, small.
   */
  readonly checkpointInterval?: Duration.DurationInput | undefined
}

/**
 * The pragmas of the SQLite store: WAL (set by the client), `synchronous =
 * NORMAL` (durable at checkpoints, safe against corruption), a busy timeout
 * so concurrent processes wait their turn, a page cache, and an automatic
 * checkpoint every 40,000 pages (160 MB) instead of 1,000: random index pages
 * are then written back once per checkpoint instead of once per commit. The
 * write connection of `layerSqlite` leaves checkpoints to a thread of their
 * own and keeps a later one as a backstop.
 */
const sqlitePragmas = (options: SqliteOptions, cacheSizeMiB: number) => [
  `PRAGMA busy_timeout = ${Math.round(Duration.toMillis(Duration.decode(options.busyTimeout ?? "30 seconds")))}`,
  "PRAGMA synchronous = NORMAL",
  `PRAGMA cache_size = -${Math.round(cacheSizeMiB * 1024)}`,
  "PRAGMA wal_autocheckpoint = 40000",
  "PRAGMA journal_size_limit = 67108864",
  "PRAGMA temp_store = MEMORY"
]

/**
 * The SQLite client the store uses, with its pragmas applied: for programs
 * that want the same connection settings.
 *
 * @since 0.1.0
 */
export const layerSqliteClient = (
  options: SqliteOptions
): Layer.Layer<SqlClient.SqlClient | SqliteClient.SqliteClient, EventStoreError> =>
  Layer.unwrapEffect(Effect.map(loadSqlite, ([SqliteClient]) =>
    Layer.effectDiscard(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        for (const pragma of sqlitePragmas(options, options.readCacheSizeMiB ?? 32)) yield* sql.unsafe(pragma)
      }).pipe(Effect.mapError(storeError("open")))
    ).pipe(
      Layer.provideMerge(SqliteClient.layer({ filename: options.filename })),
      Layer.catchAll((e) => Layer.fail(e instanceof EventStoreError ? e : storeError("open")(e)))
    )))

/**
 * The store in a SQLite file: the embedded default. Several processes may
 * use one file at once.
 *
 * @since 0.1.0
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<EventStore, EventStoreError> =>
  Layer.scoped(
    EventStore,
    Effect.gen(function*() {
      const pragmas = sqlitePragmas(options, options.cacheSizeMiB ?? 256)
      const interval = options.checkpointInterval === undefined
        ? undefined
        : Math.max(1, Math.round(Duration.toMillis(Duration.decode(options.checkpointInterval))))
      const [, SqliteWriter] = yield* loadSqlite
      const sqliteWriter: SqliteWriter.SqliteWriter = yield* Effect.acquireRelease(
        options.writeThread === true
          ? Effect.mapError(SqliteWriter.openThread(options.filename, pragmas, interval), storeError("open"))
          : Effect.try({ try: () => SqliteWriter.open(options.filename, pragmas, interval), catch: storeError("open") }),
        (w) => w.close
      )
      return yield* make({ ...options, backendWriter: sqliteWriter } as InternalOptions)
    })
  ).pipe(Layer.provide(layerSqliteClient(options)))

/**
 * How to reach PostgreSQL: a URL, or the fields of `@effect/sql-pg`'s
 * config. `maxConnections` defaults to 10.
 *
 * @since 0.1.0
 */
export type PgOptions = StoreOptions & (
  | { readonly url: string | Redacted.Redacted; readonly maxConnections?: number | undefined }
  | PgClient.PgClientConfig
)

const poolConfig = (options: PgOptions): Pg.PoolConfig => {
  const o = options as PgClient.PgClientConfig & { readonly url?: string | Redacted.Redacted }
  const url = o.url === undefined ? undefined : typeof o.url === "string" ? o.url : Redacted.value(o.url)
  const config: Pg.PoolConfig = { max: o.maxConnections ?? 10, application_name: o.applicationName ?? "polar-events" }
  if (url !== undefined) config.connectionString = url
  if (o.host !== undefined) config.host = o.host
  if (o.port !== undefined) config.port = o.port
  if (o.database !== undefined) config.database = o.database
  if (o.username !== undefined) config.user = o.username
  if (o.password !== undefined) config.password = Redacted.value(o.password)
  if (o.ssl !== undefined) config.ssl = o.ssl
  if (o.connectTimeout !== undefined) config.connectionTimeoutMillis = Duration.toMillis(Duration.decode(o.connectTimeout))
  if (o.idleTimeout !== undefined) config.idleTimeoutMillis = Duration.toMillis(Duration.decode(o.idleTimeout))
  return config
}

/**
 * The store in PostgreSQL. Reads go through `@effect/sql-pg`; writes through
 * `COPY` on the same `pg` pool.
 *
 * @since 0.1.0
 */
export const layerPg = (options: PgOptions): Layer.Layer<EventStore, EventStoreError> =>
  Layer.scoped(
    EventStore,
    Effect.gen(function*() {
      const [{ default: Pg }, PgClient, PgWriter] = yield* loadPg
      const pool = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const pool = new Pg.Pool(poolConfig(options))
          pool.on("error", () => {})
          return pool
        }),
        (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption("5 seconds"))
      )
      const client = yield* PgClient.fromPool({ acquire: Effect.succeed(pool) }).pipe(
        Effect.mapError(storeError("connect"))
      )
      return yield* make({ ...options, backendWriter: PgWriter.make(pool) } as InternalOptions).pipe(
        Effect.provideService(SqlClient.SqlClient, client)
      )
    }).pipe(Effect.provide(Reactivity.layer))
  )

/**
 * `layerPg` from `Config`, e.g. `layerPgConfig({ url: Config.redacted("POLAR_EVENTS_PG_URL") })`.
 *
 * @since 0.1.0
 */
export const layerPgConfig = (
  config: Config.Config.Wrap<PgOptions>
): Layer.Layer<EventStore, EventStoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layerPg))
