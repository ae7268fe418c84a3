import { assert, it } from "@effect/vitest"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Config, ConfigProvider, Context, Effect, Fiber, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import Pg from "pg"
import { EventStore, validateAndIngest } from "../src/EventStore.js"
import { hash53 } from "../src/internal/ids.js"
import * as SqlEventStore from "../src/SqlEventStore.js"
import { conformance } from "./conformance.js"
import { sqlSuite } from "./sqlSuite.js"
import { pg, pgDatabase } from "./utils/layers.js"

/** A trigger that fails an insert into `table` of a row named `name`. */
const raiseOnInsert = (fn: string, table: string, name: string) => `
  CREATE FUNCTION ${fn}() RETURNS trigger AS $$
  BEGIN
    IF NEW.name = '${name}' THEN RAISE EXCEPTION '${name}'; END IF;
    RETURN NEW;
  END $$ LANGUAGE plpgsql;
  CREATE TRIGGER ${fn} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}();`

conformance("postgres", pg())

// the same implementation over a plain @effect/sql-pg client (multi-row INSERT instead of COPY)
conformance(
  "postgres over SqlClient",
  Layer.unwrapScoped(Effect.map(pgDatabase, (url) =>
    SqlEventStore.layer().pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url) })))))
)

sqlSuite(
  "postgres",
  Effect.map(pgDatabase, (url) => ({
    layer: (options = {}) => SqlEventStore.layerPg({ ...options, url } as SqlEventStore.PgOptions),
    exec: async (sql: string) => {
      const client = new Pg.Client({ connectionString: url })
      await client.connect()
      try {
        return (await client.query(sql)).rows
      } finally {
        await client.end()
      }
    },
    failingTrigger: raiseOnInsert("pe_test_boom", "pe_events", "boom"),
    failingNamesTrigger: raiseOnInsert("pe_test_names_boom", "pe_event_names", "late-boom")
  }))
)

it.live("postgres: a key won by another transaction between the duplicate check and COPY is still a duplicate", () =>
  Effect.scoped(Effect.gen(function*() {
    const url = yield* pgDatabase
    const store = Context.get(yield* Layer.build(SqlEventStore.layerPg({ url })), EventStore)
    const org = randomUUID()
    yield* validateAndIngest(store, org, [{ name: "first", externalCustomerId: "c", externalId: "warmup" }])
    const client = new Pg.Client({ connectionString: url })
    yield* Effect.acquireRelease(Effect.promise(() => client.connect()), () => Effect.promise(() => client.end()))
    const orgKey = (yield* Effect.promise(() => client.query("SELECT key FROM pe_organizations WHERE id = $1", [org]))).rows[0].key
    // another writer holds an uncommitted row for external id "contested"
    yield* Effect.promise(() => client.query("BEGIN"))
    yield* Effect.promise(() =>
      client.query(
        "INSERT INTO pe_events (id, org, ts, name, source, external_id, ext_hash, depth, flags, metadata, ingested_at) " +
          "VALUES ($1, $2, 0, 'other', 'user', 'contested', $3, 0, 4, '{}', 0)",
        [randomUUID(), orgKey, hash53("contested")]
      ))
    const fiber = yield* Effect.fork(validateAndIngest(store, org, [
      { name: "mine", externalCustomerId: "c", externalId: "contested" },
      { name: "mine", externalCustomerId: "c", externalId: "free" }
    ]))
    // the store's COPY now waits on the other transaction's index entry
    yield* Effect.sleep("500 millis")
    yield* Effect.promise(() => client.query("COMMIT"))
    const result = yield* Fiber.join(fiber)
    assert.deepStrictEqual(result, { inserted: 1, duplicates: 1 })
    const names = (yield* store.list(org, { limit: 100 })).items.map((e) => e.name).sort()
    assert.deepStrictEqual(names, ["first", "mine", "other"])
  })))

it.live("postgres: layerPgConfig reads the connection from Config", () =>
  Effect.scoped(Effect.gen(function*() {
    const url = yield* pgDatabase
    const layer = SqlEventStore.layerPgConfig({ url: Config.redacted("POLAR_EVENTS_TEST_URL") }).pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["POLAR_EVENTS_TEST_URL", url]]))))
    )
    const org = randomUUID()
    const result = yield* Effect.provide(
      Effect.flatMap(EventStore, (store) =>
        Effect.zipRight(
          validateAndIngest(store, org, [{ name: "configured", externalCustomerId: "c" }]),
          store.list(org)
        )),
      layer
    )
    assert.deepStrictEqual(result.items.map((e) => e.name), ["configured"])
    const missing = yield* Effect.either(Effect.provide(
      EventStore,
      SqlEventStore.layerPgConfig({ url: Config.redacted("POLAR_EVENTS_TEST_NOPE") }).pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
      )
    ))
    assert.ok(missing._tag === "Left", "a missing setting is a ConfigError")
  })))
