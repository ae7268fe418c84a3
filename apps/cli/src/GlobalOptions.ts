/**
 * The options every command takes (storage, organization, output) and the
 * remote ones (`--token`, `--server`) of `push` and `pull`, resolved once
 * into `Settings` with their environment fallbacks.
 *
 * Every command carries these options itself, so they may be written
 * before or after the command name (`bin.ts` moves leading ones after it).
 *
 * @since 0.1.0
 */
import { Options } from "@effect/cli"
import { Ids } from "@polar-events/core"
import { Context, Effect, Option, Redacted } from "effect"
import { UsageError } from "./CliError.js"
import { colorsEnabled } from "./Output.js"

/** The default SQLite file, relative to the working directory. @since 0.1.0 */
export const DEFAULT_DB = ".polar-events/events.db"

/**
 * Storage, organization and output options, shared by every command.
 *
 * @since 0.1.0
 */
export const storage = {
  db: Options.text("db").pipe(
    Options.withPseudoName("PATH"),
    Options.withDescription(`The SQLite file (default ${DEFAULT_DB}, env POLAR_EVENTS_DB).`),
    Options.optional
  ),
  pg: Options.redacted("pg").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription("Use PostgreSQL at this URL instead of SQLite (env POLAR_EVENTS_PG_URL)."),
    Options.optional
  ),
  org: Options.text("org").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription(
      "The local organization (a UUID). Default: one created on first use and remembered in the database."
    ),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Print machine-readable JSON.")),
  verbose: Options.boolean("verbose").pipe(
    Options.withDescription("Show details of errors (stack traces, causes).")
  )
}

/**
 * The options of commands that talk to Polar (or another base URL).
 *
 * @since 0.1.0
 */
export const remote = {
  token: Options.redacted("token").pipe(
    Options.withPseudoName("TOKEN"),
    Options.withDescription("A Polar organization access token (env POLAR_ACCESS_TOKEN). Never printed."),
    Options.optional
  ),
  server: Options.text("server").pipe(
    Options.withPseudoName("production|sandbox|URL"),
    Options.withDescription("Where Polar is: production (default), sandbox, or a base URL (env POLAR_SERVER)."),
    Options.optional
  )
}

/** The parsed storage options of a command. @since 0.1.0 */
export interface StorageInput {
  readonly db: Option.Option<string>
  readonly pg: Option.Option<Redacted.Redacted<string>>
  readonly org: Option.Option<string>
  readonly json: boolean
  readonly verbose: boolean
}

/** The parsed remote options of a command. @since 0.1.0 */
export interface RemoteInput {
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly server: Option.Option<string>
}

/** Where events are kept. @since 0.1.0 */
export type Database =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "pg"; readonly url: Redacted.Redacted<string> }

/**
 * The resolved global settings of one run.
 *
 * @since 0.1.0
 */
export interface Settings {
  readonly database: Database
  /** the organization given with `--org`, if any */
  readonly org: Option.Option<string>
  readonly json: boolean
  readonly verbose: boolean
  /** colors on stdout */
  readonly color: boolean
  /** colors on stderr */
  readonly colorErr: boolean
}

/**
 * The settings as a service.
 *
 * @since 0.1.0
 */
export class CliSettings extends Context.Tag("polar-events/CliSettings")<CliSettings, Settings>() {}


const env = (name: string): string | undefined => {
  const v = process.env[name]
  return v === undefined || v === "" ? undefined : v
}

/**
 * Resolves the storage options: flags first, then `POLAR_EVENTS_PG_URL` /
 * `POLAR_EVENTS_DB`, then the default SQLite file.
 *
 * @since 0.1.0
 */
export const resolve = (input: StorageInput): Effect.Effect<Settings, UsageError> =>
  Effect.gen(function*() {
    if (Option.isSome(input.db) && Option.isSome(input.pg)) {
      return yield* new UsageError({ message: "--db and --pg cannot be used together" })
    }
    const pgEnv = env("POLAR_EVENTS_PG_URL")
    const database: Database = Option.isSome(input.pg)
      ? { _tag: "pg", url: input.pg.value }
      : Option.isSome(input.db)
      ? { _tag: "sqlite", filename: input.db.value }
      : pgEnv !== undefined
      ? { _tag: "pg", url: Redacted.make(pgEnv) }
      : { _tag: "sqlite", filename: env("POLAR_EVENTS_DB") ?? DEFAULT_DB }
    if (database._tag === "sqlite" && database.filename.trim() === "") {
      return yield* new UsageError({ message: "--db needs a file path" })
    }
    if (Option.isSome(input.org) && !Ids.isUuid(input.org.value)) {
      return yield* new UsageError({ message: `--org must be a UUID, got '${input.org.value}'` })
    }
    return {
      database,
      org: Option.map(input.org, (s) => s.toLowerCase()),
      json: input.json,
      verbose: input.verbose,
      color: colorsEnabled(process.stdout),
      colorErr: colorsEnabled(process.stderr)
    }
  })

/**
 * Where a remote command goes and with which token.
 *
 * @since 0.1.0
 */
export interface Remote {
  readonly token: Redacted.Redacted<string>
  /** `production`, `sandbox` or a base URL */
  readonly server: string
}

/**
 * Resolves `--token` / `POLAR_ACCESS_TOKEN` and `--server` / `POLAR_SERVER`;
 * a missing token is a usage error.
 *
 * @since 0.1.0
 */
export const resolveRemote = (input: RemoteInput): Effect.Effect<Remote, UsageError> =>
  Effect.gen(function*() {
    const token = Option.isSome(input.token)
      ? input.token.value
      : env("POLAR_ACCESS_TOKEN") !== undefined
      ? Redacted.make(env("POLAR_ACCESS_TOKEN")!)
      : undefined
    if (token === undefined) {
      return yield* new UsageError({ message: "a Polar access token is needed: pass --token or set POLAR_ACCESS_TOKEN" })
    }
    const server = Option.getOrUndefined(input.server) ?? env("POLAR_SERVER") ?? "production"
    if (server !== "production" && server !== "sandbox") {
      let url: URL
      try {
        url = new URL(server)
      } catch {
        return yield* new UsageError({ message: `--server must be production, sandbox or an http(s) URL, got '${server}'` })
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return yield* new UsageError({ message: `--server must be an http(s) URL, got '${server}'` })
      }
    }
    return { token, server }
  })

/**
 * The base URL of a server setting.
 *
 * @since 0.1.0
 */
export const baseUrl = (server: string): string =>
  server === "production"
    ? "https://api.polar.sh"
    : server === "sandbox"
    ? "https://sandbox-api.polar.sh"
    : new URL(server).toString().replace(/\/+$/, "")

/**
 * A database location fit to print: the file, or the PostgreSQL URL without
 * its password.
 *
 * @since 0.1.0
 */
export const describeDatabase = (database: Database): string => {
  if (database._tag === "sqlite") return database.filename
  try {
    const url = new URL(Redacted.value(database.url))
    if (url.password !== "") url.password = "***"
    return url.toString()
  } catch {
    return "postgresql (unparsable URL)"
  }
}
