/**
 * The example service end to end: the server package stands in for Polar
 * (on 127.0.0.1, over a SQLite event store); the service, configured from
 * its environment, points its client at it and meters from that store. 1,000 requests later the store
 * holds exactly 1,000 events (none lost, none twice), and the service's meter
 * endpoint reports 1,000.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import { Ingester, Outbox } from "@polar-events/client"
import { AccessToken, EventsServer } from "@polar-events/server"
import { EventStore } from "@polar-events/store"
import { SqlEventStore } from "@polar-events/store/sql"
import { ConfigProvider, Context, Effect, Layer, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Service from "../src/Service.js"
import * as Usage from "../src/Usage.js"

const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
const TOKEN = "polar_oat_example_service_0123456789"
const REQUESTS = Number(process.env.EXAMPLE_REQUESTS ?? 1_000)
const CUSTOMERS = 4

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "polar-events-example-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const urlOf = (context: Context.Context<HttpServer.HttpServer>) => {
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return `http://127.0.0.1:${address.port}`
}

const getJson = (url: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers })
    return { status: response.status, body: (await response.json()) as any }
  })

describe("the example service", () => {
  it.scopedLive(`${REQUESTS} requests: the store holds ${REQUESTS} events and the meter reports ${REQUESTS}`, () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const eventsFile = join(dir, "events.db")

      // Polar, played by the server package over a SQLite store
      const polar = yield* Layer.build(
        EventsServer.layerServe({ tokens: [AccessToken.make(TOKEN, ORG)], port: 0 }).pipe(
          Layer.provideMerge(SqlEventStore.layerSqlite({ filename: eventsFile }))
        )
      )
      const store = Context.get(polar, EventStore.EventStore)

      // the service, configured as main.ts configures it: from its environment
      const env = new Map([
        ["POLAR_ACCESS_TOKEN", TOKEN],
        ["POLAR_SERVER", urlOf(polar)],
        ["POLAR_ORGANIZATION_ID", ORG],
        ["EVENTS_DB", eventsFile],
        ["OUTBOX_DB", join(dir, "outbox.db")],
        ["PORT", "0"]
      ])
      const options = yield* Service.options.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env)))
      assert.strictEqual(options.eventsFile, eventsFile)
      const service = yield* Layer.build(Service.layer(options))
      const url = urlOf(service)

      const statuses = yield* Effect.forEach(
        Array.from({ length: REQUESTS }, (_, i) => i),
        (i) =>
          Effect.map(
            getJson(`${url}/api/greeting?name=user${i}`, { "x-customer-id": `cus_${i % CUSTOMERS}` }),
            (r) => (r.status === 200 && r.body.greeting === `Hello, user${i}!` ? 200 : r.status)
          ),
        { concurrency: 25 }
      )
      assert.deepStrictEqual(new Set(statuses), new Set([200]))

      // every request's event was committed to the outbox, and the outbox delivered each once
      yield* Usage.flush.pipe(Effect.provide(service))
      const outbox = yield* Effect.flatMap(Outbox.Outbox, (o) => o.stats).pipe(Effect.provide(service))
      assert.strictEqual(outbox.offered, REQUESTS)
      assert.strictEqual(outbox.delivered, REQUESTS)
      assert.strictEqual(outbox.duplicates, 0)
      assert.strictEqual(outbox.pending, 0)
      assert.strictEqual(outbox.dead, 0)
      const ingester = yield* Effect.flatMap(Ingester.Ingester, (i) => i.stats).pipe(Effect.provide(service))
      assert.strictEqual(ingester.sent, REQUESTS)
      assert.strictEqual(ingester.failed + ingester.dropped + ingester.queued, 0)

      // the store holds exactly the 1,000 events
      const page = yield* store.list(ORG, { limit: 1 })
      assert.deepStrictEqual(page.pagination, { totalCount: REQUESTS, maxPage: REQUESTS })
      const names = yield* store.names(ORG)
      assert.deepStrictEqual(names.items.map((n) => [n.name, n.occurrences]), [[Usage.EVENT_NAME, REQUESTS]])

      // the meter, served by the service from the store
      const usage = yield* getJson(`${url}/usage`)
      assert.strictEqual(usage.status, 200)
      assert.strictEqual(usage.body.total, REQUESTS)
      assert.strictEqual(usage.body.quantities.reduce((n: number, q: { quantity: number }) => n + q.quantity, 0), REQUESTS)
      for (let c = 0; c < CUSTOMERS; c++) {
        const one = yield* getJson(`${url}/usage?customer=cus_${c}&interval=day`)
        assert.strictEqual(one.body.total, REQUESTS / CUSTOMERS)
      }
    }))

  it.scopedLive("rejects a request without a customer, and a bad meter query, recording nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const service = yield* Layer.build(Service.layer({
        host: "127.0.0.1",
        port: 0,
        organizationId: ORG,
        eventsFile: join(dir, "events.db"),
        outboxFile: join(dir, "outbox.db"),
        client: { accessToken: Redacted.make(TOKEN), server: "http://127.0.0.1:9" }
      }))
      const url = urlOf(service)
      const missing = yield* getJson(`${url}/api/greeting`)
      assert.strictEqual(missing.status, 400)
      assert.match(missing.body.error, /x-customer-id/)
      const badZone = yield* getJson(`${url}/usage?timezone=Mars/Olympus`)
      assert.strictEqual(badZone.status, 400)
      assert.match(badZone.body.error, /time zone/)
      const stats = yield* Effect.flatMap(Outbox.Outbox, (o) => o.stats).pipe(Effect.provide(service))
      assert.strictEqual(stats.offered, 0)
    }))
})
