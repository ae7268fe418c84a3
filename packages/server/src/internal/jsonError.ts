/**
 * Where and why Python's `json.loads` rejects a text, so that a malformed
 * body gets Polar's 422 `json_invalid` detail (`loc: ["body", pos]`,
 * `ctx.error`: Python's message). Only runs on text `JSON.parse` refused;
 * it follows the error positions and messages of CPython's C scanner. `NaN` and `Infinity`,
 * which Python reads but JSON does not, are refused as "Expecting value".
 */

export interface JsonSyntaxError {
  /** the position, in code points as Python counts */
  readonly pos: number
  readonly msg: string
}

class Fail {
  constructor(readonly at: number, readonly msg: string) {}
}

const WS = new Set([" ", "\t", "\n", "\r"])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"])
const HEX4 = /^[0-9a-fA-F]{4}$/

const skip = (s: string, i: number): number => {
  while (i < s.length && WS.has(s[i]!)) i++
  return i
}

/** A string whose opening quote is at `start - 1`; returns the index after the closing quote. */
const scanString = (s: string, start: number): number => {
  let i = start
  while (true) {
    if (i >= s.length) throw new Fail(start - 1, "Unterminated string starting at")
    const c = s[i]!
    if (c === '"') return i + 1
    if (c === "\\") {
      if (i + 1 >= s.length) throw new Fail(start - 1, "Unterminated string starting at")
      const e = s[i + 1]!
      if (e === "u") {
        if (!HEX4.test(s.slice(i + 2, i + 6))) throw new Fail(i + 1, "Invalid \\uXXXX escape")
        i += 6
      } else if (ESCAPES.has(e)) {
        i += 2
      } else {
        throw new Fail(i, "Invalid \\escape")
      }
      continue
    }
    if (c.charCodeAt(0) < 0x20) throw new Fail(i, "Invalid control character at")
    i++
  }
}

/** A value at `i` (no leading whitespace); returns the index after it. */
const scanValue = (s: string, i: number): number => {
  if (i >= s.length) throw new Fail(i, "Expecting value")
  const c = s[i]!
  if (c === '"') return scanString(s, i + 1)
  if (c === "{") return scanObject(s, i + 1)
  if (c === "[") return scanArray(s, i + 1)
  if (s.startsWith("null", i)) return i + 4
  if (s.startsWith("true", i)) return i + 4
  if (s.startsWith("false", i)) return i + 5
  NUMBER.lastIndex = i
  if (NUMBER.test(s)) return NUMBER.lastIndex
  throw new Fail(i, "Expecting value")
}

const scanObject = (s: string, start: number): number => {
  let i = skip(s, start)
  if (s[i] === "}") return i + 1
  if (s[i] !== '"') throw new Fail(i, "Expecting property name enclosed in double quotes")
  i++
  while (true) {
    i = scanString(s, i)
    i = skip(s, i)
    if (s[i] !== ":") throw new Fail(i, "Expecting ':' delimiter")
    i = skip(s, i + 1)
    i = scanValue(s, i)
    i = skip(s, i)
    const next = s[i]
    i++
    if (next === "}") return i
    if (next !== ",") throw new Fail(i - 1, "Expecting ',' delimiter")
    i = skip(s, i)
    const quote = s[i]
    i++
    if (quote !== '"') throw new Fail(i - 1, "Expecting property name enclosed in double quotes")
  }
}

const scanArray = (s: string, start: number): number => {
  let i = skip(s, start)
  if (s[i] === "]") return i + 1
  while (true) {
    i = scanValue(s, i)
    i = skip(s, i)
    const next = s[i]
    i++
    if (next === "]") return i
    if (next !== ",") throw new Fail(i - 1, "Expecting ',' delimiter")
    i = skip(s, i)
  }
}

const codePoints = (s: string, end: number): number => {
  let n = 0
  for (let i = 0; i < end && i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++
    n++
  }
  return n
}

/** The first syntax error of `text` as Python reports it, or `undefined` when Python would read it. */
export const pythonJsonError = (text: string): JsonSyntaxError | undefined => {
  try {
    const end = skip(text, scanValue(text, skip(text, 0)))
    if (end !== text.length) throw new Fail(end, "Extra data")
    return undefined
  } catch (e) {
    if (e instanceof Fail) return { pos: codePoints(text, e.at), msg: e.msg }
    // a nesting so deep that the scanner overflowed: Python raises RecursionError (a 500); report the start
    return { pos: 0, msg: "Expecting value" }
  }
}
