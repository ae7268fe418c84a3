/**
 * SQL for meter filters, aggregations and metadata lookups, with the same
 * semantics as core's pure evaluator (`Meter.matches`, `Meter.aggregate`).
 * Every value, metadata key and JSON path is a bound parameter.
 *
 * @internal
 */
import type * as T from "./types.js"

/** The SQL dialects the store speaks. @internal */
export type Dialect = "sqlite" | "pg"

/** Collects bound parameters and hands out placeholders (`?` or `$n`). @internal */
export class Params {
  readonly values: Array<unknown> = []
  constructor(readonly dialect: Dialect) {}
  /** A placeholder bound to `value`. */
  add(value: unknown): string {
    this.values.push(value)
    return this.dialect === "pg" ? `$${this.values.length}` : "?"
  }
  /** A placeholder for a text value (typed on PostgreSQL). */
  text(value: string): string {
    return this.dialect === "pg" ? `${this.add(value)}::text` : this.add(value)
  }
  /** A placeholder for an integer value (typed on PostgreSQL). */
  int(value: number): string {
    return this.dialect === "pg" ? `${this.add(value)}::bigint` : this.add(value)
  }
  /** A comma-separated list of placeholders. */
  list(values: ReadonlyArray<unknown>, kind: "text" | "int" = "text"): string {
    return values.map((v) => (kind === "text" ? this.text(v as string) : this.int(v as number))).join(", ")
  }
  get TRUE(): string {
    return this.dialect === "pg" ? "TRUE" : "1"
  }
  get FALSE(): string {
    return this.dialect === "pg" ? "FALSE" : "0"
  }
}

/** A SQLite JSON path for object keys, each quoted as a JSON string: `$."a"."b\"c"`. @internal */
export const sqlitePath = (segments: ReadonlyArray<string>): string =>
  "$" + segments.map((s) => "." + JSON.stringify(s)).join("")

const PREFIX = "metadata."
const strip = (p: string) => (p.startsWith(PREFIX) ? p.slice(PREFIX.length) : p)

/**
 * SQL expressions that read one metadata value by type. Each call builds a
 * fresh expression with its own placeholders (SQLite's `?` are positional).
 * Each is NULL when the value is missing or of another type.
 */
interface Typed {
  /** the JSON type, normalized: 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array' | NULL */
  readonly type: () => string
  /** the string value, when a string */
  readonly str: () => string
  /** the numeric value, when a number */
  readonly num: () => string
  /** 1 / 0 when a boolean */
  readonly bool: () => string
  /** the JSON text of a number as stored */
  readonly numText: () => string
  /** the JSON text of the value */
  readonly json: () => string
}

const metadataValue = (q: Params, column: string, segments: ReadonlyArray<string>): Typed => {
  if (q.dialect === "sqlite") {
    const path = () => q.add(sqlitePath(segments))
    const t = () => `json_type(${column}, ${path()})`
    return {
      type: () =>
        `(CASE ${t()} WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' ` +
        `WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE ${t()} END)`,
      str: () => `(CASE WHEN ${t()} = 'text' THEN json_extract(${column}, ${path()}) END)`,
      num: () => `(CASE WHEN ${t()} IN ('integer', 'real') THEN json_extract(${column}, ${path()}) END)`,
      bool: () => `(CASE ${t()} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`,
      numText: () => `(${column} -> ${path()})`,
      json: () => `(${column} -> ${path()})`
    }
  }
  const v = () => `(${column}${segments.map((s) => ` -> ${q.text(s)}`).join("")})`
  return {
    type: () => `jsonb_typeof(${v()})`,
    str: () => {
      const x = v()
      return `(CASE WHEN jsonb_typeof(${x}) = 'string' THEN ${x} #>> '{}' END)`
    },
    num: () => {
      const x = v()
      return `(CASE WHEN jsonb_typeof(${x}) = 'number' THEN (${x} #>> '{}')::float8 END)`
    },
    bool: () => {
      const x = v()
      return `(CASE WHEN jsonb_typeof(${x}) = 'boolean' THEN (CASE WHEN ${x} = 'true'::jsonb THEN 1 ELSE 0 END) END)`
    },
    numText: () => `(${v()} #>> '{}')`,
    json: () => `(${v()})::text`
  }
}

