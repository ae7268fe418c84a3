/**
 * `pnpm bench store`: the EventStore on SQLite and PostgreSQL over 1,000,000
 * events from 10,000 customers, each figure beside a raw baseline measured in
 * the same run on the same schema:
 * - SQLite: a better-sqlite3 prepared INSERT loop writing the same rows in
 *   the same transaction sizes; hand-written SELECTs for reads;
 * - PostgreSQL: `COPY` of the same rows straight into the events table.
 *
 * Ours and the baseline run interleaved, slice by slice, into two databases
 * that grow at the same pace, so a busy machine slows both alike.
 * `POLAR_EVENTS_BENCH_EVENTS` changes the event count.
 */
import { Timestamp } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { SqlEventStore } from "@polar-events/store/sql"
import Database from "better-sqlite3"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import Pg from "pg"
// @ts-ignore: the bench has no @types/pg-copy-streams
import { from as copyFrom } from "pg-copy-streams"
// the store's own external id hash, so the raw rows are the same rows
import { hash53 } from "../../packages/store/src/internal/ids.js"
import { createDatabase, startPostgres } from "../../packages/store/test/utils/postgres.js"
import { random, uuid4 } from "@polar-events/test-support"
import { median, rawSqliteExportLoop, type Row } from "./Bench.js"

const N = Number(process.env.POLAR_EVENTS_BENCH_EVENTS ?? 1_000_000)
const CUSTOMERS = 10_000
const SLICES = 10
const ORG = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
const NAMES = ["api.call", "api.call", "api.call", "llm.tokens", "llm.tokens", "storage.bytes", "job.run", "email.sent", "search.query", "export.run"]
const DAY_US = 86_400_000_000
const END_US = Math.floor(Date.now() / 1000) * 1_000_000 - 60_000_000
const START_US = END_US - 30 * DAY_US

// ---------------------------------------------------------------------------
// data: deterministic per index, generated slice by slice (1M objects at once
// would be the benchmark's own memory problem)
// ---------------------------------------------------------------------------

const mulberry = random

interface Source {
  readonly customer: number
  readonly name: string
  readonly externalId: string
  readonly ts: number
  readonly metadata: Record<string, string | number | boolean>
}

const source = (i: number): Source => {
  const rand = mulberry(i * 2654435761)
  const customer = Math.floor(rand() * CUSTOMERS)
  return {
    customer,
    name: NAMES[Math.floor(rand() * NAMES.length)]!,
    externalId: uuid4(rand),
    ts: START_US + Math.floor((i / N) * 30 * DAY_US) + Math.floor(rand() * 1_000_000),
    metadata: {
      tokens: Math.floor(rand() * 4000),
      model: rand() < 0.5 ? "gpt-4o" : "claude-sonnet",
      region: rand() < 0.5 ? "eu-west-1" : "us-east-1",
      cached: rand() < 0.3,
      latency_ms: Math.round(rand() * 100000) / 100
    }
  }
}

const customerId = (k: number) => `customer_${k}`

const createOf = (s: Source) => ({
  name: s.name,
  externalCustomerId: customerId(s.customer),
  externalId: s.externalId,
  timestamp: Timestamp.fromEpochMicros(s.ts),
  metadata: s.metadata
})

const eventOf = (i: number, s: Source) => ({
  id: uuid4(mulberry(i * 40503 + 7)),
  timestamp: Timestamp.fromEpochMicros(s.ts),
  organizationId: ORG,
  customerId: null,
  customer: null,
  externalCustomerId: customerId(s.customer),
  label: s.name,
  name: s.name,
  source: "user" as const,
  metadata: s.metadata
})

const slice = <A>(k: number, f: (i: number) => A): Array<A> => {
  const from = Math.floor((k * N) / SLICES)
  const to = Math.floor(((k + 1) * N) / SLICES)
  const out: Array<A> = []
  for (let i = from; i < to; i++) out.push(f(i))
  return out
}

// ---------------------------------------------------------------------------
// raw baselines: the same rows into the same schema
// ---------------------------------------------------------------------------

