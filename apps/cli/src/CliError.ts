/**
 * The errors of the command line and how they reach the user: one line on
 * stderr, a stack trace only with `--verbose`, and an exit code (2 for a
 * usage error, 1 for anything else that went wrong).
 *
 * @since 0.1.0
 */
import { ValidationError as CliValidationError } from "@effect/cli"
import { ValidationError } from "@polar-events/core"
import { Cause, Data, Option } from "effect"

/**
 * The command line was used wrongly: a bad flag value, a missing or
 * conflicting option. Exit code 2.
 *
 * @since 0.1.0
 */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/**
 * Something went wrong while doing what was asked: a file that cannot be
 * read, a database that cannot be opened, a server that refused. Exit code 1.
 *
 * @since 0.1.0
 */
export class CommandError extends Data.TaggedError("CommandError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A failure that was already reported to the user (for example every bad
 * line of an import); only its exit code is left to apply.
 *
 * @since 0.1.0
 */
export class Reported extends Data.TaggedError("Reported")<{ readonly exitCode: number }> {}

/** The exit codes. @since 0.1.0 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, "; ").trim()

const messageOf = (error: unknown): string => {
  if (error instanceof ValidationError.RequestValidationError) {
    const shown = error.detail.slice(0, 3).map((d) =>
      `${ValidationError.formatLoc(d.loc.filter((l) => l !== "body" && l !== "query"))}: ${d.msg} [${d.type}]`
    )
    const more = error.detail.length > 3 ? ` (and ${error.detail.length - 3} more)` : ""
    return `invalid input: ${shown.join("; ")}${more}`
  }
  if (typeof error === "object" && error !== null) {
    const tagged = error as { readonly _tag?: unknown; readonly message?: unknown; readonly operation?: unknown }
    const message = typeof tagged.message === "string" && tagged.message !== "" ? tagged.message : undefined
    if (tagged._tag === "EventStoreError") {
      return `storage error${typeof tagged.operation === "string" ? ` (${tagged.operation})` : ""}: ${message ?? "unknown"}`
    }
    if (tagged._tag === "SqlError") {
      const cause = (error as { readonly cause?: { readonly message?: unknown } }).cause
      const detail = typeof cause?.message === "string" ? cause.message : undefined
      return `database error: ${[message, detail].filter((s) => s !== undefined).join(": ")}`
    }
    if (message !== undefined) return message
    if (typeof tagged._tag === "string") return tagged._tag
  }
  return String(error)
}

/**
 * What to print and which exit code to use for the way a command ended.
 * `lines` is empty when the failure was already shown (a usage error that
 * @effect/cli printed, a `Reported` failure).
 *
 * @since 0.1.0
 */
export const render = (
  cause: Cause.Cause<unknown>,
  verbose: boolean
): { readonly exitCode: number; readonly lines: ReadonlyArray<string> } => {
  if (Cause.isInterruptedOnly(cause)) return { exitCode: ExitCode.interrupted, lines: [] }
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (CliValidationError.isValidationError(error)) {
      return { exitCode: CliValidationError.isHelpRequested(error) ? 0 : ExitCode.usage, lines: [] }
    }
    if (error instanceof Reported) return { exitCode: error.exitCode, lines: [] }
    const code = error instanceof UsageError ? ExitCode.usage : ExitCode.failure
    const lines = [`error: ${oneLine(messageOf(error))}`]
    if (verbose) {
      const inner = (error as { readonly cause?: unknown }).cause
      lines.push(Cause.pretty(cause, { renderErrorCause: true }))
      if (inner instanceof Error && inner.stack !== undefined) lines.push(`caused by: ${inner.stack}`)
    }
    return { exitCode: code, lines }
  }
  const defect = Cause.dieOption(cause)
  const text = Option.match(defect, {
    onNone: () => "unexpected failure",
    onSome: (d) => messageOf(d)
  })
  const lines = [`error: ${oneLine(text)}`]
  if (verbose) lines.push(Cause.pretty(cause, { renderErrorCause: true }))
  else lines[0] += " (run again with --verbose for details)"
  return { exitCode: ExitCode.failure, lines }
}
