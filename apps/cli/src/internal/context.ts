/**
 * Running a command's work with its settings and its opened database.
 *
 * @internal
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import type { CommandError, UsageError } from "../CliError.js"
import { CliSettings, resolve, storage, type StorageInput } from "../GlobalOptions.js"
import * as Storage from "../Storage.js"

/** Runs `effect` with the settings of the storage flags and the opened store. @internal */
export const withDatabase = <A, E, R>(
  input: StorageInput,
  effect: Effect.Effect<A, E, R>,
  options?: { readonly writeThread?: boolean | undefined }
): Effect.Effect<A, E | UsageError | CommandError, Exclude<R, Storage.Services | CliSettings>> =>
  Effect.flatMap(resolve(input), (settings) =>
    effect.pipe(
      Effect.provide(options === undefined ? Storage.layer : Storage.make(options)),
      Effect.provideService(CliSettings, settings)
    )) as Effect.Effect<A, E | UsageError | CommandError, Exclude<R, Storage.Services | CliSettings>>

/** Runs `effect` with the settings of the storage flags only (no database). @internal */
export const withSettings = <A, E, R>(
  input: StorageInput,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | UsageError, Exclude<R, CliSettings>> =>
  Effect.flatMap(resolve(input), (settings) => Effect.provideService(effect, CliSettings, settings))

/**
 * The one preamble of a command over the local store: the storage options
 * beside its own, settings resolved, the store opened (and closed), every
 * failure left to `bin.ts` to render.
 *
 * @internal
 */
export const storeCommand = <Name extends string, const Config extends Command.Command.Config, A, E, R>(
  name: Name,
  config: Config,
  handler: (input: Command.Command.ParseConfig<Config> & StorageInput) => Effect.Effect<A, E, R>,
  options?: { readonly writeThread?: boolean | undefined }
) =>
  Command.make(
    name,
    { ...storage, ...config },
    (input) =>
      withDatabase(
        input as unknown as StorageInput,
        handler(input as unknown as Command.Command.ParseConfig<Config> & StorageInput),
        options
      )
  )
