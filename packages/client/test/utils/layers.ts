import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as EventsClient from "../../src/EventsClient.js"
import * as PolarServer from "./PolarServer.js"

/** A real `EventsClient` over undici for a test server; logs below Error are dropped unless `verbose`. */
export const client = (
  url: string,
  token: string,
  options: Partial<EventsClient.Options> = {},
  verbose = false
): Layer.Layer<EventsClient.EventsClient> => {
  const layer = EventsClient.layer({
    accessToken: Redacted.make(token),
    server: url,
    timeout: "5 seconds",
    retry: { initialDelay: "20 millis", maxDelay: "200 millis", maxAttempts: 20, maxElapsed: "2 minutes" },
    ...options
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  return verbose ? layer : Layer.merge(layer, Logger.minimumLogLevel(LogLevel.Error))
}

/** A Polar-like server for the duration of the scope. */
export const polarServer = (options: PolarServer.PolarServerOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => PolarServer.start(options)),
    (server) => Effect.promise(() => server.close())
  )

/** Real time passes (not the TestClock's). */
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Waits in real time until `condition` holds (fails the test after `timeoutMs`). */
export const eventually = (condition: () => boolean, timeoutMs = 10_000) =>
  Effect.promise(async () => {
    const start = Date.now()
    while (!condition()) {
      if (Date.now() - start > timeoutMs) throw new Error("condition not met in time")
      await new Promise((r) => setTimeout(r, 5))
    }
  })

/** A valid event for an external customer with a sequence number in its metadata. */
export const event = (seq: number, extra: Record<string, unknown> = {}) => ({
  name: "api.call",
  externalCustomerId: `customer_${seq % 97}`,
  metadata: { seq, route: "/v1/things", tokens: seq % 1000, cached: seq % 2 === 0 },
  ...extra
})
