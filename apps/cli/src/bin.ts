/**
 * The `polar-events` executable: runs the command line and turns how it
 * ended into one line on stderr and an exit code (0 success, 1 runtime
 * error, 2 usage error).
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, HashMap, Logger, LogLevel } from "effect"
import * as Cli from "./Cli.js"
import * as CliError from "./CliError.js"
import { colorsEnabled, stripAnsi } from "./Output.js"

const args = process.argv.slice(2)
const verbose = args.includes("--verbose")

/** @effect/cli prints help and usage errors through `Console`; without colors, its ANSI codes are removed. */
const plainConsole = (base: Console.Console): Console.Console => {
  const outColor = colorsEnabled(process.stdout)
  const errColor = colorsEnabled(process.stderr)
  const out = (color: boolean, stream: NodeJS.WriteStream) => (...xs: ReadonlyArray<unknown>) =>
    Effect.sync(() => {
      const text = xs.map((x) => (typeof x === "string" ? x : String(x))).join(" ")
      stream.write((color ? text : stripAnsi(text)) + "\n")
    })
  return {
    ...base,
    log: out(outColor, process.stdout),
    info: out(outColor, process.stdout),
    error: out(errColor, process.stderr),
    warn: out(errColor, process.stderr),
    unsafe: {
      ...base.unsafe,
      log: (...xs) => process.stdout.write((outColor ? xs.join(" ") : stripAnsi(xs.join(" "))) + "\n"),
      error: (...xs) => process.stderr.write((errColor ? xs.join(" ") : stripAnsi(xs.join(" "))) + "\n")
    }
  }
}

/** Log lines go to stderr, never to stdout where results are: errors only, everything with `--verbose`. */
const stderrLogger = Logger.make(({ annotations, logLevel, message }) => {
  if (!verbose && LogLevel.lessThan(logLevel, LogLevel.Error)) return
  const text = (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : JSON.stringify(m)))
    .join(" ")
  const extra = HashMap.size(annotations) === 0
    ? ""
    : " " + [...HashMap.toEntries(annotations)].map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ")
  process.stderr.write(`${logLevel.label.toLowerCase()}: ${text}${extra}\n`)
})

const program = Effect.gen(function*() {
  const exit = yield* Effect.exit(Cli.run([process.argv[0]!, process.argv[1]!, ...Cli.hoistGlobalFlags(args)]))
  if (Exit.isSuccess(exit)) return CliError.ExitCode.ok
  const { exitCode, lines } = CliError.render(exit.cause, verbose)
  if (lines.length > 0) yield* Console.error(lines.join("\n"))
  return exitCode
}).pipe(
  Effect.provide(NodeContext.layer),
  (self) => Effect.flatMap(Effect.console, (base) => Effect.withConsole(self, plainConsole(base))),
  Effect.provide(Logger.replace(Logger.defaultLogger, stderrLogger)),
  Logger.withMinimumLogLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
)


NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    const code = Exit.isSuccess(exit)
      ? exit.value as number
      : Cause.isInterruptedOnly(exit.cause)
      ? CliError.ExitCode.interrupted
      : CliError.ExitCode.failure
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
      process.stderr.write(`error: ${Cause.pretty(exit.cause)}\n`)
    }
    process.stdout.write("", () => {
      process.exitCode = code
      onExit(code)
      process.exit(code)
    })
  }
})