const isCostAmount = (segments: ReadonlyArray<string>) =>
  segments.length === 2 && segments[0] === "_cost" && segments[1] === "amount"

/** A string expression that is a decimal number (core's `/^[+-]?(?:\d+\.?\d*|\.\d+)$/`). */
const isDecimal = (q: Params, s: () => string): string => {
  if (q.dialect === "pg") return `(${s()} ~ '^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)$')`
  const t = () => `(CASE WHEN substr(${s()}, 1, 1) IN ('+', '-') THEN substr(${s()}, 2) ELSE ${s()} END)`
  return `(${t()} <> '' AND NOT ${t()} GLOB '*[^0-9.]*' AND ${t()} GLOB '*[0-9]*' AND NOT ${t()} GLOB '*.*.*')`
}

const castReal = (q: Params, s: string) => (q.dialect === "pg" ? `(${s})::float8` : `CAST(${s} AS REAL)`)

/**
 * The value a clause or an aggregation sees at a metadata path, with core's
 * rule that a decimal string at `_cost.amount` reads as a number.
 */
const readMetadata = (q: Params, column: string, segments: ReadonlyArray<string>): Typed => {
  const raw = metadataValue(q, column, segments)
  if (!isCostAmount(segments)) return raw
  const decimal = () => isDecimal(q, raw.str)
  return {
    type: () => `(CASE WHEN ${decimal()} THEN 'number' ELSE ${raw.type()} END)`,
    str: () => `(CASE WHEN ${decimal()} THEN NULL ELSE ${raw.str()} END)`,
    num: () => `(CASE WHEN ${decimal()} THEN ${castReal(q, raw.str())} ELSE ${raw.num()} END)`,
    bool: raw.bool,
    numText: () => {
      // Python's str() of the number: integral values print without a fraction
      const when = decimal()
      const asNumber = q.dialect === "pg"
        ? `(${castReal(q, raw.str())})::text`
        : `(CASE WHEN ${castReal(q, raw.str())} = CAST(${castReal(q, raw.str())} AS INTEGER) ` +
          `THEN CAST(CAST(${castReal(q, raw.str())} AS INTEGER) AS TEXT) ELSE CAST(${castReal(q, raw.str())} AS TEXT) END)`
      return `(CASE WHEN ${when} THEN ${asNumber} ELSE ${raw.numText()} END)`
    },
    json: raw.json
  }
}

/** Python's `str()` of a filter value: `True`/`False` for booleans. */
const pyStr = (v: string | number | boolean): string =>
  typeof v === "string" ? v : typeof v === "boolean" ? (v ? "True" : "False") : String(v)

