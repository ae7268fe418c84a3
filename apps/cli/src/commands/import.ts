/**
 * `polar-events import FILE|-`: the options, wired to `Importer` (which
 * holds the work).
 *
 * @internal
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "../CliError.js"
import { CliSettings } from "../GlobalOptions.js"
import * as Importer from "../Importer.js"
import { storeCommand } from "../internal/context.js"
import { formats } from "../internal/readers.js"

const options = {
  file: Args.text({ name: "FILE|-" }).pipe(Args.withDescription("The file to import, or - for stdin.")),
  format: Options.choice("format", formats).pipe(
    Options.withDescription("ndjson, json (an array) or csv (default: from the extension or the first character)."),
    Options.optional
  ),
  skipInvalid: Options.boolean("skip-invalid").pipe(
    Options.withDescription("Import the valid records and skip the bad ones (default: import nothing if any is bad).")
  ),
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("Check the input; write nothing.")),
  batchSize: Options.integer("batch-size").pipe(
    Options.withDescription("Events per transaction (default 5,000)."),
    Options.withDefault(5_000)
  ),
  noProgress: Options.boolean("no-progress").pipe(Options.withDescription("Print no progress."))
}

/**
 * The command.
 *
 * @internal
 */
export const importCommand = storeCommand(
  "import",
  options,
  (input) =>
    Effect.gen(function*() {
      if (input.batchSize < 1) return yield* new UsageError({ message: "--batch-size must be 1 or more" })
      const settings = yield* CliSettings
      const importer = yield* Importer.Importer
      const report = yield* importer.run({ ...input, progress: !input.noProgress, color: settings.colorErr })
      yield* Importer.render(report, { json: settings.json, dryRun: input.dryRun })
    }).pipe(Effect.provide(Importer.Importer.Default)),
  // SQLite writes on a thread of its own while the next batches are read and decoded
  { writeThread: true }
).pipe(
  Command.withDescription(
    "Import events from NDJSON, a JSON array or CSV (a file or - for stdin): streamed, checked, all or nothing."
  )
)
