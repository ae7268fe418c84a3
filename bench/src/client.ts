/**
 * `@polar-events/client`: events/s through the Ingester (offer one event at a
 * time: validation, external_id, timestamp, encoding, batching, retries
 * armed) to a local Polar-like server, beside a raw undici client that sends
 * the same events, already encoded, in the same 1,000-event batches with the
 * same number of requests in flight. Both talk to the same Polar-like server
 * in a worker thread, which parses and validates every body with core's
 * rules and stores each new event once per external_id, as Polar does.
 * Rounds alternate raw / ours; the medians are reported.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { EventsClient, Ingester } from "@polar-events/client"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { Agent, request } from "undici"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import { median, type Row } from "./Bench.js"

const EVENTS = Number(process.env.POLAR_EVENTS_BENCH_CLIENT_EVENTS ?? 200_000)
const ROUNDS = Number(process.env.POLAR_EVENTS_BENCH_CLIENT_ROUNDS ?? 5)
const BATCH = 1000
const IN_FLIGHT = 4
const TOKEN = "polar_oat_bench_client_token_0123456789"

/**
 * The Polar-like server, in a worker thread: reads the body (411 without
 * Content-Length), parses it, validates it with core's ingest rules as Polar
 * does (422 with every problem), stores each new event (its id, timestamp,
 * organization) in memory once per external_id and answers
 * `{inserted, duplicates}`. Plain JavaScript, so the worker needs no loader.
 */
const serverCode = `
const http = require("node:http")
const { parentPort, workerData } = require("node:worker_threads")
const { randomUUID } = require("node:crypto")
const { EventCreate } = require(workerData.core)
const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
const stored = new Map()
const server = http.createServer((req, res) => {
  if (req.url === "/reset") { stored.clear(); res.end("{}"); return }
  const chunks = []
  req.on("data", (c) => chunks.push(c))
  req.on("end", () => {
    if (req.headers["content-length"] === undefined) { res.writeHead(411); res.end(); return }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
    const valid = EventCreate.validate(body)
    let text
    if (valid._tag === "Left") {
      res.statusCode = 422
      text = JSON.stringify({ error: "RequestValidationError", detail: valid.left.detail })
    } else {
      let inserted = 0
      const now = new Date().toISOString()
      for (const e of body.events) {
        if (stored.has(e.external_id)) continue
        stored.set(e.external_id, {
          id: randomUUID(), timestamp: e.timestamp ?? now, ingested_at: now, organization_id: ORG,
          customer_id: e.customer_id ?? null, external_customer_id: e.customer_id ? null : e.external_customer_id,
          label: e.name, name: e.name, source: "user", parent_id: e.parent_id ?? null, metadata: e.metadata ?? {}
        })
        inserted++
      }
      text = JSON.stringify({ inserted, duplicates: body.events.length - inserted })
    }
    res.setHeader("content-type", "application/json")
    res.setHeader("content-length", Buffer.byteLength(text))
    res.end(text)
  })
})
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port))
`

const startServer = async (): Promise<{ url: string; stop: () => Promise<void> }> => {
  const core = createRequire(import.meta.url).resolve("@polar-events/core")
  const worker = new Worker(serverCode, { eval: true, workerData: { core } })
  const port = await new Promise<number>((resolve) => worker.once("message", resolve))
  return { url: `http://127.0.0.1:${port}`, stop: () => worker.terminate().then(() => undefined) }
}

/** A ~400-byte event as an app builds it (domain, camelCase), made when it happens. */
const makeEvent = (i: number, round: number) => ({
  name: i % 3 === 0 ? "llm.generation" : "api.request",
  externalCustomerId: `customer_${i % 10_000}`,
  metadata: {
    route: "/v1/chat/completions",
    method: "POST",
    status: 200,
    latency_ms: 812.5 + (i % 100),
    region: "eu-west-1",
    request_id: `req_${round}_${i}_0123456789abcdef`,
    cached: i % 2 === 0,
    _llm: {
      vendor: "openai",
      model: "gpt-4.1-nano",
      input_tokens: 58 + (i % 50),
      output_tokens: 19,
      total_tokens: 77 + (i % 50)
    },
    _cost: { amount: 0.0325, currency: "usd" }
  }
})

