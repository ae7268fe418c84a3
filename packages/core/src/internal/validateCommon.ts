import { isUuid, isUuidV4 } from "../Ids.js"
import type { ErrorDetail, LocItem } from "../ValidationError.js"

/** @internal */
export type Errors = Array<ErrorDetail>

/** @internal */
export type Loc = ReadonlyArray<LocItem>

/** @internal */
export const push = (
  errors: Errors,
  loc: Loc,
  type: string,
  msg: string,
  input: unknown,
  ctx?: object
): void => {
  const d: { loc: Loc; msg: string; type: string; input?: unknown; ctx?: object } = { type, loc, msg }
  if (input !== undefined) d.input = input
  if (ctx !== undefined) d.ctx = ctx
  errors.push(d)
}

/** @internal */
export const hasNul = (s: string): boolean => s.indexOf("\u0000") !== -1

/** Length in Unicode code points, as JSON Schema and Python count it. @internal */
export const codePoints = (s: string): number => {
  const n = s.length
  let pairs = 0
  for (let i = 0; i < n - 1; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++
        i++
      }
    }
  }
  return n - pairs
}

/** True when `s` has between `min` and `max` code points (cheap when `s.length <= max`). @internal */
export const lengthWithin = (s: string, min: number, max: number): boolean =>
  s.length >= min && (s.length <= max || codePoints(s) <= max)

/** @internal */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** @internal */
export const MSG = {
  missing: "Field required",
  string_type: "Input should be a valid string",
  dict_type: "Input should be a valid dictionary",
  model_attributes_type: "Input should be a valid dictionary or object to extract fields from",
  list_type: "Input should be a valid list",
  int_type: "Input should be a valid integer",
  int_from_float: "Input should be a valid integer, got a number with a fractional part",
  finite_number: "Input should be a finite number",
  uuid_type: "UUID input should be a string, bytes or UUID object",
  uuid_parsing: "Input should be a valid UUID",
  uuid_version: "UUID version 4 expected",
  datetime_type: "Input should be a valid datetime",
  nul: "Value error, Input must not contain a NUL character (\\u0000).",
  reservedKey: "Value error, Metadata key __proto__ is not allowed.",
  future: "Value error, Timestamp must be in the past.",
  organization_token: "Setting organization_id is disallowed when using an organization token.",
  extra_forbidden: "Extra inputs are not permitted",
  decimal_type: "Decimal input should be an integer, float, string or Decimal object",
  decimal_parsing: "Input should be a valid decimal",
  metadata_value_type:
    "Input should be a string (1 to 500 characters), an integer, a number or a boolean; null, arrays and objects are not allowed"
} as const

/** @internal */
export const tooShort = (errors: Errors, loc: Loc, input: string, min: number): void =>
  push(errors, loc, "string_too_short", `String should have at least ${min} character${min === 1 ? "" : "s"}`, input, {
    min_length: min
  })

/** @internal */
export const tooLong = (errors: Errors, loc: Loc, input: string, max: number): void =>
  push(errors, loc, "string_too_long", `String should have at most ${max} character${max === 1 ? "" : "s"}`, input, {
    max_length: max
  })

/**
 * Checks a string field with pydantic's error order: type, then length, then
 * the NUL rule. Returns true when it is valid.
 *
 * @internal
 */
export const checkString = (
  errors: Errors,
  loc: () => Loc,
  value: unknown,
  min: number,
  max: number
): value is string => {
  if (typeof value !== "string") {
    push(errors, loc(), "string_type", MSG.string_type, value)
    return false
  }
  if (value.length < min) {
    tooShort(errors, loc(), value, min)
    return false
  }
  if (value.length > max && codePoints(value) > max) {
    tooLong(errors, loc(), value, max)
    return false
  }
  if (hasNul(value)) {
    push(errors, loc(), "value_error", MSG.nul, value)
    return false
  }
  return true
}

/** A UUID version 4 string, or an error of pydantic's kind. @internal */
export const checkUuid4 = (errors: Errors, loc: () => Loc, value: unknown): value is string => {
  if (typeof value !== "string") {
    push(errors, loc(), "uuid_type", MSG.uuid_type, value)
    return false
  }
  if (isUuidV4(value)) return true
  if (!isUuid(value)) {
    push(errors, loc(), "uuid_parsing", MSG.uuid_parsing, value)
  } else {
    push(errors, loc(), "uuid_version", MSG.uuid_version, value, { expected_version: 4 })
  }
  return false
}
