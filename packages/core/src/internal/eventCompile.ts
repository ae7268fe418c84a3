/**
 * Compiles a schema's AST into a plain checking function that gives the same
 * result as Effect's parser for the common case: the decoded (or encoded)
 * value, or `FAIL`. Used by the event fast path for metadata.
 *
 * Nodes without a transformation (keywords, literals, unions, refinements,
 * structs and records) become direct checks. Anything else (transformations,
 * declarations, tuples, ...) and any object that is not a plain object is
 * handed to Effect's own parser, so the result is Effect's by construction.
 */
import { Either, Option, ParseResult, Schema, SchemaAST as AST } from "effect"

/**
 * What a compiled check returns when the input does not fit, or when it
 * cannot tell (an own `__proto__` key, which Effect's passes treat
 * differently): either way the structural schema decides.
 */
export const FAIL: unique symbol = Symbol.for("@polar-events/core/internal/eventCompile/FAIL") as never

/** A compiled check: the output value, or `FAIL`. */
export type Check = (input: unknown) => unknown

const hasOwn = Object.prototype.hasOwnProperty
const objectProto = Object.prototype

/** An object made by `JSON.parse` or a literal (not an array, Date or class instance). */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === objectProto || proto === null
}

const effectParser = (ast: AST.AST, isDecoding: boolean): Check => {
  const schema = Schema.make(ast)
  const parse = isDecoding ? ParseResult.decodeUnknownEither(schema) : ParseResult.encodeUnknownEither(schema)
  return (u) => {
    const r = parse(u)
    return Either.isRight(r) ? r.right : FAIL
  }
}

const caches = [new WeakMap<AST.AST, Check>(), new WeakMap<AST.AST, Check>()] as const

/** The compiled check of an AST, in the decoding or the encoding direction (memoized). */
export const compile = (ast: AST.AST, isDecoding: boolean): Check => {
  const cache = caches[isDecoding ? 0 : 1]
  let check = cache.get(ast)
  if (check === undefined) {
    check = go(ast, isDecoding)
    cache.set(ast, check)
  }
  return check
}

const isInt = (ast: AST.Refinement): boolean =>
  ast.annotations[AST.SchemaIdAnnotationId] === Schema.IntSchemaId && ast.from._tag === "NumberKeyword"

const go = (ast: AST.AST, isDecoding: boolean): Check => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string" ? u : FAIL
    case "NumberKeyword":
      return (u) => typeof u === "number" ? u : FAIL
    case "BooleanKeyword":
      return (u) => typeof u === "boolean" ? u : FAIL
    case "UnknownKeyword":
    case "AnyKeyword":
      return (u) => u
    case "UndefinedKeyword":
      return (u) => u === undefined ? u : FAIL
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal ? u : FAIL
    }
    case "Refinement":
      return refinement(ast, isDecoding)
    case "Union":
      return union(ast, isDecoding)
    case "TypeLiteral":
      return typeLiteral(ast, isDecoding)
  }
  return effectParser(ast, isDecoding)
}

/** True when a node and all it contains leave values as they are (no transformation anywhere). */
const isPure = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "Transformation":
    case "Declaration":
    case "Suspend":
      return false
    case "Refinement":
      return isPure(ast.from)
    case "Union":
      return ast.types.every(isPure)
    case "TupleType":
      return ast.elements.every((e) => isPure(e.type)) && ast.rest.every((r) => isPure(r.type))
    case "TypeLiteral":
      return ast.propertySignatures.every((ps) => isPure(ps.type)) &&
        ast.indexSignatures.every((is) => isPure(is.parameter) && isPure(is.type))
  }
  return true
}

/**
 * A refinement filters the decoded value when decoding but the domain value
 * when encoding, so one over a transformation is left to Effect.
 */
const transforms = (ast: AST.Refinement): boolean => !isPure(ast.from)

const refinement = (ast: AST.Refinement, isDecoding: boolean): Check => {
  if (isInt(ast)) {
    return (u) => typeof u === "number" && Number.isSafeInteger(u) ? u : FAIL
  }
  if (transforms(ast)) return effectParser(ast, isDecoding)
  const from = compile(ast.from, isDecoding)
  const filter = ast.filter
  return (u) => {
    const a = from(u)
    return a !== FAIL && Option.isNone(filter(a, AST.defaultParseOption, ast)) ? a : FAIL
  }
}

/** True when the node's output is its input (so the members of a union cannot disagree). */
const isScalar = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "UndefinedKeyword":
    case "Literal":
      return true
    case "Refinement":
      return !transforms(ast) && isScalar(ast.from)
  }
  return false
}

/** True when a successful check returns its input itself (no copy, no conversion). */
const isIdentity = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "UnknownKeyword":
    case "AnyKeyword":
      return true
    case "Union":
      return ast.types.every(isIdentity)
  }
  return isScalar(ast)
}

/**
 * A union of plain scalar members (string, number, boolean, `Int`, literals)
 * as one `typeof` test, or `undefined` when a member is anything else.
 */