/** The same event as the raw client sends it: wire JSON with what our client adds (external_id, timestamp). */
const makeWire = (i: number, round: number, timestamp: string) => {
  const e = makeEvent(i, round)
  return {
    name: e.name,
    external_id: `0190f3a2-7b1c-7d4e-8f${round.toString(16).padStart(2, "0")}-${i.toString(16).padStart(12, "0")}`,
    timestamp,
    external_customer_id: e.externalCustomerId,
    metadata: e.metadata
  }
}

const reset = (url: string) => fetch(`${url}/reset`).then((r) => r.text())

/** Events are made as they are sent, by both clients, so neither holds the whole run in memory. */
const rawRound = async (url: string, round: number): Promise<number> => {
  const dispatcher = new Agent({ connections: IN_FLIGHT })
  const t0 = process.hrtime.bigint()
  let next = 0
  let inserted = 0
  const lane = async () => {
    while (next < EVENTS) {
      const from = next
      next += BATCH
      const timestamp = new Date().toISOString()
      const batch = []
      for (let i = from; i < Math.min(from + BATCH, EVENTS); i++) batch.push(makeWire(i, round, timestamp))
      const body = Buffer.from(JSON.stringify({ events: batch }))
      const res = await request(`${url}/v1/events/ingest`, {
        method: "POST",
        dispatcher,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          "content-type": "application/json",
          "content-length": String(body.length)
        },
        body
      })
      inserted += ((await res.body.json()) as { inserted: number }).inserted
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  await dispatcher.close()
  if (inserted !== EVENTS) throw new Error(`raw: ${inserted} inserted of ${EVENTS}`)
  return EVENTS / s
}

const oursRound = (url: string, round: number): Promise<number> => {
  const layer = Layer.mergeAll(
    EventsClient.layer({ accessToken: Redacted.make(TOKEN), server: url }),
    Logger.minimumLogLevel(LogLevel.Warning)
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
  const program = Effect.gen(function*() {
    const t0 = process.hrtime.bigint()
    const stats = yield* Effect.scoped(
      Effect.gen(function*() {
        const ingester = yield* Ingester.make({ maxBatchSize: BATCH, concurrency: IN_FLIGHT, maxBatchAge: "1 second" })
        for (let i = 0; i < EVENTS; i++) yield* ingester.offer(makeEvent(i, round))
        yield* ingester.flush
        return yield* ingester.stats
      })
    )
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    if (stats.sent !== EVENTS) throw new Error(`ours: ${stats.sent} sent of ${EVENTS}`)
    return EVENTS / s
  })
  return Effect.runPromise(program.pipe(Effect.provide(layer)))
}

export const run = async (): Promise<ReadonlyArray<Row>> => {
  const server = await startServer()
  try {
    const raw: Array<number> = []
    const ours: Array<number> = []
    // one warm-up round of each, not counted
    for (let round = 0; round <= ROUNDS; round++) {
      await reset(server.url)
      const r = await rawRound(server.url, round)
      await reset(server.url)
      const o = await oursRound(server.url, round)
      if (round > 0) {
        raw.push(r)
        ours.push(o)
      }
      ;(globalThis as { gc?: () => void }).gc?.()
    }
    const bytes = Buffer.byteLength(JSON.stringify(makeWire(0, 0, new Date().toISOString())))
    return [
      {
        what: `client: Ingester.offer -> Polar-like server (${EVENTS.toLocaleString("en-US")} events, batches of ${BATCH}, ${IN_FLIGHT} in flight)`,
        ours: median(ours),
        baseline: median(raw),
        unit: "events/s",
        better: "higher",
        baselineName: "raw undici POST of the same batches, pre-encoded",
        target: ">= 0.8x the raw floor",
        note: `~${bytes} B/event; median of ${ROUNDS} rounds; ours ${ours.map((x) => Math.round(x / 1000) + "k").join("/")}, raw ${raw.map((x) => Math.round(x / 1000) + "k").join("/")}`
      }
    ]
  } finally {
    await server.stop()
  }
}
