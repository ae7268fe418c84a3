/**
 * Running the CLI's services in-process: the settings of a SQLite file in a
 * temporary folder, the store opened over it as the commands open it, and a
 * Console whose lines are kept.
 */
import { Console, Effect, Layer, Option } from "effect"
import { CliSettings, type Settings } from "../../src/GlobalOptions.js"
import * as Storage from "../../src/Storage.js"

/** The settings of a run on a SQLite file in an organization. */
export const sqliteSettings = (filename: string, org: string): Settings => ({
  database: { _tag: "sqlite", filename },
  org: Option.some(org),
  json: false,
  verbose: false,
  color: false,
  colorErr: false
})

/** The store, the CLI's table and the organization over a SQLite file, as `withDatabase` opens them. */
export const storage = (filename: string, org: string, options: { readonly writeThread?: boolean } = {}) =>
  Storage.make(options).pipe(Layer.provide(Layer.succeed(CliSettings, sqliteSettings(filename, org))))

/** Runs an effect with a Console that keeps what it prints: `out` (log) and `err` (error) lines. */
export const captured = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const base = yield* Effect.console
    const keep = (into: Array<string>) => (...xs: ReadonlyArray<unknown>) =>
      Effect.sync(() => {
        into.push(...xs.map(String).join(" ").split("\n"))
      })
    const console: Console.Console = { ...base, log: keep(out), info: keep(out), error: keep(err), warn: keep(err) }
    const result = yield* Effect.withConsole(effect, console)
    return { result, out, err }
  })
