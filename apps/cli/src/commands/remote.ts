/**
 * `push` and `pull`: moving events between the local store and Polar (or
 * any Polar-compatible base URL, such as `polar-events serve`). The work
 * itself is in `internal/sync.ts`, loaded on use.
 *
 * @internal
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { CommandError } from "../CliError.js"
import { remote, storage } from "../GlobalOptions.js"
import { withDatabase } from "../internal/context.js"

const load = Effect.tryPromise({
  try: () => import("../internal/sync.js"),
  catch: (e) => new CommandError({ message: `cannot load the client: ${(e as Error).message}`, cause: e })
})

/**
 * `polar-events push`.
 *
 * @internal
 */
export const push = Command.make(
  "push",
  {
    ...storage,
    ...remote,
    full: Options.boolean("full").pipe(
      Options.withDescription("Offer every local event again, not only those after the last push (duplicates are skipped).")
    ),
    batchSize: Options.integer("batch-size").pipe(
      Options.withDescription("Events per request (default 500)."),
      Options.withDefault(500)
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withPseudoName("SECONDS"),
      Options.withDescription("Give up when nothing could be delivered for this long (default 120)."),
      Options.withDefault(120)
    ),
    outbox: Options.text("outbox").pipe(
      Options.withPseudoName("PATH"),
      Options.withDescription("With --pg: the SQLite file of the outbox (default .polar-events/outbox.db)."),
      Options.optional
    )
  },
  (input) => withDatabase(input, Effect.flatMap(load, (sync) => sync.push(input)))
).pipe(
  Command.withDescription(
    "Send local events to Polar (or --server URL) through a durable outbox: resumable and exactly once."
  )
)

/**
 * `polar-events pull`.
 *
 * @internal
 */
export const pull = Command.make(
  "pull",
  {
    ...storage,
    ...remote,
    full: Options.boolean("full").pipe(
      Options.withDescription("Pull everything again, not only what came after the last pull (idempotent).")
    )
  },
  (input) => withDatabase(input, Effect.flatMap(load, (sync) => sync.pull(input)))
).pipe(
  Command.withDescription("Copy events from Polar (or --server URL) into the local store: incremental and idempotent.")
)
