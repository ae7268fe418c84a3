/**
 * The shared shape of a benchmark: every module measures ours and a raw
 * baseline in the same run and returns rows for one table.
 */
export interface Row {
  /** what was measured, e.g. "core: decode 1M wire events" */
  readonly what: string
  /** our figure */
  readonly ours: number
  /** the raw baseline measured in the same run (NaN when there is none) */
  readonly baseline: number
  /** the unit of both figures, e.g. "events/s", "ms", "MB" */
  readonly unit: string
  /** "higher" when bigger is better (rates), "lower" for latencies and memory */
  readonly better: "higher" | "lower"
  /** name of the baseline, e.g. "JSON.parse only" */
  readonly baselineName: string
  /** the target, as text, e.g. ">= 250,000 events/s" */
  readonly target?: string
  /** extra figures for the notes column */
  readonly note?: string
}

/** Ratio ours/baseline, oriented so that above 1 is better than the baseline. */
export const ratio = (row: Row): number =>
  !Number.isFinite(row.baseline) || row.baseline === 0
    ? NaN
    : row.better === "higher" ? row.ours / row.baseline : row.baseline / row.ours

/** Wall-clock seconds of a synchronous function. */
export const time = (f: () => void): number => {
  const t0 = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** Wall-clock seconds of an async function. */
export const timeAsync = async (f: () => Promise<void>): Promise<number> => {
  const t0 = process.hrtime.bigint()
  await f()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** The median of a list of numbers. */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** A percentile (0..100) of a list of numbers. */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/**
 * The raw SQLite export of the benches' child programs (plain JavaScript):
 * every row of `pe_events` from the better-sqlite3 connection `db` as a JSON
 * line through `write`, counted in `count`.
 */
export const rawSqliteExportLoop = (db: string): string => `
for (const r of ${db}.prepare("SELECT * FROM pe_events ORDER BY org, ts, id").iterate()) {
  count++
  r.metadata = JSON.parse(r.metadata)
  r.id = r.id.toString("hex")
  await write(JSON.stringify(r) + "\\n")
}`
