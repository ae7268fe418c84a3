import {
  checkString,
  type Errors,
  hasNul,
  isRecord,
  type Loc,
  MSG,
  push,
  tooLong,
  tooShort
} from "./validateCommon.js"

/** @internal */
export const METADATA_STRING_MAX = 500
/** @internal */
export const COST_MAX_DIGITS = 17
/** @internal */
export const COST_DECIMAL_PLACES = 12
/** @internal */
export const COST_WHOLE_DIGITS = COST_MAX_DIGITS - COST_DECIMAL_PLACES

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/
const DECIMAL_STRING = /^[+-]?(?:\d+\.?\d*|\.\d+)$/

/** A decimal string as the spec's `_cost.amount` pattern intends: sign, digits, optional fraction, no exponent. @internal */
export const isDecimalString = (s: string): boolean => DECIMAL_STRING.test(s)

/**
 * Why a decimal breaks Polar's `max_digits=17, decimal_places=12` rule
 * (pydantic's check after `Decimal.normalize()`), or undefined when it fits.
 *
 * @internal
 */
export const decimalProblem = (
  text: string
): { readonly type: string; readonly msg: string; readonly ctx: object } | undefined => {
  const m = DECIMAL_TEXT.exec(text)
  if (m === null) return undefined
  const intPart = m[2]!
  const fracPart = m[3] ?? ""
  let digits = intPart + fracPart
  let exponent = (m[4] === undefined ? 0 : +m[4]) - fracPart.length
  let start = 0
  while (start < digits.length && digits.charCodeAt(start) === 48) start++
  digits = digits.slice(start)
  if (digits.length === 0) return undefined
  let end = digits.length
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end--
  exponent += digits.length - end
  const count = end
  let total: number
  let decimals: number
  if (exponent >= 0) {
    total = count + exponent
    decimals = 0
  } else {
    decimals = -exponent
    total = Math.max(count, decimals)
  }
  if (total > COST_MAX_DIGITS) {
    return {
      type: "decimal_max_digits",
      msg: `Decimal input should have no more than ${COST_MAX_DIGITS} digits in total`,
      ctx: { max_digits: COST_MAX_DIGITS }
    }
  }
  if (decimals > COST_DECIMAL_PLACES) {
    return {
      type: "decimal_max_places",
      msg: `Decimal input should have no more than ${COST_DECIMAL_PLACES} decimal places`,
      ctx: { decimal_places: COST_DECIMAL_PLACES }
    }
  }
  if (total - decimals > COST_WHOLE_DIGITS) {
    return {
      type: "decimal_whole_digits",
      msg: `Decimal input should have no more than ${COST_WHOLE_DIGITS} digits before the decimal point`,
      ctx: { whole_digits: COST_WHOLE_DIGITS }
    }
  }
  return undefined
}

/**
 * The common case of a number amount without building its digits: below
 * 100000 in magnitude and written without exponent, it fits when it has at
 * most 12 decimals (JavaScript's shortest form has no trailing zeros).
 */
const fitsFast = (n: number): boolean => {
  if (!(n > -1e5 && n < 1e5)) return false
  if (Number.isInteger(n)) return true
  const s = String(n)
  if (s.indexOf("e") !== -1) return false
  return s.length - s.indexOf(".") - 1 <= COST_DECIMAL_PLACES
}

/** True when a cost amount (number or decimal string) is one Polar accepts. @internal */
export const isCostAmount = (u: unknown): boolean =>
  typeof u === "number"
    ? Number.isFinite(u) && (fitsFast(u) || decimalProblem(String(u)) === undefined)
    : typeof u === "string" && isDecimalString(u) && decimalProblem(u) === undefined

const checkAmount = (errors: Errors, loc: () => Loc, amount: unknown): boolean => {
  if (typeof amount === "number" && fitsFast(amount)) return true
  let text: string
  if (typeof amount === "number") {
    if (!Number.isFinite(amount)) {
      push(errors, loc(), "finite_number", MSG.finite_number, amount)
      return false
    }
    text = String(amount)
  } else if (typeof amount === "string") {
    if (!isDecimalString(amount)) {
      push(errors, loc(), "decimal_parsing", MSG.decimal_parsing, amount)
      return false
    }
    text = amount
  } else {
    push(errors, loc(), "decimal_type", MSG.decimal_type, amount)
    return false
  }
  const problem = decimalProblem(text)
  if (problem !== undefined) {
    push(errors, loc(), problem.type, problem.msg, amount, problem.ctx)
    return false
  }
  return true
}

