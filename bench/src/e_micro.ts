import { EventsClient, Ingester } from "@polar-events/client"
import { HttpClient } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"
const N = 300_000
const M = 1000
const events = Array.from({ length: M }, (_, i) => ({
    name: i % 3 === 0 ? "llm.generation" : "api.request",
    externalCustomerId: `customer_${i % 10_000}`,
    metadata: {
      route: "/v1/chat/completions", method: "POST", status: 200, latency_ms: 812.5 + (i % 100), region: "eu-west-1",
      request_id: `req_${i}_0123456789abcdef`, cached: i % 2 === 0,
      _llm: { vendor: "openai", model: "gpt-4.1-nano", input_tokens: 58 + (i % 50), output_tokens: 19, total_tokens: 77 + (i % 50) },
      _cost: { amount: 0.0325, currency: "usd" }
    }
  }))
const mode = process.argv[2]!
const mk = (i: number) => ({ ...events[i % 1000]!, metadata: { ...events[i % 1000]!.metadata, request_id: `r${i}` } })
const main = async () => {
  const real = await Effect.runPromise(EventsClient.make({ accessToken: Redacted.make("x"), server: "http://127.0.0.1:9" }).pipe(Effect.provide(Layer.succeed(HttpClient.HttpClient, {} as any))))
  const fake = Layer.succeed(EventsClient.EventsClient, { ...real, ingestEncoded: (evs: any) => Effect.sync(() => { if (process.env.BODY !== "0") evs.body(); return { inserted: evs.count, duplicates: 0 } }) } as any)
  for (let k = 0; k < 4; k++) {
    const c0 = process.cpuUsage()
    if (mode === "prepare") { for (let i = 0; i < N; i++) real.prepare([mk(i)], { stampTimestamp: true }) }
    else if (mode === "stringify") { for (const e of events) JSON.stringify(e) }
    else if (mode === "offerAll") {
      await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const ing = yield* Ingester.make({ maxBatchSize: 1000, concurrency: 4 })
        for (let i = 0; i < N; i += 1000) yield* ing.offerAll(events.slice(i, i + 1000))
        yield* ing.flush
      })).pipe(Effect.provide(fake)))
    } else {
      await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const ing = yield* Ingester.make({ maxBatchSize: 1000, concurrency: 4 })
        for (let i = 0; i < N; i++) yield* ing.offer(mk(i))
        yield* ing.flush
      })).pipe(Effect.provide(fake)))
    }
    const c = process.cpuUsage(c0)
    if (k > 0) console.log(mode, ((c.user + c.system) / N).toFixed(2), "us cpu/event")
  }
}
main()
