/**
 * `pnpm bench core`: reading Polar's wire events, 1,000,000 JSON texts of
 * about 400 bytes (70% user events, 30% system events), already in memory:
 * - `JSON.parse` alone, the floor;
 * - `JSON.parse` + `Schema.decodeUnknownSync(Event)` (full validation, what a
 *   user writes);
 * - `JSON.parse` + the same decode through `EventStructural`, the event built
 *   from plain Effect Schema combinators, on a sample;
 * - `JSON.parse` + the official `@polar-sh/sdk` inbound `Event` schema (zod),
 *   on a sample (it is about 300 times slower).
 *
 * Ours and `JSON.parse` run interleaved, slice by slice, so a busy machine
 * slows both alike. `POLAR_EVENTS_BENCH_EVENTS` changes the event count.
 */
import { Event } from "@polar-events/core"
import { Event$inboundSchema } from "@polar-sh/sdk/models/components/event.js"
import { Schema } from "effect"
import { type Row, time } from "./Bench.js"
import { random, uuid4 as uuid4From } from "@polar-events/test-support"

const N = Number(process.env.POLAR_EVENTS_BENCH_EVENTS ?? 1_000_000)
const SLICES = 10
const STRUCTURAL_SAMPLE = 50_000
const SDK_SAMPLE = 3_000

// ---------------------------------------------------------------------------
// data: deterministic wire events in Polar's format
// ---------------------------------------------------------------------------

const rand = random(20260821)
const int = (n: number) => Math.floor(rand() * n)
const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]

const uuid4 = (): string => uuid4From(rand)

const START_US = Date.UTC(2026, 6, 1) * 1000
const timestamp = (): string => {
  const us = START_US + int(60 * 86_400) * 1_000_000 + (rand() < 0.1 ? 0 : int(1_000_000))
  const base = new Date(Math.floor(us / 1_000_000) * 1000).toISOString().slice(0, 19)
  const frac = us % 1_000_000
  return frac === 0 ? `${base}Z` : `${base}.${String(frac).padStart(6, "0")}Z`
}

const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
const CUSTOMERS = Array.from({ length: 1000 }, uuid4)
const METERS = Array.from({ length: 8 }, uuid4)
const MODELS = ["gpt-4.1-nano", "gpt-4.1-mini", "claude-sonnet-4", "gemini-2.5-flash"]

const base = (byExternalId: boolean) => ({
  id: uuid4(),
  timestamp: timestamp(),
  organization_id: ORG,
  customer_id: byExternalId ? null : pick(CUSTOMERS),
  customer: null,
  external_customer_id: byExternalId ? `usr_${int(100_000)}` : null,
  member_id: null,
  external_member_id: null,
  child_count: rand() < 0.8 ? 0 : int(4),
  parent_id: rand() < 0.1 ? uuid4() : null
})

const user = (name: string, metadata: Record<string, unknown>) => ({
  ...base(rand() < 0.6),
  label: name,
  name,
  source: "user",
  metadata
})

const system = (name: string, label: string, metadata: Record<string, unknown>) => ({
  ...base(false),
  label,
  source: "system",
  name,
  metadata
})

const userEvent = () => {
  switch (int(8)) {
    case 0: {
      const model = pick(MODELS)
      const input = int(4000), output = int(800)
      return user("llm.generation", {
        _llm: { vendor: "openai", model, input_tokens: input, output_tokens: output, total_tokens: input + output },
        _cost: { amount: (rand() * 5).toFixed(4), currency: "usd" }
      })
    }
    case 1:
    case 2:
      return user("api.request", { endpoint: "/v1/search", status: 200, duration_ms: int(900) })
    case 3:
    case 4:
      return user("storage.bytes", { bytes: int(50_000_000), bucket: "user-uploads" })
    case 5:
      return user("api.request", { endpoint: "/v1/export", status: 202, cached: false })
    default:
      return user("email.sent", { template: "digest", provider: "ses" })
  }
}

const systemEvent = () => {
  switch (int(6)) {
    case 0:
    case 5:
      return system("meter.credited", "Meter Credited", { meter_id: pick(METERS), units: 1000 * int(100), rollover: false })
    case 1:
      return system("benefit.granted", "Benefit Granted", {
        benefit_id: uuid4(),
        benefit_grant_id: uuid4(),
        benefit_type: "meter_credit"
      })
    case 2:
      return system("order.paid", "Order Paid", { order_id: uuid4(), amount: int(10_000), currency: "usd" })
    case 3:
      return system("subscription.cycled", "Subscription Cycled", { subscription_id: uuid4(), amount: 2000 })
    default:
      return system("meter.reset", "Meter Reset", { meter_id: pick(METERS) })
  }
}

