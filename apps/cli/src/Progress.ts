/**
 * Progress of long commands (`import`, `export`, `push`, `pull`) on stderr:
 * a bar with rate and ETA redrawn in place on a terminal, plain lines every
 * few seconds otherwise (logs, CI, pipes).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { colorsEnabled, count, styles } from "./Output.js"

/**
 * A progress reporter.
 *
 * @since 0.1.0
 */
export interface Progress {
  /**
   * Reports `done` items; `fraction` (0..1) is how far along the whole job
   * is when that is known (bytes read of a file, items of a known total).
   */
  readonly update: (done: number, fraction?: number) => void
  /** Changes what is being done, e.g. from "validating" to "importing". */
  readonly phase: (label: string) => void
  /** Clears the bar (on a terminal) so that other output can follow. */
  readonly clear: () => void
  /** Ends the progress with a last line. */
  readonly done: (line?: string) => void
}

/**
 * Options of a progress reporter.
 *
 * @since 0.1.0
 */
export interface ProgressOptions {
  /** what is done, e.g. "importing" */
  readonly label: string
  /** what is counted, e.g. "events" */
  readonly unit: string
  /** draw a bar (default: stderr is a terminal) */
  readonly tty?: boolean | undefined
  /** seconds between plain lines (default 2) */
  readonly every?: number | undefined
  /** write nothing at all */
  readonly silent?: boolean | undefined
}

const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "?"
  if (seconds < 60) return `${Math.ceil(seconds)}s`
  const m = Math.floor(seconds / 60)
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

/** Seconds as a short duration, e.g. `4s`, `2m05s`. @since 0.1.0 */
export const formatDuration = duration

/**
 * A progress reporter on stderr.
 *
 * @since 0.1.0
 */
export const make = (options: ProgressOptions): Progress => {
  // raw writes, not `Console`: the bar is redrawn in place (no line end) from import's hot loop, synchronously
  const stream = process.stderr
  const tty = options.tty ?? stream.isTTY === true
  const every = (options.every ?? 2) * 1000
  const s = styles(colorsEnabled(stream))
  const start = Date.now()
  let label = options.label
  let last = 0
  let drawn = false
  let phaseStart = start
  const write = (text: string) => {
    if (!options.silent) stream.write(text)
  }
  const rate = (done: number) => {
    const seconds = (Date.now() - phaseStart) / 1000
    return seconds > 0 ? done / seconds : 0
  }
  const text = (done: number, fraction: number | undefined, bar: boolean) => {
    const r = rate(done)
    const parts = [`${label}: ${count(done)} ${options.unit}`]
    if (fraction !== undefined) parts.push(`${Math.floor(fraction * 100)}%`)
    parts.push(`${count(Math.round(r))}/s`)
    if (fraction !== undefined && fraction > 0 && fraction < 1) {
      const elapsed = (Date.now() - phaseStart) / 1000
      parts.push(`ETA ${duration((elapsed / fraction) * (1 - fraction))}`)
    }
    if (!bar || fraction === undefined) return parts.join(", ")
    const width = 24
    const filled = Math.min(width, Math.round(fraction * width))
    return `${s.cyan("█".repeat(filled))}${s.dim("░".repeat(width - filled))} ${parts.join("  ")}`
  }
  const clear = () => {
    if (tty && drawn) {
      write("\r\u001b[2K")
      drawn = false
    }
  }
  return {
    update: (done, fraction) => {
      const now = Date.now()
      if (tty) {
        if (now - last < 100) return
        last = now
        write(`\r\u001b[2K${text(done, fraction, true)}`)
        drawn = true
        return
      }
      if (now - last < every) return
      // the first line of a phase comes `every` into it, so that its rate means something
      if (last === 0 && now - phaseStart < every) return
      last = now
      write(text(done, fraction, false) + "\n")
    },
    phase: (next) => {
      clear()
      label = next
      phaseStart = Date.now()
      last = 0
    },
    clear,
    done: (line) => {
      clear()
      if (line !== undefined) write(line + "\n")
    }
  }
}

/**
 * Runs an effect with a progress reporter that is cleared however the
 * effect ends.
 *
 * @since 0.1.0
 */
export const withProgress = <A, E, R>(
  options: ProgressOptions,
  f: (progress: Progress) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => make(options)),
    f,
    (progress) => Effect.sync(() => progress.clear())
  )
