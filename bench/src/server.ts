/**
 * `@polar-events/server` under load on loopback: autocannon with 50
 * connections, each cycling three ingest requests of 100 events and one list
 * request (the newest 10 events of a customer), against the server over
 * SQLite (group commit in the store, on a write thread), and the same load against a raw
 * node:http server that parses the JSON body and answers a constant; then
 * the same with ingest requests only. Each server runs in its own child
 * process, so the load generator does not share its event loop.
 *
 * Ingested events/s is counted from the server's own total after the run
 * (`total_count` of a list), not from responses.
 *
 * Two diagnostic rows rerun the ingest-only load on files whose indexes were
 * dropped before the server opened them: without the dedup index, and
 * without any of the six indexes each event enters. They are not modes of
 * the product (without the dedup index nothing is deduplicated); they show
 * what the write path's indexes cost on the machine at hand, beside the
 * server as shipped.
 */
import { fork } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as Http from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Row } from "./Bench.js"

const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
const TOKEN = "polar_oat_bench_token_0123456789"
const CONNECTIONS = 50
const BATCH = 100
const DURATION_S = Number(process.env.POLAR_EVENTS_BENCH_SERVER_SECONDS ?? 15)
const WARMUP_S = 2
const CHILD_FLAG = "POLAR_EVENTS_BENCH_SERVER_CHILD"

interface AutocannonResult {
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number }
  readonly requests: { readonly total: number; readonly average: number }
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
  readonly duration: number
  readonly "2xx": number
}
interface AutocannonRequest {
  readonly method: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly setupRequest?: (req: AutocannonRequest) => AutocannonRequest
}
type Autocannon = (options: {
  readonly url: string
  readonly connections: number
  readonly duration: number
  readonly requests: ReadonlyArray<AutocannonRequest>
  readonly headers?: Record<string, string>
}) => Promise<AutocannonResult>

// autocannon ships no types; it is a dependency of bench (and a dev dependency of packages/server)
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon

// ---------------------------------------------------------------------------
// the servers, each in a child process
// ---------------------------------------------------------------------------

/** The polar-events server over a fresh SQLite file. */
const runEventsServer = async (filename: string): Promise<number> => {
  const { AccessToken, EventsServer } = await import("@polar-events/server")
  const { SqlEventStore } = await import("@polar-events/store/sql")
  const { Context, Effect, Layer } = await import("effect")
  const HttpServer = await import("@effect/platform/HttpServer")
  const layer = EventsServer.layerServe({ tokens: [AccessToken.make(TOKEN, ORG)], port: 0 }).pipe(
    Layer.provideMerge(SqlEventStore.layerSqlite({ filename, writeThread: true }))
  )
  return new Promise((resolve, reject) => {
    Effect.runFork(
      Effect.scoped(
        Effect.gen(function*() {
          const context = yield* Layer.build(layer)
          const address = Context.get(context, HttpServer.HttpServer).address
          resolve(address._tag === "TcpAddress" ? address.port : -1)
          return yield* Effect.never
        })
      ).pipe(Effect.tapErrorCause((cause) => Effect.sync(() => reject(new Error(String(cause))))))
    )
  })
}

/** The floor: node:http, read the body, JSON.parse it, answer a constant. */
const runRawServer = (): Promise<number> =>
  new Promise((resolve) => {
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        let body: string
        if (req.method === "POST") {
          const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events: ReadonlyArray<unknown> }
          body = JSON.stringify({ inserted: parsed.events.length, duplicates: 0 })
        } else {
          body = '{"items":[],"pagination":{"total_count":0,"max_page":0}}'
        }
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
        res.end(body)
      })
    })
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))
  })