const scalarUnion = (types: ReadonlyArray<AST.AST>): Check | undefined => {
  let string = false, number = false, int = false, boolean = false, undef = false
  const literals = new Set<unknown>()
  for (const t of types) {
    switch (t._tag) {
      case "StringKeyword":
        string = true
        break
      case "NumberKeyword":
        number = true
        break
      case "BooleanKeyword":
        boolean = true
        break
      case "UndefinedKeyword":
        undef = true
        break
      case "Literal":
        literals.add(t.literal)
        break
      case "Refinement":
        if (!isInt(t)) return undefined
        int = true
        break
      default:
        return undefined
    }
  }
  const anyLiteral = literals.size > 0
  return (u) => {
    switch (typeof u) {
      case "string":
        return string || (anyLiteral && literals.has(u)) ? u : FAIL
      case "number":
        return number || (int && Number.isSafeInteger(u)) || (anyLiteral && literals.has(u)) ? u : FAIL
      case "boolean":
        return boolean || (anyLiteral && literals.has(u)) ? u : FAIL
      case "undefined":
        return undef ? u : FAIL
    }
    return anyLiteral && literals.has(u) ? u : FAIL
  }
}

const union = (ast: AST.Union, isDecoding: boolean): Check => {
  const types = ast.types
  const scalar = scalarUnion(types)
  if (scalar !== undefined) return scalar
  // Effect picks a union member by its own search order; that order only
  // matters when members could both accept a value and give different
  // outputs, i.e. with more than one non-scalar member.
  const nonScalar = types.filter((t) => !isScalar(t))
  if (nonScalar.length > 1 || nonScalar.some((t) => t._tag !== "TypeLiteral" && t._tag !== "Refinement")) {
    return effectParser(ast, isDecoding)
  }
  const checks = types.map((t) => compile(t, isDecoding))
  const n = checks.length
  return (u) => {
    for (let i = 0; i < n; i++) {
      const r = checks[i](u)
      if (r !== FAIL) return r
    }
    return FAIL
  }
}

const baseKeyword = (ast: AST.AST): AST.AST => ast._tag === "Refinement" ? baseKeyword(ast.from) : ast

const typeLiteral = (ast: AST.TypeLiteral, isDecoding: boolean): Check => {
  if (
    ast.propertySignatures.some((ps) => typeof ps.name !== "string") ||
    ast.indexSignatures.some((is) => baseKeyword(is.parameter)._tag !== "StringKeyword")
  ) {
    return effectParser(ast, isDecoding)
  }
  const fallback = effectParser(ast, isDecoding)
  if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) return fallback
  const names = ast.propertySignatures.map((ps) => ps.name as string)
  const optional = ast.propertySignatures.map((ps) => ps.isOptional)
  const checks = ast.propertySignatures.map((ps) => compile(ps.type, isDecoding))
  const copies = ast.propertySignatures.map((ps) => !isIdentity(ps.type))
  const expected = new Set(names)
  const n = names.length
  const index = ast.indexSignatures
    .filter((is) => !(is.parameter._tag === "StringKeyword" && (is.type._tag === "UnknownKeyword" || is.type._tag === "AnyKeyword")))
    .map((is) => ({
      key: is.parameter._tag === "StringKeyword" ? undefined : compile(is.parameter, isDecoding),
      value: compile(is.type, isDecoding)
    }))
  const m = index.length
  const notPlain = (u: unknown) => typeof u === "object" && u !== null && !Array.isArray(u) ? fallback(u) : FAIL

  if (ast.indexSignatures.length > 0 && ast.indexSignatures.every((is) => isIdentity(is.type))) {
    // Every key of the input ends up in the output with its own value, except
    // the properties whose check makes a new value: copy, then replace those.
    return (u) => {
      if (!isPlainObject(u)) return notPlain(u)
      if (hasOwn.call(u, "__proto__")) return FAIL
      if (Object.getOwnPropertySymbols(u).length > 0) return fallback(u)
      const out: Record<string, unknown> = { ...u }
      for (let i = 0; i < n; i++) {
        const name = names[i]
        const v = u[name]
        if (v === undefined && optional[i] && !hasOwn.call(u, name)) continue
        const r = checks[i](v)
        if (r === FAIL) return FAIL
        if (copies[i] || v === undefined) out[name] = r
      }
      for (let j = 0; j < m; j++) {
        const { key, value } = index[j]
        const keys = Object.keys(u)
        for (let k = 0; k < keys.length; k++) {
          const name = keys[k]
          if (key !== undefined && key(name) === FAIL) {
            if (!expected.has(name)) return fallback(u)
            continue
          }
          if (value(u[name]) === FAIL) return FAIL
        }
      }
      return out
    }
  }

  return (u) => {
    if (!isPlainObject(u)) return notPlain(u)
    if (m > 0 && hasOwn.call(u, "__proto__")) return FAIL
    const out: Record<string, unknown> = {}
    for (let i = 0; i < n; i++) {
      const name = names[i]
      const v = u[name]
      if (v === undefined && optional[i] && !hasOwn.call(u, name)) continue
      const r = checks[i](v)
      if (r === FAIL) return FAIL
      out[name] = r
    }
    for (let j = 0; j < m; j++) {
      const { key, value } = index[j]
      const keys = Object.keys(u)
      for (let k = 0; k < keys.length; k++) {
        const name = keys[k]
        if (key !== undefined && key(name) === FAIL) continue
        const r = value(u[name])
        if (r === FAIL) return FAIL
        if (!expected.has(name)) out[name] = r
      }
    }
    return out
  }
}
