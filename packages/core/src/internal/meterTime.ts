/**
 * PostgreSQL's `date_trunc(field, timestamptz, zone)` and the bucket series of
 * Polar's `/quantities`, computed with `Intl.DateTimeFormat` offsets.
 *
 * Rules copied from PostgreSQL (`timestamptz_trunc_internal`,
 * `DetermineTimeZoneOffset`):
 * - `hour` zeroes minutes and seconds of the local wall time and keeps the
 *   UTC offset of the original instant (no re-resolution), so in a repeated
 *   hour 01:30 EDT truncates to 01:00 EDT and 01:30 EST to 01:00 EST.
 * - `day`, `week` (Monday), `month` and `year` build the local wall time at
 *   midnight and resolve it again in the zone. A wall time that does not exist
 *   (spring-forward gap) takes the offset in force before the transition; one
 *   that exists twice (fall-back) takes the offset in force after it.
 */

/** @internal */
export type Interval = "year" | "month" | "week" | "day" | "hour"

const HOUR = 3_600_000
const DAY = 86_400_000

const formatters = new Map<string, Intl.DateTimeFormat>()

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** @internal */
export const isTimeZone = (timeZone: string): boolean => {
  if (formatters.has(timeZone)) return true
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

/** Epoch milliseconds of a proleptic-Gregorian UTC wall time, years 0–99 included. @internal */
export const utcFromFields = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => {
  const t = Date.UTC(y, mo, d, h, mi, s)
  if (y >= 0 && y < 100) {
    const date = new Date(t)
    date.setUTCFullYear(date.getUTCFullYear() - 1900)
    return date.getTime()
  }
  return t
}

const mod = (a: number, n: number) => ((a % n) + n) % n

const computeOffset = (timeZone: string, ms: number): number => {
  const parts = formatterFor(timeZone).formatToParts(new Date(ms))
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, bc = false
  for (const p of parts) {
    switch (p.type) {
      case "year": y = +p.value; break
      case "month": mo = +p.value; break
      case "day": d = +p.value; break
      case "hour": h = +p.value; break
      case "minute": mi = +p.value; break
      case "second": s = +p.value; break
      case "era": bc = p.value === "BC" || p.value === "B"; break
    }
  }
  if (bc) y = 1 - y
  return utcFromFields(y, mo - 1, d, h, mi, s) - (ms - mod(ms, 1000))
}

const CACHE_LIMIT = 100_000
const offsetCache = new Map<string, Map<number, number>>()

/**
 * The zone's UTC offset in milliseconds at an instant (local = utc + offset).
 * Cached per UTC hour when the offset is the same at both ends of the hour.
 *
 * @internal
 */
export const offsetAt = (timeZone: string, ms: number): number => {
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return 0
  const hour = Math.floor(ms / HOUR)
  let cache = offsetCache.get(timeZone)
  if (cache === undefined) {
    cache = new Map()
    offsetCache.set(timeZone, cache)
  }
  const hit = cache.get(hour)
  if (hit !== undefined) return hit
  const start = hour * HOUR
  const a = computeOffset(timeZone, start)
  const b = computeOffset(timeZone, start + HOUR - 1)
  if (a !== b) return computeOffset(timeZone, ms)
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(hour, a)
  return a
}

/**
 * The instant of a local wall time (given as UTC-field epoch milliseconds),
 * resolved the way PostgreSQL does: a gap takes the earlier offset, an
 * overlap the later one.
 *
 * @internal
 */
export const resolveLocal = (timeZone: string, wall: number): number => {
  const before = offsetAt(timeZone, wall - DAY)
  const after = offsetAt(timeZone, wall + DAY)
  const tBefore = wall - before
  const tAfter = wall - after
  const beforeOk = offsetAt(timeZone, tBefore) === before
  if (before === after) {
    if (beforeOk) return tBefore
    const guess = wall - offsetAt(timeZone, wall)
    return wall - offsetAt(timeZone, guess)
  }
  const afterOk = offsetAt(timeZone, tAfter) === after
  if (beforeOk && afterOk) return tAfter
  if (afterOk) return tAfter
  return tBefore
}

const wallFields = (wall: number) => {
  const d = new Date(wall)
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), dow: d.getUTCDay() }
}

/** The local wall time (UTC fields) at which the bucket holding `ms` starts. @internal */
const truncatedWall = (wall: number, interval: Exclude<Interval, "hour">): number => {
  const f = wallFields(wall)
  switch (interval) {
    case "day":
      return utcFromFields(f.y, f.mo, f.d)
    case "week":
      return utcFromFields(f.y, f.mo, f.d - ((f.dow + 6) % 7))
    case "month":
      return utcFromFields(f.y, f.mo, 1)
    case "year":
      return utcFromFields(f.y, 0, 1)
  }
}

/** `date_trunc(interval, ms, timeZone)` in epoch milliseconds. @internal */
export const truncateMs = (ms: number, interval: Interval, timeZone: string): number => {
  const offset = offsetAt(timeZone, ms)
  const wall = ms + offset
  if (interval === "hour") return Math.floor(wall / HOUR) * HOUR - offset
  return resolveLocal(timeZone, truncatedWall(wall, interval))
}

/**
 * The bucket starts from the bucket holding `startMs` while they are not
 * after `endMs`: PostgreSQL's `generate_series` stepped by one interval in
 * the zone, every element truncated.
 *
 * @internal
 */
export const bucketStarts = (
  startMs: number,
  endMs: number,
  interval: Interval,
  timeZone: string
): Array<number> => {
  const out: Array<number> = []
  if (!(startMs <= endMs)) return out
  if (interval === "hour") {
    let b = truncateMs(startMs, "hour", timeZone)
    while (b <= endMs) {
      out.push(b)
      let next = truncateMs(b + HOUR, "hour", timeZone)
      if (next <= b) next = b + HOUR
      b = next
    }
    return out
  }
  const first = truncatedWall(startMs + offsetAt(timeZone, startMs), interval)
  const f = wallFields(first)
  for (let k = 0; ; k++) {
    let wall: number
    switch (interval) {
      case "day": wall = utcFromFields(f.y, f.mo, f.d + k); break
      case "week": wall = utcFromFields(f.y, f.mo, f.d + 7 * k); break
      case "month": wall = utcFromFields(f.y, f.mo + k, 1); break
      case "year": wall = utcFromFields(f.y + k, 0, 1); break
    }
    const b = resolveLocal(timeZone, wall)
    if (b > endMs) return out
    out.push(b)
  }
}