if (process.env[CHILD_FLAG] !== undefined && process.send !== undefined) {
  const kind = process.env[CHILD_FLAG]
  const started = kind === "raw" ? runRawServer() : runEventsServer(process.env.POLAR_EVENTS_BENCH_DB!)
  started.then(
    (port) => process.send!({ port }),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

interface Child {
  readonly url: string
  readonly stop: () => Promise<void>
}

const startChild = (kind: "raw" | "events", db?: string): Promise<Child> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [CHILD_FLAG]: kind, ...(db === undefined ? {} : { POLAR_EVENTS_BENCH_DB: db }) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)))
    child.once("message", (m: { port: number }) =>
      resolve({
        url: `http://127.0.0.1:${m.port}`,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners("exit")
            child.once("exit", () => done())
            child.kill("SIGTERM")
          })
      })
    )
  })

// ---------------------------------------------------------------------------
// the load
// ---------------------------------------------------------------------------

/** An ingest body of BATCH events whose external ids carry `@@`, replaced per request. */
const template = (): string => {
  const base = Date.now() - 3_600_000
  const events = Array.from({ length: BATCH }, (_, i) => ({
    name: i % 4 === 0 ? "llm.generation" : "api.call",
    external_customer_id: `customer_${i % 50}`,
    external_id: `evt_@@_${i}`,
    timestamp: new Date(base + i).toISOString(),
    metadata: { route: "/v1/things", tokens: i * 7, cached: i % 2 === 0, model: "gpt-4.1-nano" }
  }))
  return JSON.stringify({ events })
}

type Mix = "mixed" | "ingest"

/** Numbers the ingest requests of the whole run: every request's external ids are new. */
let counter = 0

const load = async (url: string, seconds: number, mix: Mix): Promise<AutocannonResult> => {
  const body = template()
  const ingest: AutocannonRequest = {
    method: "POST",
    path: "/v1/events/ingest",
    headers: { "content-type": "application/json" },
    setupRequest: (req) => ({ ...req, body: body.replaceAll("@@", `${process.pid}_${counter++}`) })
  }
  // a dashboard read: the newest 10 events of one customer (with its total_count)
  const list: AutocannonRequest = { method: "GET", path: "/v1/events/?limit=10&external_customer_id=customer_7" }
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${TOKEN}` },
    requests: mix === "mixed" ? [ingest, ingest, ingest, list] : [ingest]
  })
}

const totalEvents = async (url: string): Promise<number> => {
  const res = await fetch(`${url}/v1/events/?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } })
  const page = (await res.json()) as { pagination: { total_count: number } }
  return page.pagination.total_count
}

interface Measured {
  readonly eventsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly requests: number
}

/**
 * A warm-up, then the measured run. Ingested events are the server's own
 * count (`total`) after minus before; without one (the raw server stores
 * nothing), the events of the ingest requests answered 2xx.
 */
const measure = async (url: string, mix: Mix, total?: () => Promise<number>): Promise<Measured> => {
  await load(url, WARMUP_S, mix)
  const before = total === undefined ? 0 : await total()
  const t0 = process.hrtime.bigint()
  const result = await load(url, DURATION_S, mix)
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const share = mix === "mixed" ? 3 / 4 : 1
  const ingested = total === undefined ? Math.round(result["2xx"] * share) * BATCH : (await total()) - before
  return {
    eventsPerSecond: ingested / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total
  }
}

/** A store file with its schema migrated and then `indexes` dropped. */
const fileWithout = async (filename: string, indexes: ReadonlyArray<string>): Promise<string> => {
  const { EventStore } = await import("@polar-events/store")
  const { SqlEventStore } = await import("@polar-events/store/sql")
  const { ManagedRuntime } = await import("effect")
  const { default: Database } = await import("better-sqlite3")
  const rt = ManagedRuntime.make(SqlEventStore.layerSqlite({ filename }))
  try {
    await rt.runPromise(EventStore.EventStore)
  } finally {
    await rt.dispose()
  }
  const db = new Database(filename)
  for (const index of indexes) db.exec(`DROP INDEX ${index}`)
  db.close()
  return filename
}

/**
 * The indexes every event of the load enters. The two partial parent indexes
 * stay: no event of the load enters them, and the writer's check for events
 * waiting on a parent would scan the table without them.
 */