let pool = Buffer.alloc(0)
let poolPos = 0
/** A UUID v7 with pooled randomness, as the store makes them. */
const v7Bytes = (ms: number): Buffer => {
  if (poolPos + 16 > pool.length) {
    pool = Buffer.allocUnsafe(16 * 512)
    globalThis.crypto.getRandomValues(pool)
    poolPos = 0
  }
  const b = pool.subarray(poolPos, poolPos + 16)
  poolPos += 16
  b.writeUIntBE(ms, 0, 6)
  b[6] = (b[6]! & 0x0f) | 0x70
  b[8] = (b[8]! & 0x3f) | 0x80
  return b
}

const COLUMNS = "org,id,ts,name,source,ckey,xkey,customer_id,external_customer_id,member_id,external_member_id," +
  "external_id,ext_hash,parent_id,parent_ref,depth,child_count,flags,label,customer,metadata,ingested_at"

/** The raw row of an ingested event, as the store writes it. */
const rawRow = (s: Source, xkey: number, nowMs: number, id: Buffer | string) => [
  1, id, s.ts, s.name, "user", null, xkey, null, customerId(s.customer), null, null, s.externalId,
  hash53(s.externalId), null, null, 0, null, 4, null, null, JSON.stringify(s.metadata), nowMs * 1000
]

const SQLITE_PRAGMAS = [
  "PRAGMA synchronous = NORMAL",
  "PRAGMA cache_size = -262144",
  "PRAGMA wal_autocheckpoint = 10000",
  "PRAGMA journal_size_limit = 67108864",
  "PRAGMA temp_store = MEMORY"
]

/** A raw SQLite file with the store's schema, its organization and customers interned. */
const rawSqlite = async (file: string) => {
  await runStore(SqlEventStore.layerSqlite({ filename: file }), () => Effect.void)
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  for (const p of SQLITE_PRAGMAS) db.exec(p)
  db.prepare("INSERT INTO pe_organizations (key, id) VALUES (1, ?)").run(ORG)
  const ins = db.prepare("INSERT INTO pe_customers (key, org, kind, value) VALUES (?, 1, 1, ?)")
  db.transaction(() => {
    for (let k = 0; k < CUSTOMERS; k++) ins.run(k + 1, customerId(k))
  })()
  return db
}

const rawSqliteWrite = (db: Database.Database, sources: ReadonlyArray<Source>, txSize: number, ids: "v7" | ReadonlyArray<string>) => {
  const insert = db.prepare(`INSERT INTO pe_events (${COLUMNS}) VALUES (${COLUMNS.split(",").map(() => "?").join(",")}) ON CONFLICT DO NOTHING`)
  const begin = db.prepare("BEGIN IMMEDIATE")
  const commit = db.prepare("COMMIT")
  for (let b = 0; b < sources.length; b += txSize) {
    const now = Date.now()
    begin.run()
    for (let i = b; i < Math.min(b + txSize, sources.length); i++) {
      const s = sources[i]!
      const id = ids === "v7" ? v7Bytes(now) : Buffer.from(ids[i]!.replace(/-/g, ""), "hex")
      insert.run(rawRow(s, s.customer + 1, now, id))
    }
    commit.run()
  }
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const runStore = async <A>(
  layer: Layer.Layer<EventStore.EventStore, unknown>,
  f: (store: EventStore.Service, rt: ManagedRuntime.ManagedRuntime<EventStore.EventStore, unknown>) => Effect.Effect<A, unknown> | Promise<A>
): Promise<A> => {
  const rt = ManagedRuntime.make(layer)
  try {
    const store = await rt.runPromise(EventStore.EventStore)
    const r = f(store, rt)
    return Effect.isEffect(r) ? await rt.runPromise(r) : await r
  } finally {
    await rt.dispose()
  }
}

const now = () => Number(process.hrtime.bigint()) / 1e9

/** CPU seconds (user + system) of this process so far: SQLite runs in it, so this is all the work. */
const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

const p50 = async (runs: number, f: (i: number) => Promise<unknown>) => {
  for (let i = 0; i < 5; i++) await f(i)
  const xs: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const t = now()
    await f(i)
    xs.push((now() - t) * 1000)
  }
  return median(xs)
}