const generate = (n: number): Array<string> =>
  Array.from({ length: n }, () => JSON.stringify(rand() < 0.7 ? userEvent() : systemEvent()))

// ---------------------------------------------------------------------------
// measurements
// ---------------------------------------------------------------------------

const rate = (events: number, seconds: number) => events / seconds

export const run = async (): Promise<ReadonlyArray<Row>> => {
  const texts = generate(N)
  const bytes = texts.reduce((n, t) => n + t.length, 0) / texts.length
  const decode = Schema.decodeUnknownSync(Event.Event)
  const decodeStructural = Schema.decodeUnknownSync(Event.EventStructural)

  // every text must decode (full validation, nothing skipped), and warm up the JIT
  let sink = 0
  for (const text of texts) sink += decode(JSON.parse(text)).source === "user" ? 1 : 0
  const users = sink

  let parseSeconds = 0
  let oursSeconds = 0
  const slice = Math.ceil(N / SLICES)
  for (let s = 0; s < SLICES; s++) {
    const from = s * slice
    const to = Math.min(N, from + slice)
    const parse = () => {
      for (let i = from; i < to; i++) sink += JSON.parse(texts[i]).child_count
    }
    const ours = () => {
      for (let i = from; i < to; i++) sink += decode(JSON.parse(texts[i])).childCount ?? 0
    }
    if (s % 2 === 0) {
      parseSeconds += time(parse)
      oursSeconds += time(ours)
    } else {
      oursSeconds += time(ours)
      parseSeconds += time(parse)
    }
  }
  const ours = rate(N, oursSeconds)
  const parse = rate(N, parseSeconds)

  const structuralSample = texts.slice(0, Math.min(N, STRUCTURAL_SAMPLE))
  for (const text of structuralSample.slice(0, 5_000)) decodeStructural(JSON.parse(text))
  const structuralSeconds = time(() => {
    for (const text of structuralSample) sink += decodeStructural(JSON.parse(text)).childCount ?? 0
  })
  const oursOnSample = time(() => {
    for (const text of structuralSample) sink += decode(JSON.parse(text)).childCount ?? 0
  })

  const sdkSample = texts.slice(0, Math.min(N, SDK_SAMPLE))
  let sdkFailures = 0
  const sdkDecode = (text: string) => {
    const r = Event$inboundSchema.safeParse(JSON.parse(text))
    if (r.success) sink += r.data.childCount
    else sdkFailures++
  }
  for (const text of sdkSample.slice(0, 200)) sdkDecode(text)
  sdkFailures = 0
  const sdkSeconds = time(() => sdkSample.forEach(sdkDecode))
  if (sdkFailures > 0) throw new Error(`@polar-sh/sdk rejected ${sdkFailures} of ${sdkSample.length} events`)

  if (sink < 0) console.log(sink)
  const mix = `${N.toLocaleString("en-US")} events, ${Math.round(bytes)} B avg, ${
    Math.round((users / N) * 100)
  }% user`
  return [
    {
      what: "core: JSON.parse + decode Event",
      ours,
      baseline: parse,
      unit: "events/s",
      better: "higher",
      baselineName: "JSON.parse only",
      target: ">= 250,000 events/s",
      note: mix
    },
    {
      what: "core: JSON.parse + decode Event",
      ours: rate(structuralSample.length, oursOnSample),
      baseline: rate(structuralSample.length, structuralSeconds),
      unit: "events/s",
      better: "higher",
      baselineName: "EventStructural (plain Effect Schema)",
      note: `same ${structuralSample.length.toLocaleString("en-US")} events`
    },
    {
      what: "core: JSON.parse + decode Event",
      ours,
      baseline: rate(sdkSample.length, sdkSeconds),
      unit: "events/s",
      better: "higher",
      baselineName: "@polar-sh/sdk 0.49 Event$inboundSchema",
      note: `SDK on the first ${sdkSample.length.toLocaleString("en-US")} events`
    }
  ]
}
