/**
 * The work of `polar-events import FILE|-`: reads NDJSON, a JSON array or
 * CSV in constant memory, checks every record, reports every bad line, and
 * writes through the store's bulk path in large pipelined transactions.
 *
 * - By default nothing is written unless every line is good: a first pass
 *   checks the whole input (stdin is spooled to a temporary file for the
 *   second pass; a large NDJSON file is checked in two parts at once), a
 *   second one writes.
 * - `skipInvalid` reads once and writes the good records.
 * - `dryRun` only checks.
 *
 * Running the same import again never stores an event twice: stored events
 * keep their id (the store is idempotent by id), and an event to ingest
 * without `external_id` gets one derived from its text and line.
 *
 * @since 0.1.0
 */
import { EventStore } from "@polar-events/store"
import { Console, Effect, Option } from "effect"
import { type CommandError, Reported } from "./CliError.js"
import * as ImportSource from "./internal/importSource.js"
import { checkSplit } from "./internal/importWorker.js"
import * as ImportWriter from "./internal/importWriter.js"
import { pass } from "./internal/importPass.js"
import { formatProblems, type Prepared, type Problem } from "./internal/prepare.js"
import type { Format } from "./internal/readers.js"
import * as Output from "./Output.js"
import * as Progress from "./Progress.js"
import { Organization } from "./Storage.js"

/**
 * What to import and how.
 *
 * @since 0.1.0
 */
export interface ImportOptions {
  /** a file, or `-` for stdin */
  readonly file: string
  /** default: from the extension or the first character */
  readonly format: Option.Option<Format>
  readonly skipInvalid: boolean
  readonly dryRun: boolean
  /** events per transaction */
  readonly batchSize: number
  /** show progress on stderr */
  readonly progress: boolean
  /** color the places of problems on stderr */
  readonly color: boolean
}

/**
 * The counters of an import.
 *
 * @since 0.1.0
 */
export interface Stats {
  records: number
  valid: number
  invalid: number
  inserted: number
  duplicates: number
}

/**
 * How an import ended: `Imported` (or checked, for a dry run), `Invalid`
 * (bad records and nothing written, or `dryRun`), or `Changed` (the input
 * read differently in the writing pass).
 *
 * @since 0.1.0
 */
export type ImportReport =
  | { readonly _tag: "Imported"; readonly stats: Stats; readonly seconds: number; readonly eventsPerSecond: number }
  | { readonly _tag: "Invalid"; readonly stats: Stats }
  | { readonly _tag: "Changed"; readonly stats: Stats; readonly written: number; readonly changed: number }

/** Counts bytes read against the input's size for the progress line. */
const byteMeter = (size: number | undefined) => {
  let bytes = 0
  return {
    onBytes: (n: number) => {
      bytes += n
    },
    reset: () => {
      bytes = 0
    },
    fraction: () => (size !== undefined && size > 0 ? Math.min(1, bytes / size) : undefined)
  }
}

type Meter = ReturnType<typeof byteMeter>

/** Prints problems on stderr (after clearing the progress line). */
const reporter = (progress: Progress.Progress, color: boolean) => {
  const red = Output.styles(color).red
  return (problems: ReadonlyArray<Problem>): Effect.Effect<void> =>
    problems.length === 0 ? Effect.void : Effect.suspend(() => {
      progress.clear()
      return Console.error(formatProblems(problems, red).slice(0, -1))
    })
}

/** The parts of one import run. */
interface Run {
  readonly options: ImportOptions
  readonly organizationId: string
  readonly now: Date
  readonly source: ImportSource.Source
  readonly stats: Stats
  readonly progress: Progress.Progress
  readonly meter: Meter
  readonly writer: ImportWriter.Writer
  readonly report: (problems: ReadonlyArray<Problem>) => Effect.Effect<void>
}

const writesNow = (options: ImportOptions): boolean => options.skipInvalid && !options.dryRun

/** The first pass: checks every record (and, with `skipInvalid`, writes the good ones). */
const checkPass = (run: Run): Effect.Effect<void, CommandError | ImportWriter.StoreFailure> => {
  const { meter, options, progress, source, stats } = run
  const writeNow = writesNow(options)
  const onBatch = (batch: Prepared) =>
    Effect.gen(function*() {
      stats.records += batch.records
      stats.valid += batch.valid
      stats.invalid += batch.problems.length
      yield* run.report(batch.problems)
      if (writeNow) yield* run.writer.add(batch)
      progress.update(stats.records, meter.fraction())
    })
  const prepare = { organizationId: run.organizationId, now: run.now, checkOnly: !writeNow }
  if (source.split === undefined || source.file === undefined) {
    return pass(source.first, source.format, prepare, meter.onBytes, onBatch)
  }
  return checkSplit({
    file: source.file,
    split: source.split,
    format: source.format,
    first: source.first,
    options: prepare,
    color: options.color,
    onBytes: meter.onBytes,
    onBatch,
    beforeProblems: () => progress.clear(),
    onWorker: (checked) => {
      stats.records += checked.records
      stats.valid += checked.valid
      stats.invalid += checked.invalid
      progress.update(stats.records, meter.fraction())
    }
  })
}