const log = (s: string) => process.stderr.write(`  store: ${s}\n`)
const tmpFile = (name: string) => Path.join(Os.tmpdir(), `polar-events-bench-${process.pid}-${name}`)
const rmDb = (file: string) => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) Fs.rmSync(f, { force: true })
}

const rate = (n: number, seconds: number) => n / seconds

// ---------------------------------------------------------------------------
// export in a child process (peak RSS of the child alone). The child is plain
// JavaScript written next to this file for the run, so no TypeScript loader
// inflates its memory.
// ---------------------------------------------------------------------------

const CHILD = `
import * as Fs from "node:fs"

const [mode, target, org] = process.argv.slice(2)
const sink = Fs.createWriteStream("/dev/null")
const write = (data) => sink.write(data) ? Promise.resolve() : new Promise((r) => sink.once("drain", r))
const t0 = performance.now()
let count = 0
if (mode === "ours-sqlite" || mode === "ours-pg") {
  // what an export does: every event, as Polar's wire JSON, one line each
  const { EventStore } = await import("@polar-events/store")
  const { SqlEventStore } = await import("@polar-events/store/sql")
  const { Event } = await import("@polar-events/core")
  const { Effect, ManagedRuntime, Schema, Stream } = await import("effect")
  const encode = Schema.encodeSync(Event.Event)
  const layer = mode === "ours-sqlite" ? SqlEventStore.layerSqlite({ filename: target }) : SqlEventStore.layerPg({ url: target })
  const rt = ManagedRuntime.make(layer)
  const store = await rt.runPromise(EventStore.EventStore)
  await rt.runPromise(store.stream(org, { sorting: ["timestamp"] }).pipe(
    Stream.runForEachChunk((chunk) => Effect.promise(() => {
      let lines = ""
      for (const e of chunk) {
        count++
        lines += JSON.stringify(encode(e)) + "\\n"
      }
      return write(lines)
    }))
  ))
  await rt.dispose()
} else if (mode === "raw-sqlite") {
  const { default: Database } = await import("better-sqlite3")
  const db = new Database(target, { readonly: true })
  ${rawSqliteExportLoop("db")}
  db.close()
} else {
  const { default: Pg } = await import("pg")
  const { default: copyStreams } = await import("pg-copy-streams")
  const client = new Pg.Client({ connectionString: target })
  await client.connect()
  const stream = client.query(copyStreams.to("COPY (SELECT * FROM pe_events ORDER BY org, ts, id) TO STDOUT"))
  for await (const chunk of stream) {
    for (const b of chunk) if (b === 10) count++
    await write(chunk)
  }
  await client.end()
}
await new Promise((r) => sink.end(r))
const seconds = (performance.now() - t0) / 1000
// the peak RSS of this process image (VmHWM): getrusage's maxrss would also count the parent's memory at fork
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(Fs.readFileSync("/proc/self/status", "utf8"))[1])
process.stdout.write(JSON.stringify({ count, rssMB: hwm / 1024, seconds }) + "\\n")
process.exit(0)
`

interface Exported {
  readonly count: number
  readonly rssMB: number
  readonly seconds: number
}

/** V8's heap cap for the export children: the live heap stays near 30 MB, garbage is collected sooner. */
const HEAP_CAP = "--max-old-space-size=128"

const childExport = (args: ReadonlyArray<string>, flags: ReadonlyArray<string> = []): Promise<Exported> =>
  new Promise((resolve, reject) => {
    const file = Path.join(Path.dirname(fileURLToPath(import.meta.url)), `.store-export-child-${process.pid}.mjs`)
    Fs.writeFileSync(file, CHILD)
    const child = spawn(process.execPath, [...flags, file, ...args, ORG], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.on("error", reject)
    child.on("exit", (code) => {
      Fs.rmSync(file, { force: true })
      if (code !== 0) return reject(new Error(`export child exited with ${code}`))
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!))
      } catch (e) {
        reject(e)
      }
    })
  })

