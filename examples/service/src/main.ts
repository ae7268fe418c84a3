/**
 * Runs the example service, configured from the environment (see
 * `Service.ts`). SIGINT/SIGTERM close it: the outbox sends what it can for
 * up to 10 seconds; what is left goes on the next start.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect, Option } from "effect"
import * as Service from "./Service.js"

const main = Effect.gen(function*() {
  const server = yield* HttpServer.HttpServer
  const port = Service.portOf(server)
  yield* Effect.log(`example service listening on port ${Option.getOrElse(port, () => "?")}`)
  return yield* Effect.never
}).pipe(Effect.provide(Service.layerConfig))

NodeRuntime.runMain(main)