/** The second pass of an all-or-nothing import: reads the input again and writes it. */
const writePass = (
  run: Run,
  again: () => AsyncIterable<Buffer>
): Effect.Effect<ImportReport | undefined, CommandError | ImportWriter.StoreFailure> =>
  Effect.gen(function*() {
    const { meter, progress, stats } = run
    progress.phase("importing")
    meter.reset()
    let written = 0
    let changed = 0
    const prepare = { organizationId: run.organizationId, now: run.now, checkOnly: false }
    yield* pass(again(), run.source.format, prepare, meter.onBytes, (batch) =>
      Effect.gen(function*() {
        written += batch.records
        changed += batch.problems.length
        yield* run.report(batch.problems)
        yield* run.writer.add(batch)
        progress.update(written, meter.fraction())
      }))
    yield* run.writer.finish
    return changed > 0 || written !== stats.records ? { _tag: "Changed", stats, written, changed } : undefined
  })

/** Both passes, under a progress reporter; `undefined` when all went well. */
const passes = (
  options: ImportOptions,
  organizationId: string,
  store: EventStore.EventStore.Service,
  source: ImportSource.Source,
  stats: Stats
) =>
  Progress.withProgress(
    { label: writesNow(options) ? "importing" : "checking", unit: "records", silent: !options.progress },
    (progress) =>
      Effect.gen(function*() {
        const writer = ImportWriter.make(store, organizationId, options.batchSize)
        const run: Run = {
          options,
          organizationId,
          now: new Date(),
          source,
          stats,
          progress,
          meter: byteMeter(source.size),
          writer,
          report: reporter(progress, options.color)
        }
        yield* checkPass(run)
        source.endSpool()
        if (writesNow(options)) yield* writer.finish
        Object.assign(stats, { inserted: writer.written.inserted, duplicates: writer.written.duplicates })
        if (stats.invalid > 0 && !options.skipInvalid) return { _tag: "Invalid", stats } as const
        if (options.skipInvalid || options.dryRun || source.again === undefined) return undefined
        const changed = yield* writePass(run, source.again)
        Object.assign(stats, { inserted: writer.written.inserted, duplicates: writer.written.duplicates })
        return changed
      })
  )

/**
 * The importer, over the store and organization in context.
 *
 * @since 0.1.0
 */
export class Importer extends Effect.Service<Importer>()("polar-events/Importer", {
  effect: Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const organizationId = yield* Organization
    const run = (options: ImportOptions) =>
      Effect.scoped(Effect.gen(function*() {
        const started = Date.now()
        const twoPass = !options.skipInvalid && !options.dryRun
        const source = yield* ImportSource.open({
          file: options.file,
          format: options.format,
          twoPass,
          maySplit: !writesNow(options)
        })
        const stats: Stats = { records: 0, valid: 0, invalid: 0, inserted: 0, duplicates: 0 }
        const failed = yield* passes(options, organizationId, store, source, stats)
        if (failed !== undefined) return failed
        const seconds = (Date.now() - started) / 1000
        const eventsPerSecond = seconds > 0 ? Math.round(stats.valid / seconds) : stats.valid
        return { _tag: "Imported", stats, seconds, eventsPerSecond } satisfies ImportReport
      }))
    return {
      /** Runs one import and says how it ended; problems are printed on stderr as they are found. */
      run: (options: ImportOptions): Effect.Effect<ImportReport, CommandError | ImportWriter.StoreFailure> =>
        run(options)
    }
  })
}) {}

/**
 * Prints how an import ended (a summary line, or JSON) and fails with
 * `Reported` (exit 1) when it did not import.
 *
 * @since 0.1.0
 */
export const render = (
  report: ImportReport,
  options: { readonly json: boolean; readonly dryRun: boolean }
): Effect.Effect<void, Reported> => {
  const { stats } = report
  switch (report._tag) {
    case "Invalid": {
      const what = `${Output.count(stats.invalid)} of ${Output.count(stats.records)} records ${
        stats.invalid === 1 ? "is" : "are"
      } invalid`
      return Console.error(
        `error: ${what}; ${options.dryRun ? "an import would write nothing" : "nothing was imported"} ` +
          `(fix them, or pass --skip-invalid to import the ${Output.count(stats.valid)} valid ones)`
      ).pipe(
        Effect.zipRight(options.json ? Console.log(JSON.stringify({ ...stats, imported: false })) : Effect.void),
        Effect.zipRight(new Reported({ exitCode: 1 }))
      )
    }
    case "Changed":
      return Console.error(
        `error: the input changed while it was imported (${Output.count(report.written)} records instead of ` +
          `${Output.count(stats.records)}, ${Output.count(report.changed)} invalid ones skipped); check what was stored`
      ).pipe(Effect.zipRight(new Reported({ exitCode: 1 })))
    case "Imported":
      return Console.log(summary(report, options))
  }
}

/** The line (or JSON) of a finished import. */
const summary = (
  report: Extract<ImportReport, { _tag: "Imported" }>,
  options: { readonly json: boolean; readonly dryRun: boolean }
): string => {
  const { seconds, stats } = report
  if (options.json) {
    return JSON.stringify({ ...stats, dryRun: options.dryRun, seconds, eventsPerSecond: report.eventsPerSecond })
  }
  if (options.dryRun) {
    return `dry run: ${Output.count(stats.valid)} valid events` +
      (stats.invalid > 0 ? `, ${Output.count(stats.invalid)} invalid records` : "") + "; nothing written"
  }
  const head = `imported ${Output.count(stats.valid)} event${stats.valid === 1 ? "" : "s"} in ${seconds.toFixed(1)}s (${
    Output.count(report.eventsPerSecond)
  }/s)`
  const detail = [`${Output.count(stats.inserted)} new`]
  if (stats.duplicates > 0) detail.push(`${Output.count(stats.duplicates)} already stored`)
  if (stats.invalid > 0) detail.push(`${Output.count(stats.invalid)} invalid skipped`)
  return `${head}: ${detail.join(", ")}`
}