const EVENT_INDEXES = [
  "pe_events_id",
  "pe_events_dedup",
  "pe_events_org_ts",
  "pe_events_org_name_ts",
  "pe_events_customer",
  "pe_events_external_customer"
]

export const run = async (): Promise<ReadonlyArray<Row>> => {
  const dir = mkdtempSync(join(tmpdir(), "polar-events-bench-server-"))
  try {
    const raw = await startChild("raw")
    const baseline = await measure(raw.url, "mixed").finally(raw.stop)
    const events = await startChild("events", join(dir, "events.db"))
    const ours = await measure(events.url, "mixed", () => totalEvents(events.url)).finally(events.stop)
    const rawIngest = await startChild("raw")
    const baselineIngest = await measure(rawIngest.url, "ingest").finally(rawIngest.stop)
    const eventsIngest = await startChild("events", join(dir, "ingest-only.db"))
    const oursIngest = await measure(eventsIngest.url, "ingest", () => totalEvents(eventsIngest.url)).finally(
      eventsIngest.stop
    )
    const ingestOn = async (file: string) => {
      const server = await startChild("events", file)
      return measure(server.url, "ingest", () => totalEvents(server.url)).finally(server.stop)
    }
    const noDedup = await ingestOn(await fileWithout(join(dir, "no-dedup.db"), ["pe_events_dedup"]))
    const bare = await ingestOn(await fileWithout(join(dir, "bare.db"), EVENT_INDEXES))
    const note = (m: Measured) =>
      `${m.requests.toLocaleString("en-US")} reqs in ${DURATION_S}s, errors ${m.errors}, p50 ${m.p50} ms, p99 ${m.p99} ms`
    return [
      {
        what: `server: ingest events/s (SQLite, ${CONNECTIONS} conns, 3x ingest of ${BATCH} + 1 list)`,
        ours: ours.eventsPerSecond,
        baseline: baseline.eventsPerSecond,
        unit: "events/s",
        better: "higher",
        baselineName: "node:http + JSON.parse, constant answer",
        target: ">= 50,000 events/s, 0 errors",
        note: `ours: ${note(ours)}; baseline: ${note(baseline)}`
      },
      {
        what: "server: latency p50 (same load)",
        ours: ours.p50,
        baseline: baseline.p50,
        unit: "ms",
        better: "lower",
        baselineName: "node:http + JSON.parse, constant answer"
      },
      {
        what: "server: latency p99 (same load)",
        ours: ours.p99,
        baseline: baseline.p99,
        unit: "ms",
        better: "lower",
        baselineName: "node:http + JSON.parse, constant answer"
      },
      {
        what: `server: ingest-only events/s (SQLite, ${CONNECTIONS} conns, batches of ${BATCH}, no lists)`,
        ours: oursIngest.eventsPerSecond,
        baseline: baselineIngest.eventsPerSecond,
        unit: "events/s",
        better: "higher",
        baselineName: "node:http + JSON.parse, constant answer",
        note: `ours: ${note(oursIngest)}; baseline: ${note(baselineIngest)}`
      },
      {
        what: "server diagnostic: ingest-only on a file without the dedup index",
        ours: noDedup.eventsPerSecond,
        baseline: oursIngest.eventsPerSecond,
        unit: "events/s",
        better: "higher",
        baselineName: "the ingest-only row above",
        note: `not a mode of the product: what dedup costs; ${note(noDedup)}`
      },
      {
        what: "server diagnostic: ingest-only on a file without the six indexes each event enters",
        ours: bare.eventsPerSecond,
        baseline: oursIngest.eventsPerSecond,
        unit: "events/s",
        better: "higher",
        baselineName: "the ingest-only row above",
        note: `not a mode of the product: the bare table, the ceiling of SQLite writes here; ${note(bare)}`
      },
      {
        what: "server: errors (errors + timeouts + non-2xx)",
        ours: ours.errors + oursIngest.errors,
        baseline: baseline.errors + baselineIngest.errors,
        unit: "count",
        better: "lower",
        baselineName: "node:http + JSON.parse, constant answer",
        target: "0"
      }
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