const OPS = { eq: "=", ne: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" } as const

/** The columns a filter reads. @internal */
export interface Columns {
  readonly name: string
  readonly source: string
  readonly ts: string
  readonly metadata: string
}

/** The default column names of `pe_events` aliased as `e`. @internal */
export const eventColumns: Columns = { name: "e.name", source: "e.source", ts: "e.ts", metadata: "e.metadata" }

const contains = (q: Params, haystack: string, needle: string) =>
  q.dialect === "pg" ? `(strpos(${haystack}, ${q.text(needle)}) > 0)` : `(instr(${haystack}, ${q.add(needle)}) > 0)`

/** Epoch seconds truncated toward zero (integer division truncates in both dialects). */
const epochSeconds = (c: Columns) => `(${c.ts} / 1000000)`

const compareString = (q: Params, op: keyof typeof OPS, actual: string, value: string) =>
  q.dialect === "pg" ? `(${actual} COLLATE "C" ${OPS[op]} ${q.text(value)} COLLATE "C")` : `(${actual} ${OPS[op]} ${q.add(value)})`

const clause = (q: Params, c: Columns, cl: T.FilterClause): string => {
  const p = strip(cl.property)
  const value = cl.value
  const like = cl.operator === "like" || cl.operator === "not_like"
  const negate = cl.operator === "not_like"
  if (p === "name" || p === "source") {
    if (typeof value !== "string") return q.FALSE
    const col = p === "name" ? c.name : c.source
    if (like) return negate ? `(NOT ${contains(q, col, value)})` : contains(q, col, value)
    return compareString(q, cl.operator as keyof typeof OPS, col, value)
  }
  if (p === "timestamp") {
    if (typeof value !== "number") return q.FALSE
    if (like) {
      const text = q.dialect === "pg" ? `(${epochSeconds(c)})::text` : `CAST(${epochSeconds(c)} AS TEXT)`
      const hit = contains(q, text, pyStr(value))
      return negate ? `(NOT ${hit})` : hit
    }
    return `(${epochSeconds(c)} ${OPS[cl.operator as keyof typeof OPS]} ${q.int(value)})`
  }
  if (p === "") return q.FALSE
  const segments = p.split(".")
  const m = readMetadata(q, c.metadata, segments)
  if (like) {
    const guard = negate ? `${m.type()} IN ('string', 'number', 'boolean') AND ` : ""
    const text = `(CASE ${m.type()} WHEN 'string' THEN ${m.str()} WHEN 'number' THEN ${m.numText()} ` +
      `WHEN 'boolean' THEN (CASE ${m.bool()} WHEN 1 THEN 'True' ELSE 'False' END) END)`
    const hit = contains(q, text, pyStr(value))
    return negate ? `(${guard}NOT ${hit})` : hit
  }
  const op = OPS[cl.operator as keyof typeof OPS]
  if (typeof value === "string") return compareString(q, cl.operator as keyof typeof OPS, m.str(), value)
  if (typeof value === "boolean") return `(${m.bool()} ${op} ${q.int(value ? 1 : 0)})`
  return `(${m.num()} ${op} ${q.int(value)})`
}

const isClause = (c: T.FilterClause | T.Filter): c is T.FilterClause => !("clauses" in c)

/**
 * A boolean SQL expression for a meter filter: never NULL, so it can be
 * combined freely.
 *
 * @internal
 */
export const compileFilter = (q: Params, filter: T.Filter, c: Columns = eventColumns): string => {
  if (filter.clauses.length === 0) return q.TRUE
  const parts = filter.clauses.map((x) =>
    isClause(x) ? `COALESCE(${clause(q, c, x)}, ${q.FALSE})` : compileFilter(q, x, c)
  )
  return `(${parts.join(filter.conjunction === "and" ? " AND " : " OR ")})`
}

/**
 * The number an event contributes to sum/max/min/avg, NULL when it does not
 * take part (core's `numericValue`).
 *
 * @internal
 */
export const numericExpr = (q: Params, property: string, c: Columns = eventColumns): string => {
  const p = strip(property)
  if (p === "timestamp") {
    return `(CASE WHEN ${c.ts} >= 0 THEN (${c.ts} + 500000) / 1000000 ELSE -((500000 - ${c.ts}) / 1000000) END)`
  }
  if (p === "name" || p === "source" || p === "") return q.dialect === "pg" ? "NULL::float8" : "NULL"
  return readMetadata(q, c.metadata, p.split(".")).num()
}

/**
 * The identity `unique` counts: JSON type and value (core's `uniqueKey`),
 * NULL when missing.
 *
 * @internal
 */
export const uniqueExpr = (q: Params, property: string, c: Columns = eventColumns): string => {
  const p = strip(property)
  if (p === "") return q.dialect === "pg" ? "NULL::text" : "NULL"
  const m = readMetadata(q, c.metadata, p.split("."))
  const num = q.dialect === "pg" ? `(${m.num()})::text` : `printf('%!.17g', ${m.num()})`
  return `(CASE ${m.type()} WHEN 'string' THEN 's' || ${m.str()} WHEN 'number' THEN 'n' || ${num} ` +
    `WHEN 'boolean' THEN (CASE ${m.bool()} WHEN 1 THEN 'btrue' ELSE 'bfalse' END) ` +
    `WHEN 'null' THEN 'jnull' WHEN 'object' THEN 'j' || ${m.json()} WHEN 'array' THEN 'j' || ${m.json()} END)`
}

/**
 * A boolean: the top-level metadata `key` is a string equal to one of
 * `values` (the list's `metadata[key]=value` filter).
 *
 * @internal
 */
export const metadataEquals = (
  q: Params,
  key: string,
  values: ReadonlyArray<string>,
  c: Columns = eventColumns
): string => {
  if (values.length === 0) return q.FALSE
  const m = metadataValue(q, c.metadata, [key])
  return `COALESCE(${m.str()} IN (${q.list(values)}), ${q.FALSE})`
}
