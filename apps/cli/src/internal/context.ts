/**
 * Running a command's work with its settings and its opened database.
 *
 * @internal
 */
import { Effect } from "effect"
import type { CommandError, UsageError } from "../CliError.js"
import { CliSettings, resolve, type StorageInput } from "../GlobalOptions.js"
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
