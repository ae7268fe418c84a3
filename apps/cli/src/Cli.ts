/**
 * The `polar-events` command tree and its entry point.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import pkg from "../package.json" with { type: "json" }
import { db } from "./commands/db.js"
import { exportCommand, get, list } from "./commands/events.js"
import { importCommand } from "./commands/import.js"
import { ingest } from "./commands/ingest.js"
import { names } from "./commands/names.js"
import { quantities } from "./commands/quantities.js"
import { pull, push } from "./commands/remote.js"
import { serve } from "./commands/serve.js"

/** The version printed by `--version`: the package's. @since 0.1.0 */
export const VERSION: string = pkg.version

/**
 * The root command with every subcommand.
 *
 * @since 0.1.0
 */
export const command = Command.make("polar-events").pipe(
  Command.withDescription(
    "Polar.sh usage events on your machine: record, import, query, meter, push to Polar, pull from Polar, serve the API."
  ),
  Command.withSubcommands([
    ingest,
    importCommand,
    list,
    get,
    names,
    quantities,
    exportCommand,
    push,
    pull,
    serve,
    db
  ])
)

/**
 * Runs the command line for `process.argv`-shaped arguments.
 *
 * @since 0.1.0
 */
export const run = Command.run(command, {
  name: "polar-events",
  version: VERSION,
  executable: "polar-events"
})

/** Flags of every command that take a value; `bin.ts` moves them after the command name. @since 0.1.0 */
export const globalValueFlags: ReadonlyArray<string> = ["--db", "--pg", "--org", "--token", "--server"]

/** Boolean flags of every command. @since 0.1.0 */
export const globalBooleanFlags: ReadonlyArray<string> = ["--json", "--verbose"]

/**
 * Moves global flags written before the command name to after it, so that
 * `polar-events --db x list` and `polar-events list --db x` mean the same.
 *
 * @since 0.1.0
 */
export const hoistGlobalFlags = (args: ReadonlyArray<string>): Array<string> => {
  const moved: Array<string> = []
  let i = 0
  while (i < args.length) {
    const arg = args[i]!
    const name = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg
    if (globalValueFlags.includes(name)) {
      if (arg.includes("=")) {
        moved.push(name, arg.slice(arg.indexOf("=") + 1))
        i += 1
      } else {
        moved.push(arg, ...(i + 1 < args.length ? [args[i + 1]!] : []))
        i += 2
      }
      continue
    }
    if (globalBooleanFlags.includes(arg)) {
      moved.push(arg)
      i += 1
      continue
    }
    break
  }
  const rest = moved.length === 0 || i >= args.length ? [...args] : [...args.slice(i), ...moved]
  // @effect/cli stops reading options after a lone `-`: put `import -` last
  const dash = rest.indexOf("-")
  if (rest[0] === "import" && dash > 0 && dash < rest.length - 1) rest.push(...rest.splice(dash, 1))
  return rest
}