const perSecond = (e: Exported) => Math.round(e.count / e.seconds).toLocaleString("en-US")

/** Export rows: with a 128 MB heap cap, and with Node's default heap. */
const exportRows = async (dialect: "sqlite" | "pg", ours: string, raw: string, baselineName: string): Promise<Array<Row>> => {
  const label = dialect === "pg" ? "postgres" : "sqlite"
  const capped = await childExport([`ours-${dialect}`, ours], [HEAP_CAP])
  const rawCapped = await childExport([`raw-${dialect}`, raw], [HEAP_CAP])
  const plain = await childExport([`ours-${dialect}`, ours])
  const rawPlain = await childExport([`raw-${dialect}`, raw])
  return [
    {
      what: `${label}: export all ${capped.count.toLocaleString("en-US")} events as NDJSON, peak RSS (${HEAP_CAP})`,
      ours: capped.rssMB,
      baseline: rawCapped.rssMB,
      unit: "MB",
      better: "lower",
      baselineName,
      target: "< 200 MB",
      note: `ours ${perSecond(capped)} events/s as wire JSON through the Event schema, raw ${perSecond(rawCapped)}/s`
    },
    {
      what: `${label}: the same export with Node's default heap settings`,
      ours: plain.rssMB,
      baseline: rawPlain.rssMB,
      unit: "MB",
      better: "lower",
      baselineName,
      note: `ours ${perSecond(plain)} events/s; V8 lets garbage grow before collecting, the live heap stays ~30 MB`
    }
  ]
}

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

