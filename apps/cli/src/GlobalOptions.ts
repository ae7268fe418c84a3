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
import { Config, ConfigError, Context, Effect, Either, Option, Redacted } from "effect"
import { UsageError } from "./CliError.js"
import { colorsEnabled } from "./Output.js"

/** The default SQLite file, relative to the working directory. @since 0.1.0 */
export const DEFAULT_DB = ".polar-events/events.db"

/** An environment variable as `Config`; set but empty counts as unset. */
const envText = (name: string): Config.Config<string> =>
  Config.string(name).pipe(
    Config.mapOrFail((s) => s === "" ? Either.left(ConfigError.MissingData([name], `${name} is empty`)) : Either.right(s))
  )

/**
 * A value and whether it was given as a flag (`explicit`) or came from the
 * environment: `--db` beside `POLAR_EVENTS_PG_URL` is no conflict, `--db`
 * beside `--pg` is.
 *
 * @since 0.1.0
 */
export interface Sourced<A> {
  readonly value: A
  readonly explicit: boolean
}

const flagOrEnv = <A>(option: Options.Options<A>, config: Config.Config<A>): Options.Options<Option.Option<Sourced<A>>> =>
  option.pipe(
    Options.map((value): Sourced<A> => ({ value, explicit: true })),
    Options.withFallbackConfig(Config.map(config, (value): Sourced<A> => ({ value, explicit: false }))),
    Options.optional
  )

/**
 * Storage, organization and output options, shared by every command.
 *
 * @since 0.1.0
 */
export const storage = {
  db: flagOrEnv(
    Options.text("db").pipe(
      Options.withPseudoName("PATH"),
      Options.withDescription(`The SQLite file (default ${DEFAULT_DB}, env POLAR_EVENTS_DB).`)
    ),
    envText("POLAR_EVENTS_DB")
  ),
  pg: flagOrEnv(
    Options.redacted("pg").pipe(
      Options.withPseudoName("URL"),
      Options.withDescription("Use PostgreSQL at this URL instead of SQLite (env POLAR_EVENTS_PG_URL).")
    ),
    Config.map(envText("POLAR_EVENTS_PG_URL"), Redacted.make)
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
    Options.withFallbackConfig(Config.map(envText("POLAR_ACCESS_TOKEN"), Redacted.make)),
    Options.optional
  ),
  server: Options.text("server").pipe(
    Options.withPseudoName("production|sandbox|URL"),
    Options.withDescription("Where Polar is: production (default), sandbox, or a base URL (env POLAR_SERVER)."),
    Options.withFallbackConfig(envText("POLAR_SERVER")),
    Options.withDefault("production")
  )
}

/** The parsed storage options of a command. @since 0.1.0 */
export interface StorageInput {
  readonly db: Option.Option<Sourced<string>>
  readonly pg: Option.Option<Sourced<Redacted.Redacted<string>>>
  readonly org: Option.Option<string>
  readonly json: boolean
  readonly verbose: boolean
}

/** The parsed remote options of a command. @since 0.1.0 */
export interface RemoteInput {
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly server: string
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

/**
 * Resolves the storage options: flags first (`--pg` and `--db` together are
 * a usage error), then `POLAR_EVENTS_PG_URL` / `POLAR_EVENTS_DB` (read by
 * the options themselves), then the default SQLite file.
 *
 * @since 0.1.0
 */
export const resolve = (input: StorageInput): Effect.Effect<Settings, UsageError> =>
  Effect.gen(function*() {
    const db = Option.getOrUndefined(input.db)
    const pg = Option.getOrUndefined(input.pg)
    if (db?.explicit === true && pg?.explicit === true) {
      return yield* new UsageError({ message: "--db and --pg cannot be used together" })
    }
    const database: Database = pg !== undefined && (pg.explicit || db?.explicit !== true)
      ? { _tag: "pg", url: pg.value }
      : { _tag: "sqlite", filename: db?.value ?? DEFAULT_DB }
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
    if (Option.isNone(input.token)) {
      return yield* new UsageError({ message: "a Polar access token is needed: pass --token or set POLAR_ACCESS_TOKEN" })
    }
    const token = input.token.value
    const server = input.server
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