const checkCost = (errors: Errors, loc: Loc, value: unknown): unknown => {
  if (!isRecord(value)) {
    push(errors, loc, "dict_type", MSG.dict_type, value)
    return undefined
  }
  const before = errors.length
  const amount = value.amount
  if (amount === undefined) {
    push(errors, [...loc, "amount"], "missing", MSG.missing, value)
  } else {
    checkAmount(errors, () => [...loc, "amount"], amount)
  }
  const currency = value.currency
  if (currency === undefined) {
    push(errors, [...loc, "currency"], "missing", MSG.missing, value)
  } else if (typeof currency !== "string") {
    push(errors, [...loc, "currency"], "string_type", MSG.string_type, currency)
  } else if (currency.indexOf("usd") === -1) {
    push(errors, [...loc, "currency"], "string_pattern_mismatch", "String should match pattern 'usd'", currency, {
      pattern: "usd"
    })
  } else if (hasNul(currency)) {
    push(errors, [...loc, "currency"], "value_error", MSG.nul, currency)
  }
  return errors.length === before ? { amount, currency } : undefined
}

const checkInt = (errors: Errors, loc: () => Loc, value: unknown, parent: object): boolean => {
  if (value === undefined) {
    push(errors, loc(), "missing", MSG.missing, parent)
    return false
  }
  if (typeof value !== "number") {
    push(errors, loc(), "int_type", MSG.int_type, value)
    return false
  }
  if (Number.isSafeInteger(value)) return true
  if (Number.isFinite(value) && !Number.isInteger(value)) {
    push(errors, loc(), "int_from_float", MSG.int_from_float, value)
  } else {
    push(errors, loc(), "int_type", MSG.int_type, value)
  }
  return false
}

const LLM_STRINGS = ["vendor", "model"] as const
const LLM_OPTIONAL_STRINGS = ["prompt", "response"] as const
const LLM_INTS = ["input_tokens", "output_tokens", "total_tokens"] as const

const okText = (u: unknown): u is string => typeof u === "string" && !hasNul(u)
const okOptionalText = (u: unknown): boolean => u === undefined || u === null || okText(u)

/** The common valid `_llm`, copied with its known keys only; undefined when anything needs a closer look. */
const llmFast = (value: Record<string, unknown>): Record<string, unknown> | undefined => {
  const { cached_input_tokens, input_tokens, model, output_tokens, prompt, response, total_tokens, vendor } = value
  if (
    !okText(vendor) || !okText(model) || !Number.isSafeInteger(input_tokens) || !Number.isSafeInteger(output_tokens) ||
    !Number.isSafeInteger(total_tokens) || !okOptionalText(prompt) || !okOptionalText(response) ||
    !(cached_input_tokens === undefined || Number.isSafeInteger(cached_input_tokens))
  ) return undefined
  const out: Record<string, unknown> = { vendor, model, input_tokens, output_tokens, total_tokens }
  if ("prompt" in value) out.prompt = prompt
  if ("response" in value) out.response = response
  if ("cached_input_tokens" in value) out.cached_input_tokens = cached_input_tokens
  return out
}

const checkLlm = (errors: Errors, loc: Loc, value: unknown): unknown => {
  if (!isRecord(value)) {
    push(errors, loc, "dict_type", MSG.dict_type, value)
    return undefined
  }
  const fast = llmFast(value)
  if (fast !== undefined) return fast
  const before = errors.length
  const out: Record<string, unknown> = {}
  for (const k of LLM_STRINGS) {
    const v = value[k]
    if (v === undefined) push(errors, [...loc, k], "missing", MSG.missing, value)
    else if (checkString(errors, () => [...loc, k], v, 0, Infinity)) out[k] = v
  }
  for (const k of LLM_OPTIONAL_STRINGS) {
    if (!(k in value)) continue
    const v = value[k]
    if (v === null || v === undefined) out[k] = v
    else if (checkString(errors, () => [...loc, k], v, 0, Infinity)) out[k] = v
  }
  for (const k of LLM_INTS) {
    const v = value[k]
    if (checkInt(errors, () => [...loc, k], v, value)) out[k] = v
  }
  if ("cached_input_tokens" in value) {
    const v = value.cached_input_tokens
    if (v === undefined) out.cached_input_tokens = v
    else if (checkInt(errors, () => [...loc, "cached_input_tokens"], v, value)) out.cached_input_tokens = v
  }
  return errors.length === before ? out : undefined
}

