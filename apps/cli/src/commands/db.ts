/**
 * `polar-events db info` and `db migrate`: what is in the local database
 * and bringing its schema up to date.
 *
 * @internal
 */
import { Command } from "@effect/cli"
import { SqlEventStore } from "@polar-events/store/sql"
import { Console, Effect, Option } from "effect"
import * as fs from "node:fs"
import { CommandError } from "../CliError.js"
import { CliSettings, describeDatabase, storage } from "../GlobalOptions.js"
import * as Output from "../Output.js"
import * as Storage from "../Storage.js"
import { withDatabase, withSettings } from "../internal/context.js"

const dbFailure = (what: string) => (e: unknown) =>
  new CommandError({ message: `${what}: ${(e as Error).message ?? String(e)}`, cause: e })

interface Info {
  readonly database: string
  readonly kind: "sqlite" | "postgresql"
  readonly exists: boolean
  readonly sizeBytes?: number
  readonly schemaVersion: number
  readonly latestSchemaVersion: number
  readonly defaultOrganizationId: string | null
  readonly events: number
  readonly organizations: ReadonlyArray<{ readonly id: string; readonly events: number }>
}

const print = (info: Info, json: boolean) => {
  if (json) return Console.log(JSON.stringify(info))
  const lines = [
    `database:        ${info.database} (${info.kind})`,
    ...(info.exists ? [] : ["                 not created yet: the first command that stores events creates it"]),
    ...(info.sizeBytes === undefined ? [] : [`size:            ${(info.sizeBytes / 1024 / 1024).toFixed(1)} MB`]),
    `schema version:  ${info.schemaVersion} of ${info.latestSchemaVersion}${
      info.exists && info.schemaVersion < info.latestSchemaVersion ? " (run: polar-events db migrate)" : ""
    }`,
    `default org:     ${info.defaultOrganizationId ?? "(none yet)"}`,
    `events:          ${Output.count(info.events)}`,
    ...info.organizations.map((o) => `  ${o.id}  ${Output.count(o.events)}`)
  ]
  return Console.log(lines.join("\n"))
}

const fileSize = (filename: string): number | undefined => {
  let total = 0
  let found = false
  for (const f of [filename, `${filename}-wal`]) {
    try {
      total += fs.statSync(f).size
      found = true
    } catch {
      // absent
    }
  }
  return found ? total : undefined
}

const gather = Effect.gen(function*() {
  const settings = yield* CliSettings
  const version = yield* SqlEventStore.schemaVersion.pipe(Effect.orElseSucceed(() => 0))
  const meta = yield* Storage.makeMeta
  const org = yield* meta.get(Storage.DEFAULT_ORG_KEY)
  // the store's own count (its `stats`), read without opening the store, which would migrate
  const stats = version === 0
    ? { events: 0, organizations: [] }
    : yield* SqlEventStore.stats.pipe(Effect.mapError(dbFailure("cannot count events")))
  const info: Info = {
    database: describeDatabase(settings.database),
    kind: settings.database._tag === "sqlite" ? "sqlite" : "postgresql",
    exists: true,
    ...(settings.database._tag === "sqlite" ? { sizeBytes: fileSize(settings.database.filename) ?? 0 } : {}),
    schemaVersion: version,
    latestSchemaVersion: SqlEventStore.latestSchemaVersion,
    defaultOrganizationId: Option.getOrNull(org),
    events: stats.events,
    organizations: stats.organizations.map((o) => ({ id: o.organizationId, events: o.events }))
  }
  return info
})

const info = Command.make("info", { ...storage }, (input) =>
  withSettings(
    input,
    Effect.gen(function*() {
      const settings = yield* CliSettings
      if (settings.database._tag === "sqlite" && !fs.existsSync(settings.database.filename)) {
        return yield* print({
          database: describeDatabase(settings.database),
          kind: "sqlite",
          exists: false,
          schemaVersion: 0,
          latestSchemaVersion: SqlEventStore.latestSchemaVersion,
          defaultOrganizationId: null,
          events: 0,
          organizations: []
        }, settings.json)
      }
      const result = yield* gather.pipe(Effect.provide(Storage.clientOnly))
      yield* print(result, settings.json)
    })
  )).pipe(Command.withDescription("Show the database, its schema version and how many events it holds."))

const migrate = Command.make("migrate", { ...storage }, (input) =>
  withDatabase(
    input,
    Effect.gen(function*() {
      const settings = yield* CliSettings
      const version = yield* SqlEventStore.schemaVersion.pipe(Effect.mapError(dbFailure("cannot read the schema version")))
      const org = yield* Storage.Organization
      const database = describeDatabase(settings.database)
      yield* Console.log(
        settings.json
          ? JSON.stringify({ database, schemaVersion: version, organizationId: org })
          : `${database}: schema version ${version} (up to date)`
      )
    })
  )).pipe(Command.withDescription("Create the database or bring its schema up to date."))

/**
 * `polar-events db`.
 *
 * @internal
 */
export const db = Command.make("db").pipe(
  Command.withDescription("Inspect or migrate the local database."),
  Command.withSubcommands([info, migrate])
)
