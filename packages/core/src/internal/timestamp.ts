/** Epoch milliseconds and the microseconds past them (0-999). @internal */
export interface Parts {
  readonly ms: number
  readonly micros: number
}

/** Why a string is not a timestamp, in pydantic's error types. @internal */
export type Failure = {
  readonly type: "datetime_from_date_parsing" | "timezone_aware"
  readonly msg: string
}
type ParseFailure = Failure

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -1000
}

const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1)

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
const daysFromCivil = (y: number, m: number, d: number): number => {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/**
 * The usual wire form `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` read without a
 * regular expression, or undefined for anything else (the caller then falls
 * back to `parseSlow`, which has the last word).
 *
 * @internal
 */
export const parseFast = (s: string): Parts | undefined => {
  const n = s.length
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return undefined
  }
  const t = s.charCodeAt(10)
  if (t !== 84 && t !== 116) return undefined
  const year = two(s, 0) * 100 + two(s, 2)
  const month = two(s, 5)
  const day = two(s, 8)
  const hour = two(s, 11)
  const minute = two(s, 14)
  const second = two(s, 17)
  if (
    year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
    second < 0 || second > 59
  ) return undefined
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  if (day > (month === 2 && leap ? 29 : DAYS[month - 1]!)) return undefined
  let i = 19
  let frac = 0
  if (s.charCodeAt(i) === 46) {
    i++
    let k = 0
    for (; i < n && k < 9; i++, k++) {
      const d = digit(s, i)
      if (d < 0) break
      if (k < 6) frac = frac * 10 + d
    }
    if (k === 0) return undefined
    for (; k < 6; k++) frac *= 10
  }
  let offsetMinutes = 0
  const z = s.charCodeAt(i)
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return undefined
  } else if (z === 43 || z === 45) {
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return undefined
    const oh = two(s, i + 1)
    const om = two(s, i + 4)
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined
    offsetMinutes = (oh * 60 + om) * (z === 45 ? -1 : 1)
  } else {
    return undefined
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
  return { ms: seconds * 1000 + Math.floor(frac / 1000), micros: frac % 1000 }
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0

/**
 * Any ISO-8601 date-time pydantic accepts in the forms we support, by regular
 * expression.
 *
 * @internal
 */
export const parseSlow = (s: string): Parts | ParseFailure => {
  const m = ISO.exec(s)
  if (m === null) {
    return { type: "datetime_from_date_parsing", msg: "Input should be a valid datetime" }
  }
  const year = +m[1]!, month = +m[2]!, day = +m[3]!, hour = +m[4]!, minute = +m[5]!
  const second = m[6] === undefined ? 0 : +m[6]
  if (
    month < 1 || month > 12 || day < 1 ||
    day > (month === 2 && isLeap(year) ? 29 : DAYS[month - 1]!) ||
    hour > 23 || minute > 59 || second > 59
  ) {
    return { type: "datetime_from_date_parsing", msg: "Input should be a valid datetime" }
  }
  if (m[8] === undefined && m[9] === undefined) {
    return { type: "timezone_aware", msg: "Input should have timezone info" }
  }
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const oh = +m[10]!, om = +m[11]!
    if (oh > 23 || om > 59) {
      return { type: "datetime_from_date_parsing", msg: "Input should be a valid datetime" }
    }
    offsetMinutes = (oh * 60 + om) * (m[9] === "-" ? -1 : 1)
  }
  const frac = m[7] === undefined ? 0 : +(m[7] + "000000").slice(0, 6)
  // Date.UTC reads years 0-99 as 1900-1999; shift by one 400-year cycle (146,097 days) instead
  const base = year < 100
    ? Date.UTC(year + 400, month - 1, day, hour, minute, second) - 146_097 * 86_400_000
    : Date.UTC(year, month - 1, day, hour, minute, second)
  return { ms: base - offsetMinutes * 60_000 + Math.floor(frac / 1000), micros: frac % 1000 }
}