const sqlite = async (): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const ours = tmpFile("ours.db")
  const raw = tmpFile("raw.db")
  const oursBulk = tmpFile("ours-bulk.db")
  const rawBulk = tmpFile("raw-bulk.db")
  try {
    // ingest, batches of 1,000 from one producer
    const rawDb = await rawSqlite(raw)
    let rawSeconds = 0
    let oursSeconds = 0
    let rawCpu = 0
    let oursCpu = 0
    let early: [number, number] = [NaN, NaN]
    await runStore(SqlEventStore.layerSqlite({ filename: ours }), async (store, rt) => {
      for (let k = 0; k < SLICES; k++) {
        const sources = slice(k, source)
        let t = now()
        let c = cpu()
        rawSqliteWrite(rawDb, sources, 1000, "v7")
        rawSeconds += now() - t
        rawCpu += cpu() - c
        const creates = sources.map(createOf)
        t = now()
        c = cpu()
        for (let b = 0; b < creates.length; b += 1000) {
          await rt.runPromise(EventStore.validateAndIngest(store, ORG, creates.slice(b, b + 1000)))
        }
        oursSeconds += now() - t
        oursCpu += cpu() - c
        if (k === 1) early = [rate(Math.floor((2 * N) / SLICES), oursSeconds), rate(Math.floor((2 * N) / SLICES), rawSeconds)]
        log(`sqlite ingest ${Math.round(((k + 1) * 100) / SLICES)}%: ours ${Math.round(rate(Math.floor(((k + 1) * N) / SLICES), oursSeconds))}/s raw ${Math.round(rate(Math.floor(((k + 1) * N) / SLICES), rawSeconds))}/s`)
      }
    })
    rawDb.close()
    rows.push({
      what: `sqlite: ingest ${N.toLocaleString("en-US")} events, batches of 1,000, one producer`,
      ours: rate(N, oursSeconds),
      baseline: rate(N, rawSeconds),
      unit: "events/s",
      better: "higher",
      baselineName: "better-sqlite3 INSERT loop, same schema, 1,000/tx",
      target: ">= 30,000/s and >= 0.8x",
      note: `validation, dedup, names summary included; first ${(Math.floor((2 * N) / SLICES)).toLocaleString("en-US")} events: ours ${
        Math.round(early[0]).toLocaleString("en-US")
      }/s, raw ${Math.round(early[1]).toLocaleString("en-US")}/s; per CPU-second of this process: ours ${
        Math.round(rate(N, oursCpu)).toLocaleString("en-US")
      }, raw ${Math.round(rate(N, rawCpu)).toLocaleString("en-US")}`
    })

    // group commit: many small concurrent ingests
    {
      const small = tmpFile("gc.db")
      const smallRaw = tmpFile("gc-raw.db")
      try {
      const n = Math.min(200_000, N)
      const sources = Array.from({ length: n }, (_, i) => ({ ...source(N + i), ts: source(i).ts }))
      const rdb = await rawSqlite(smallRaw)
      let t = now()
      rawSqliteWrite(rdb, sources, 100, "v7")
      const rawS = now() - t
      rdb.close()
      const creates = sources.map(createOf)
      const batches: Array<Array<ReturnType<typeof createOf>>> = []
      for (let b = 0; b < creates.length; b += 100) batches.push(creates.slice(b, b + 100))
      const oursS = await runStore(SqlEventStore.layerSqlite({ filename: small }), (store) =>
        Effect.gen(function*() {
          const t0 = now()
          yield* Effect.forEach(batches, (batch) => EventStore.validateAndIngest(store, ORG, batch), { concurrency: 32, discard: true })
          return now() - t0
        }))
      rows.push({
        what: `sqlite: ingest ${n.toLocaleString("en-US")} events, batches of 100, 32 concurrent callers`,
        ours: rate(n, oursS),
        baseline: rate(n, rawS),
        unit: "events/s",
        better: "higher",
        baselineName: "better-sqlite3 INSERT loop, 100/tx",
        note: "group commit coalesces the callers into large transactions"
      })
      } finally {
        rmDb(small)
        rmDb(smallRaw)
      }
    }

    // bulk path: events as they are (v4 ids), 50,000 per call
    {
      const BULK = 50_000
      const rdb = await rawSqlite(rawBulk)
      let rawS = 0
      let oursS = 0
      let rawC = 0
      let oursC = 0
      let earlyBulk: [number, number] = [NaN, NaN]
      await runStore(SqlEventStore.layerSqlite({ filename: oursBulk }), async (store, rt) => {
        for (let k = 0; k < SLICES; k++) {
          const sources = slice(k, source)
          const from = Math.floor((k * N) / SLICES)
          const events = sources.map((s, j) => eventOf(from + j, s))
          const ids = events.map((e) => e.id)
          let t = now()
          let c = cpu()
          rawSqliteWrite(rdb, sources, BULK, ids)
          rawS += now() - t
          rawC += cpu() - c
          t = now()
          c = cpu()
          for (let b = 0; b < events.length; b += BULK) await rt.runPromise(store.insert(events.slice(b, b + BULK) as any))
          oursS += now() - t
          oursC += cpu() - c
          if (k === 1) earlyBulk = [rate(Math.floor((2 * N) / SLICES), oursS), rate(Math.floor((2 * N) / SLICES), rawS)]
        }
      })
      rdb.close()
      rows.push({
        what: `sqlite: bulk insert ${N.toLocaleString("en-US")} events (import/pull), 50,000 per call`,
        ours: rate(N, oursS),
        baseline: rate(N, rawS),
        unit: "events/s",
        better: "higher",
        baselineName: "better-sqlite3 INSERT loop, 50,000/tx",
        target: ">= 100,000/s",
        note: `random v4 ids as from Polar; first ${(Math.floor((2 * N) / SLICES)).toLocaleString("en-US")}: ours ${
          Math.round(earlyBulk[0]).toLocaleString("en-US")
        }/s, raw ${Math.round(earlyBulk[1]).toLocaleString("en-US")}/s; per CPU-second: ours ${
          Math.round(rate(N, oursC)).toLocaleString("en-US")
        }, raw ${Math.round(rate(N, rawC)).toLocaleString("en-US")}`
      })
      rmDb(oursBulk)
      rmDb(rawBulk)
    }

    // reads on the ingested database
    const rdb = new Database(raw, { readonly: true })
    const listRaw = rdb.prepare(
      "SELECT id, ts, name, source, customer_id, external_customer_id, metadata FROM pe_events " +
        "WHERE xkey = ? ORDER BY ts DESC, id DESC LIMIT 100"
    )
    const countRaw = rdb.prepare("SELECT COUNT(*) AS n FROM pe_events WHERE xkey = ?")
    const qRaw = rdb.prepare(
      "SELECT (ts - ?) / 86400000000 AS d, SUM(json_extract(metadata, '$.tokens')) AS v FROM pe_events " +
        "WHERE xkey = ? AND ts >= ? AND ts < ? GROUP BY d"
    )
    const namesRaw = rdb.prepare(
      "SELECT name, source, COUNT(*) AS n, MIN(ts) AS f, MAX(ts) AS l FROM pe_events WHERE org = 1 GROUP BY name, source"
    )
    const pick = (i: number) => Math.floor(mulberry(i + 99)() * CUSTOMERS)
    await runStore(SqlEventStore.layerSqlite({ filename: ours }), async (store, rt) => {
      const listOurs = await p50(200, (i) => rt.runPromise(store.list(ORG, { externalCustomerId: [customerId(pick(i))], limit: 100 })))
      const listBase = await p50(200, async (i) => {
        const r = listRaw.all(pick(i) + 1) as Array<any>
        for (const x of r) JSON.parse(x.metadata)
        countRaw.get(pick(i) + 1)
      })
      rows.push({
        what: "sqlite: list 100 newest events of a customer (with total_count)",
        ours: listOurs,
        baseline: listBase,
        unit: "ms p50",
        better: "lower",
        baselineName: "prepared SELECT + COUNT on the customer index",
        target: "<= 2 ms"
      })
      const start = new Date((END_US - 30 * DAY_US) / 1000)
      const end = new Date(END_US / 1000)
      const qOurs = await p50(100, (i) =>
        rt.runPromise(store.quantities(ORG, {
          aggregation: { func: "sum", property: "tokens" },
          start,
          end,
          interval: "day",
          timezone: "UTC",
          externalCustomerId: [customerId(pick(i))]
        })))
      const qBase = await p50(100, async (i) => {
        qRaw.all(END_US - 30 * DAY_US, pick(i) + 1, END_US - 30 * DAY_US, END_US + DAY_US)
      })
      rows.push({
        what: "sqlite: quantities of a customer, 30 days by day (sum)",
        ours: qOurs,
        baseline: qBase,
        unit: "ms p50",
        better: "lower",
        baselineName: "prepared GROUP BY day on the customer index"
      })
      const namesOurs = await p50(100, () => rt.runPromise(store.names(ORG, { limit: 100 })))
      const namesBase = await p50(10, async () => namesRaw.all())
      rows.push({
        what: `sqlite: event names of the organization (${N.toLocaleString("en-US")} events)`,
        ours: namesOurs,
        baseline: namesBase,
        unit: "ms p50",
        better: "lower",
        baselineName: "GROUP BY name over the events table",
        target: "<= 5 ms",
        note: "summary table kept at ingest"
      })
    })
    rdb.close()

    rows.push(...(await exportRows("sqlite", ours, raw, "better-sqlite3 iterate() in a child")))
  } finally {
    for (const f of [ours, raw, oursBulk, rawBulk]) rmDb(f)
  }
  return rows
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const pgText = (v: unknown): string => {
  if (v === null || v === undefined) return "\\N"
  const s = typeof v === "string" ? v : String(v)
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r")) : s
}