/**
 * Validates an ingest `metadata` object at `loc`, pushing every problem.
 * Returns a fresh copy holding only what the schema keeps, or undefined when
 * something was wrong.
 *
 * @internal
 */
export const checkMetadata = (errors: Errors, loc: () => Loc, value: unknown): Record<string, unknown> | undefined => {
  if (!isRecord(value)) {
    push(errors, loc(), "dict_type", MSG.dict_type, value)
    return undefined
  }
  const before = errors.length
  const out: Record<string, unknown> = {}
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue
    const v = value[key]
    if (key === "_cost") {
      if (v !== undefined) out._cost = checkCost(errors, [...loc(), key], v)
      continue
    }
    if (key === "_llm") {
      if (v !== undefined) out._llm = checkLlm(errors, [...loc(), key], v)
      continue
    }
    if (hasNul(key)) {
      push(errors, [...loc(), key], "value_error", MSG.nul, key)
      continue
    }
    if (key === "__proto__") {
      push(errors, [...loc(), key], "value_error", MSG.reservedKey, key)
      continue
    }
    switch (typeof v) {
      case "string": {
        if (v.length === 0) tooShort(errors, [...loc(), key], v, 1)
        else if (v.length > METADATA_STRING_MAX && !withinCodePoints(v)) tooLong(errors, [...loc(), key], v, METADATA_STRING_MAX)
        else if (hasNul(v)) push(errors, [...loc(), key], "value_error", MSG.nul, v)
        else out[key] = v
        break
      }
      case "number": {
        if (Number.isFinite(v)) out[key] = v
        else push(errors, [...loc(), key], "finite_number", MSG.finite_number, v)
        break
      }
      case "boolean": {
        out[key] = v
        break
      }
      default: {
        push(errors, [...loc(), key], "metadata_value_type", MSG.metadata_value_type, v)
      }
    }
  }
  return errors.length === before ? out : undefined
}

/** An object whose prototype is `Object.prototype` or null: what a literal or `JSON.parse` makes. @internal */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** The common valid `_llm`: its known keys only, each set; checked without copying. */
const isPlainLlm = (v: unknown): boolean => {
  if (!isPlainObject(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case "vendor":
      case "model":
        if (!okText(x)) return false
        required++
        break
      case "input_tokens":
      case "output_tokens":
      case "total_tokens":
        if (!Number.isSafeInteger(x)) return false
        required++
        break
      case "cached_input_tokens":
        if (!Number.isSafeInteger(x)) return false
        break
      case "prompt":
      case "response":
        if (x !== null && !okText(x)) return false
        break
      default:
        return false
    }
  }
  return required === 5
}

/** The common valid `_cost`: exactly `{amount: <a number that fits>, currency: "usd"}`. */
const isPlainCost = (v: unknown): boolean => {
  if (!isPlainObject(v)) return false
  let keys = 0
  for (const key in v) {
    const x = v[key]
    if (key === "amount") {
      if (typeof x !== "number" || !fitsFast(x)) return false
    } else if (key !== "currency" || x !== "usd") return false
    keys++
  }
  return keys === 2
}

/**
 * True when `value` is, beyond doubt, metadata that `checkMetadata` accepts
 * and copies unchanged: a plain object of set strings, finite numbers and
 * booleans, with `_llm` and `_cost` in their common shapes. Checked without
 * copying; false for anything that needs a closer look.
 *
 * @internal
 */
export const isPlainMetadata = (value: unknown): boolean => {
  if (!isPlainObject(value)) return false
  for (const key in value) {
    const v = value[key]
    if (key === "_llm") {
      if (!isPlainLlm(v)) return false
      continue
    }
    if (key === "_cost") {
      if (!isPlainCost(v)) return false
      continue
    }
    if (key === "__proto__" || hasNul(key)) return false
    switch (typeof v) {
      case "string":
        if (v.length === 0 || v.length > METADATA_STRING_MAX || hasNul(v)) return false
        break
      case "number":
        if (!Number.isFinite(v)) return false
        break
      case "boolean":
        break
      default:
        return false
    }
  }
  return true
}

const withinCodePoints = (s: string): boolean => {
  let n = 0
  for (const _ of s) {
    if (++n > METADATA_STRING_MAX) return false
  }
  return true
}
