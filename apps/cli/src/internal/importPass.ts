/**
 * One pass of an import over a byte source: decode, parse in batches,
 * prepare each batch (check, and build what the store takes) and hand it
 * on, keeping the heap down while it streams.
 *
 * @internal
 */
import { Effect } from "effect"
import { CommandError } from "../CliError.js"
import { governor } from "./memory.js"
import { prepare, type Prepared, type PrepareOptions } from "./prepare.js"
import { decodeUtf8, type Format, InputError, records } from "./readers.js"

/** Records parsed and prepared at a time. @internal */
export const PARSE_BATCH = 500

/** The heap kept while streaming (see `internal/memory.ts`). */
const HEAP_CEILING_MIB = 64

/**
 * Runs one pass: every prepared batch goes to `onBatch`; `lineOffset` is
 * added to line numbers (a part that starts inside the file).
 *
 * @internal
 */
export const pass = <E, R>(
  source: AsyncIterable<Buffer>,
  format: Format,
  options: PrepareOptions,
  onBytes: (n: number) => void,
  onBatch: (batch: Prepared) => Effect.Effect<void, E, R>,
  lineOffset = 0
): Effect.Effect<void, E | CommandError, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => records(decodeUtf8(source, onBytes), format, PARSE_BATCH)),
    (iterator) =>
      Effect.gen(function*() {
        const relieve = governor(HEAP_CEILING_MIB)
        while (true) {
          relieve()
          const next = yield* Effect.tryPromise({
            try: () => iterator.next(),
            catch: (e) =>
              e instanceof InputError
                ? new CommandError({ message: e.message, cause: e })
                : new CommandError({ message: `cannot read the input: ${(e as Error).message}`, cause: e })
          })
          if (next.done === true) return
          if (lineOffset > 0) for (const item of next.value) (item as { line: number }).line += lineOffset
          yield* onBatch(prepare(next.value, options))
        }
      }),
    (iterator) => Effect.promise(() => iterator.return(undefined)).pipe(Effect.ignore)
  )
