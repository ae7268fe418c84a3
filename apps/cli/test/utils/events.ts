/**
 * Test data: wire events (as Polar's API and `export` write them) and
 * events to ingest (as `POST /v1/events/ingest` takes them), generated
 * deterministically.
 */
import * as fs from "node:fs"

/** A deterministic pseudo-random source; time-ordered UUID v7s and v4s drawn from one. */
export { random, uuid4, uuid7 } from "@polar-events/test-support"
import { random, uuid7 } from "@polar-events/test-support"

/** The start of generated time: 2025-03-01T00:00:00Z. */
export const START = Date.parse("2025-03-01T00:00:00Z")

const NAMES = ["llm.completion", "api.request", "api.request", "storage.upload"]

/**
 * The i-th event to ingest (wire JSON), `stepMs` (default a minute) after
 * the previous one, with an `external_id` unless `withExternalId` is false.
 */
export const ingestEvent = (
  i: number,
  options: { readonly withExternalId?: boolean; readonly customers?: number; readonly stepMs?: number } = {}
) => {
  const rand = random(i + 1)
  const name = NAMES[i % NAMES.length]!
  const tokens = 100 + Math.floor(rand() * 1000)
  return {
    name,
    external_customer_id: `customer_${i % (options.customers ?? 7)}`,
    ...(options.withExternalId === false ? {} : { external_id: `evt_${i}` }),
    timestamp: new Date(START + i * (options.stepMs ?? 60_000)).toISOString(),
    metadata: name === "llm.completion"
      ? {
        model: i % 2 === 0 ? "gpt-4o" : "gpt-4o-mini",
        _llm: { vendor: "openai", model: "gpt-4o", input_tokens: tokens, output_tokens: 50, total_tokens: tokens + 50 },
        _cost: { amount: 0.25, currency: "usd" }
      }
      : name === "api.request"
      ? { endpoint: "/v1/search", status: 200, latency_ms: Math.floor(rand() * 400), cached: i % 3 === 0 }
      : { bytes: Math.floor(rand() * 1_000_000), bucket: "uploads" }
  }
}

/** The i-th stored event (wire JSON) of an organization. */
export const wireEvent = (i: number, organizationId = "11111111-1111-4111-8111-111111111111") => {
  const rand = random(i + 7)
  const ms = START + i * 1000
  const e = ingestEvent(i)
  return {
    id: uuid7(ms, rand),
    timestamp: new Date(ms).toISOString(),
    organization_id: organizationId,
    customer_id: null,
    customer: null,
    external_customer_id: e.external_customer_id,
    label: e.name,
    name: e.name,
    source: "user",
    metadata: { ...e.metadata, ...(e.name === "llm.completion" ? { _cost: { amount: "0.25", currency: "usd" } } : {}) }
  }
}

/** Writes NDJSON lines for indexes 0..n-1 with `f`, in chunks (constant memory). */
export const writeNdjson = (file: string, n: number, f: (i: number) => unknown): void => {
  const fd = fs.openSync(file, "w")
  let buffer = ""
  for (let i = 0; i < n; i++) {
    buffer += JSON.stringify(f(i)) + "\n"
    if (buffer.length > 1 << 20) {
      fs.writeSync(fd, buffer)
      buffer = ""
    }
  }
  fs.writeSync(fd, buffer)
  fs.closeSync(fd)
}
