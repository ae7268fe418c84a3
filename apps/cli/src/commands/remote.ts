/**
 * `push` and `pull`: moving events between the local store and Polar (or
 * any Polar-compatible base URL, such as `polar-events serve`). The work is
 * the `Sync` service, loaded on use.
 *
 * @internal
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { CommandError, UsageError } from "../CliError.js"
import { CliSettings, type Remote, type RemoteInput, remote, resolveRemote, type Settings } from "../GlobalOptions.js"
import { storeCommand } from "../internal/context.js"
import type * as Sync from "../Sync.js"

/** What a remote command runs with: the `Sync` module and service, the target and the settings. */
interface SyncContext {
  readonly Sync: typeof Sync
  readonly sync: Sync.Sync
  readonly remote: Remote
  readonly settings: Settings
}

/** Loads the client (only here), resolves the target and builds `Sync` over the opened store, then runs `f`. */
const withSync = <A, E>(input: RemoteInput, f: (context: SyncContext) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const Sync = yield* Effect.tryPromise({
      try: () => import("../Sync.js"),
      catch: (e) => new CommandError({ message: `cannot load the client: ${(e as Error).message}`, cause: e })
    })
    const remote = yield* resolveRemote(input)
    const settings = yield* CliSettings
    const sync = yield* Effect.provide(Sync.Sync, Sync.Sync.Default)
    return yield* f({ Sync, sync, remote, settings })
  })

/**
 * `polar-events push`.
 *
 * @internal
 */
export const push = storeCommand(
  "push",
  {
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
  (input) =>
    input.batchSize < 1 || input.batchSize > 1000
      ? new UsageError({ message: "--batch-size must be between 1 and 1000" })
      : withSync(input, ({ Sync, remote, settings, sync }) =>
        sync.push({ ...input, remote, progress: !settings.json, outbox: Sync.outboxOf(settings.database, input.outbox) })
          .pipe(Effect.flatMap((report) => Sync.renderPush(report, settings.json))))
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
export const pull = storeCommand(
  "pull",
  {
    ...remote,
    full: Options.boolean("full").pipe(
      Options.withDescription("Pull everything again, not only what came after the last pull (idempotent).")
    )
  },
  (input) =>
    withSync(input, ({ Sync, remote, settings, sync }) =>
      sync.pull({ full: input.full, remote, progress: !settings.json })
        .pipe(Effect.flatMap((report) => Sync.renderPull(report, settings.json))))
).pipe(
  Command.withDescription("Copy events from Polar (or --server URL) into the local store: incremental and idempotent.")
)