const v7Text = (ms: number) => {
  const b = v7Bytes(ms).toString("hex")
  return `${b.slice(0, 8)}-${b.slice(8, 12)}-${b.slice(12, 16)}-${b.slice(16, 20)}-${b.slice(20)}`
}

const rawCopy = async (client: Pg.Client, sources: ReadonlyArray<Source>, txSize: number, ids: "v7" | ReadonlyArray<string>) => {
  for (let b = 0; b < sources.length; b += txSize) {
    const now = Date.now()
    await client.query("BEGIN")
    const stream = client.query(copyFrom(`COPY pe_events (${COLUMNS}) FROM STDIN`))
    const done = new Promise<void>((resolve, reject) => {
      stream.on("finish", resolve)
      stream.on("error", reject)
    })
    let buf = ""
    for (let i = b; i < Math.min(b + txSize, sources.length); i++) {
      const s = sources[i]!
      const row = rawRow(s, s.customer + 1, now, ids === "v7" ? v7Text(now) : ids[i]!)
      buf += row.map(pgText).join("\t") + "\n"
    }
    stream.end(buf)
    await done
    await client.query("COMMIT")
  }
}

const rawPg = async (url: string) => {
  await runStore(SqlEventStore.layerPg({ url }), () => Effect.void)
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  await client.query("INSERT INTO pe_organizations (key, id) VALUES (1, $1)", [ORG])
  await client.query(
    "INSERT INTO pe_customers (key, org, kind, value) SELECT k + 1, 1, 1, 'customer_' || k FROM generate_series(0, $1 - 1) k",
    [CUSTOMERS]
  )
  return client
}

