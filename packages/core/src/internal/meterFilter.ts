import { type ErrorDetail, type LocItem, makeDetail } from "../ValidationError.js"

/** @internal */
export const INT32_MIN = -2_147_483_648
/** @internal */
export const INT32_MAX = 2_147_483_647
/** @internal */
export const MAX_STRING_LENGTH = 1000
/** @internal */
export const OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"] as const
/** @internal */
export const CONJUNCTIONS = ["and", "or"] as const

/** pydantic's wording for "one of these literals": `'a', 'b' or 'c'`. @internal */
export const expected = (values: ReadonlyArray<string>): string => {
  const quoted = values.map((v) => `'${v}'`)
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`
}

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const enumDetail = (loc: ReadonlyArray<LocItem>, values: ReadonlyArray<string>, input: unknown) =>
  makeDetail(loc, "enum", `Input should be ${expected(values)}`, input, { expected: expected(values) })

const checkValue = (loc: ReadonlyArray<LocItem>, value: unknown, out: Array<ErrorDetail>) => {
  if (typeof value === "string") {
    if (value.length > MAX_STRING_LENGTH) {
      out.push(makeDetail(loc, "string_too_long", `String should have at most ${MAX_STRING_LENGTH} characters`, value, {
        max_length: MAX_STRING_LENGTH
      }))
    }
    return
  }
  if (typeof value === "boolean") return
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      out.push(makeDetail(loc, "int_from_float", "Input should be a valid integer, got a number with a fractional part", value))
    } else if (value > INT32_MAX) {
      out.push(makeDetail(loc, "less_than_equal", `Input should be less than or equal to ${INT32_MAX}`, value, { le: INT32_MAX }))
    } else if (value < INT32_MIN) {
      out.push(makeDetail(loc, "greater_than_equal", `Input should be greater than or equal to ${INT32_MIN}`, value, { ge: INT32_MIN }))
    }
    return
  }
  out.push(makeDetail(
    loc,
    "invalid_type",
    `Input should be a string (at most ${MAX_STRING_LENGTH} characters), an integer between ${INT32_MIN} and ${INT32_MAX} or a boolean`,
    value === undefined ? null : value
  ))
}

const checkClause = (loc: ReadonlyArray<LocItem>, u: Record<string, unknown>, out: Array<ErrorDetail>) => {
  if (!("property" in u)) out.push(makeDetail([...loc, "property"], "missing", "Field required", u))
  else if (typeof u.property !== "string") {
    out.push(makeDetail([...loc, "property"], "string_type", "Input should be a valid string", u.property))
  }
  if (!("operator" in u)) out.push(makeDetail([...loc, "operator"], "missing", "Field required", u))
  else if (!(OPERATORS as ReadonlyArray<unknown>).includes(u.operator)) {
    out.push(enumDetail([...loc, "operator"], OPERATORS, u.operator))
  }
  if (!("value" in u)) out.push(makeDetail([...loc, "value"], "missing", "Field required", u))
  else checkValue([...loc, "value"], u.value, out)
}

const looksLikeClause = (u: Record<string, unknown>) => "property" in u || "operator" in u || "value" in u
const looksLikeFilter = (u: Record<string, unknown>) => "conjunction" in u || "clauses" in u

/**
 * Every problem in a value that should be a `Filter`, each with its location
 * under `loc`. An item of `clauses` that is neither a valid `FilterClause` nor
 * a valid `Filter` reports the errors of the branch it resembles (clause keys
 * `property`/`operator`/`value`, filter keys `conjunction`/`clauses`), or of
 * both, as pydantic's union does, when it resembles both or neither. The
 * branch name is part of the location, as pydantic writes it.
 *
 * @internal
 */
export const filterErrors = (u: unknown, loc: ReadonlyArray<LocItem> = []): Array<ErrorDetail> => {
  const out: Array<ErrorDetail> = []
  checkFilter(loc, u, out)
  return out
}

const checkFilter = (loc: ReadonlyArray<LocItem>, u: unknown, out: Array<ErrorDetail>): void => {
  if (!isRecord(u)) {
    out.push(makeDetail(loc, "model_type", "Input should be an object", u))
    return
  }
  if (!("conjunction" in u)) out.push(makeDetail([...loc, "conjunction"], "missing", "Field required", u))
  else if (!(CONJUNCTIONS as ReadonlyArray<unknown>).includes(u.conjunction)) {
    out.push(enumDetail([...loc, "conjunction"], CONJUNCTIONS, u.conjunction))
  }
  if (!("clauses" in u)) {
    out.push(makeDetail([...loc, "clauses"], "missing", "Field required", u))
    return
  }
  if (!Array.isArray(u.clauses)) {
    out.push(makeDetail([...loc, "clauses"], "list_type", "Input should be a valid list", u.clauses))
    return
  }
  u.clauses.forEach((item: unknown, i: number) => {
    const at = [...loc, "clauses", i]
    if (!isRecord(item)) {
      out.push(makeDetail([...at, "FilterClause"], "model_type", "Input should be an object", item))
      out.push(makeDetail([...at, "Filter"], "model_type", "Input should be an object", item))
      return
    }
    const asClause: Array<ErrorDetail> = []
    checkClause([...at, "FilterClause"], item, asClause)
    if (asClause.length === 0) return
    const asFilter: Array<ErrorDetail> = []
    checkFilter([...at, "Filter"], item, asFilter)
    if (asFilter.length === 0) return
    const clause = looksLikeClause(item)
    const filter = looksLikeFilter(item)
    if (clause || !filter) out.push(...asClause)
    if (filter || !clause) out.push(...asFilter)
  })
}
