/**
 * Writing results: a buffered writer that respects backpressure (so
 * `export` of a million events stays in constant memory), tables sized to
 * the terminal, CSV escaping, and colors only on a terminal without
 * `NO_COLOR`.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import type { Writable } from "node:stream"
import { Effect } from "effect"
import { CommandError } from "./CliError.js"

/**
 * True when colors may be used on a stream: it is a terminal and `NO_COLOR`
 * is unset or empty (https://no-color.org).
 *
 * @since 0.1.0
 */
export const colorsEnabled = (stream: { readonly isTTY?: boolean | undefined }): boolean => {
  const noColor = process.env.NO_COLOR
  return stream.isTTY === true && (noColor === undefined || noColor === "") && process.env.TERM !== "dumb"
}

/** Removes ANSI escape sequences. @since 0.1.0 */
export const stripAnsi = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "")

/**
 * Styles text for one stream (`bold`, `dim`, `red`, ...); identity when
 * colors are off.
 *
 * @since 0.1.0
 */
export const styles = (enabled: boolean) => {
  const wrap = (open: number, close: number) => (s: string) => enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39)
  }
}

/**
 * A buffered text writer: `write` collects text and flushes it in large
 * writes, waiting for `drain` when the stream is full. A closed pipe
 * (`| head`) ends the output quietly.
 *
 * @since 0.1.0
 */
export interface Writer {
  readonly write: (text: string) => Effect.Effect<void, CommandError>
  readonly flush: Effect.Effect<void, CommandError>
  /** true once the reader went away (EPIPE) */
  readonly closed: () => boolean
}

const FLUSH_AT = 64 * 1024

/**
 * A writer over a Node stream (stdout, or a file stream).
 *
 * @since 0.1.0
 */
export const makeWriter = (stream: Writable): Writer => {
  let buffer = ""
  let closed = false
  let failure: Error | undefined
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") closed = true
    else failure = e
  })
  const flush: Effect.Effect<void, CommandError> = Effect.suspend(() => {
    if (failure !== undefined) {
      return Effect.fail(new CommandError({ message: `cannot write output: ${failure.message}`, cause: failure }))
    }
    if (closed || buffer.length === 0) {
      buffer = ""
      return Effect.void
    }
    const text = buffer
    buffer = ""
    const ok = stream.write(text)
    if (ok) return Effect.void
    return Effect.async<void>((resume) => {
      const done = () => {
        stream.off("drain", done)
        stream.off("close", done)
        resume(Effect.void)
      }
      stream.on("drain", done)
      stream.on("close", done)
    })
  })
  return {
    write: (text) =>
      Effect.suspend(() => {
        if (closed) return Effect.void
        buffer += text
        return buffer.length >= FLUSH_AT ? flush : Effect.void
      }),
    flush,
    closed: () => closed
  }
}

/**
 * Opens a file for output (`--output FILE`) and closes it when the scope
 * ends; the file is written in full or the command fails.
 *
 * @since 0.1.0
 */
export const fileWriter = (path: string) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => fs.createWriteStream(path, { flags: "w" }),
      catch: (e) => new CommandError({ message: `cannot open ${path}: ${(e as Error).message}`, cause: e })
    }).pipe(
      Effect.flatMap((stream) =>
        Effect.async<Writable, CommandError>((resume) => {
          stream.once("open", () => resume(Effect.succeed(stream)))
          stream.once("error", (e) =>
            resume(Effect.fail(new CommandError({ message: `cannot open ${path}: ${e.message}`, cause: e }))))
        })
      )
    ),
    (stream) => Effect.async<void>((resume) => void stream.end(() => resume(Effect.void)))
  ).pipe(Effect.map(makeWriter))

/**
 * The process's stdout as a writer.
 *
 * @since 0.1.0
 */
export const stdout: Writer = makeWriter(process.stdout)

/**
 * A CSV cell: quoted when it holds a comma, a quote or a line break.
 *
 * @since 0.1.0
 */
export const csvCell = (s: string): string =>
  /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, "\"\"")}"` : s

/** One CSV record with its line end. @since 0.1.0 */
export const csvRow = (cells: ReadonlyArray<string>): string => cells.map(csvCell).join(",") + "\n"

/** The width of the terminal, or 120 when the output is not one. @since 0.1.0 */
export const terminalWidth = (): number => (process.stdout.isTTY ? process.stdout.columns ?? 120 : 160)

const visibleLength = (s: string): number => [...stripAnsi(s)].length

/** Cuts text to a width, with an ellipsis. @since 0.1.0 */
export const truncate = (s: string, width: number): string => {
  if (width <= 0) return ""
  const chars = [...s]
  return chars.length <= width ? s : chars.slice(0, Math.max(0, width - 1)).join("") + "…"
}

/**
 * A column of a table: its header, how to align it, and the most and
 * least it may take.
 *
 * @since 0.1.0
 */
export interface Column {
  readonly header: string
  readonly align?: "left" | "right"
  readonly max?: number
}

const pad = (s: string, width: number, align: "left" | "right" = "left") => {
  const gap = Math.max(0, width - visibleLength(s))
  return align === "right" ? " ".repeat(gap) + s : s + " ".repeat(gap)
}

/**
 * Column widths for some rows: each column as wide as its widest cell (up
 * to `max`), the last one shrunk to the terminal width.
 *
 * @since 0.1.0
 */
export const columnWidths = (
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  total: number = terminalWidth()
): Array<number> => {
  const widths = columns.map((c, i) =>
    Math.min(c.max ?? Number.POSITIVE_INFINITY, Math.max(c.header.length, ...rows.map((r) => visibleLength(r[i] ?? ""))))
  )
  const used = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1)
  if (used > total && widths.length > 0) {
    const last = widths.length - 1
    widths[last] = Math.max(columns[last]!.header.length, widths[last]! - (used - total))
  }
  return widths
}

/**
 * One table line for cells and widths (cells are cut to fit).
 *
 * @since 0.1.0
 */
export const tableLine = (
  columns: ReadonlyArray<Column>,
  widths: ReadonlyArray<number>,
  cells: ReadonlyArray<string>
): string =>
  cells.map((cell, i) => {
    const fitted = visibleLength(cell) > widths[i]! ? truncate(stripAnsi(cell), widths[i]!) : cell
    return i === cells.length - 1 && columns[i]?.align !== "right"
      ? fitted
      : pad(fitted, widths[i]!, columns[i]?.align)
  }).join("  ").trimEnd() + "\n"

/**
 * A whole table: a header line (bold when colors are on) and one line per
 * row.
 *
 * @since 0.1.0
 */
export const table = (
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  color: boolean
): string => {
  const widths = columnWidths(columns, rows)
  const s = styles(color)
  return s.bold(tableLine(columns, widths, columns.map((c) => c.header)).trimEnd()) + "\n" +
    rows.map((r) => tableLine(columns, widths, r)).join("")
}

/** A number with thousands separators. @since 0.1.0 */
export const count = (n: number): string => n.toLocaleString("en-US")

/** A quantity: integers as such, other numbers with up to 4 decimals. @since 0.1.0 */
export const quantity = (n: number): string =>
  Number.isInteger(n) ? count(n) : n.toLocaleString("en-US", { maximumFractionDigits: 4 })