const postgres = async (): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const server = await startPostgres({ durable: true })
  log(`postgres: ${server.kind}`)
  const dbs: Array<{ drop: () => Promise<void> }> = []
  try {
    const ours = await createDatabase(server.url, "bench_ours")
    const raw = await createDatabase(server.url, "bench_raw")
    dbs.push(ours, raw)
    const rawClient = await rawPg(raw.url)
    let rawS = 0
    let oursS = 0
    await runStore(SqlEventStore.layerPg({ url: ours.url }), async (store, rt) => {
      for (let k = 0; k < SLICES; k++) {
        const sources = slice(k, source)
        let t = now()
        await rawCopy(rawClient, sources, 1000, "v7")
        rawS += now() - t
        const creates = sources.map(createOf)
        t = now()
        for (let b = 0; b < creates.length; b += 1000) await rt.runPromise(EventStore.validateAndIngest(store, ORG, creates.slice(b, b + 1000)))
        oursS += now() - t
        log(`pg ingest ${Math.round(((k + 1) * 100) / SLICES)}%: ours ${Math.round(rate(Math.floor(((k + 1) * N) / SLICES), oursS))}/s raw ${Math.round(rate(Math.floor(((k + 1) * N) / SLICES), rawS))}/s`)
      }
    })
    rows.push({
      what: `postgres: ingest ${N.toLocaleString("en-US")} events, batches of 1,000, one producer`,
      ours: rate(N, oursS),
      baseline: rate(N, rawS),
      unit: "events/s",
      better: "higher",
      baselineName: "COPY into the events table, 1,000/tx",
      target: ">= 0.8x",
      note: "COPY straight into the events table after in-batch dedup (savepoint + ON CONFLICT path on a duplicate); names by trigger"
    })

    {
      const BULK = 50_000
      const oursBulk = await createDatabase(server.url, "bench_ours_bulk")
      const rawBulk = await createDatabase(server.url, "bench_raw_bulk")
      dbs.push(oursBulk, rawBulk)
      const rc = await rawPg(rawBulk.url)
      let rS = 0
      let oS = 0
      await runStore(SqlEventStore.layerPg({ url: oursBulk.url }), async (store, rt) => {
        for (let k = 0; k < SLICES; k++) {
          const sources = slice(k, source)
          const from = Math.floor((k * N) / SLICES)
          const events = sources.map((s, j) => eventOf(from + j, s))
          let t = now()
          await rawCopy(rc, sources, BULK, events.map((e) => e.id))
          rS += now() - t
          t = now()
          for (let b = 0; b < events.length; b += BULK) await rt.runPromise(store.insert(events.slice(b, b + BULK) as any))
          oS += now() - t
        }
      })
      await rc.end()
      rows.push({
        what: `postgres: bulk insert ${N.toLocaleString("en-US")} events (import/pull), 50,000 per call`,
        ours: rate(N, oS),
        baseline: rate(N, rS),
        unit: "events/s",
        better: "higher",
        baselineName: "COPY into the events table, 50,000/tx",
        target: ">= 0.8x"
      })
      await oursBulk.drop()
      await rawBulk.drop()
    }

    await rawClient.query("ANALYZE")
    {
      const c = new Pg.Client({ connectionString: ours.url })
      await c.connect()
      await c.query("ANALYZE")
      await c.end()
    }
    const pick = (i: number) => Math.floor(mulberry(i + 99)() * CUSTOMERS)
    await runStore(SqlEventStore.layerPg({ url: ours.url }), async (store, rt) => {
      await rt.runPromise(Effect.void)
      const listOurs = await p50(200, (i) => rt.runPromise(store.list(ORG, { externalCustomerId: [customerId(pick(i))], limit: 100 })))
      const listBase = await p50(200, async (i) => {
        await rawClient.query(
          "SELECT id, ts, name, source, customer_id, external_customer_id, metadata FROM pe_events WHERE xkey = $1 ORDER BY ts DESC, id DESC LIMIT 100",
          [pick(i) + 1]
        )
        await rawClient.query("SELECT COUNT(*) FROM pe_events WHERE xkey = $1", [pick(i) + 1])
      })
      rows.push({
        what: "postgres: list 100 newest events of a customer (with total_count)",
        ours: listOurs,
        baseline: listBase,
        unit: "ms p50",
        better: "lower",
        baselineName: "SELECT + COUNT on the customer index (pg)",
        target: "<= 2 ms"
      })
      const start = new Date((END_US - 30 * DAY_US) / 1000)
      const end = new Date(END_US / 1000)
      const qOurs = await p50(100, (i) =>
        rt.runPromise(store.quantities(ORG, {
          aggregation: { func: "sum", property: "tokens" },
          start,
          end,
          interval: "day",
          timezone: "UTC",
          externalCustomerId: [customerId(pick(i))]
        })))
      const qBase = await p50(100, (i) =>
        rawClient.query(
          "SELECT date_trunc('day', to_timestamp(ts / 1000000.0), 'UTC') AS d, SUM((metadata ->> 'tokens')::float8) FROM pe_events " +
            "WHERE xkey = $1 AND ts >= $2 AND ts < $3 GROUP BY d",
          [pick(i) + 1, END_US - 30 * DAY_US, END_US + DAY_US]
        ))
      rows.push({
        what: "postgres: quantities of a customer, 30 days by day (sum)",
        ours: qOurs,
        baseline: qBase,
        unit: "ms p50",
        better: "lower",
        baselineName: "GROUP BY date_trunc on the customer index (pg)"
      })
      const namesOurs = await p50(100, () => rt.runPromise(store.names(ORG, { limit: 100 })))
      const namesBase = await p50(5, () =>
        rawClient.query("SELECT name, source, COUNT(*), MIN(ts), MAX(ts) FROM pe_events WHERE org = 1 GROUP BY name, source"))
      rows.push({
        what: `postgres: event names of the organization (${N.toLocaleString("en-US")} events)`,
        ours: namesOurs,
        baseline: namesBase,
        unit: "ms p50",
        better: "lower",
        baselineName: "GROUP BY name over the events table (pg)",
        target: "<= 5 ms"
      })
    })
    await rawClient.end()

    rows.push(...(await exportRows("pg", ours.url, raw.url, "COPY TO STDOUT in a child")))
  } finally {
    for (const db of dbs) await db.drop().catch(() => {})
    await server.stop()
  }
  return rows
}

/** Runs the store benchmarks. */
export const run = async (): Promise<ReadonlyArray<Row>> => {
  const which = process.env.POLAR_EVENTS_BENCH_STORE ?? "sqlite,postgres"
  const rows: Array<Row> = []
  if (which.includes("sqlite")) rows.push(...(await sqlite()))
  if (which.includes("postgres")) rows.push(...(await postgres()))
  return rows
}

