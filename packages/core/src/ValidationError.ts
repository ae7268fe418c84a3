/**
 * Polar's 422 body (`HTTPValidationError`) and the typed error that carries it
 * inside an Effect program.
 *
 * Every problem found in a request is one `ErrorDetail` with its exact
 * location (`loc`), e.g. `["body", "events", 3, "metadata", "tokens"]` for an
 * ingest body or `["query", "limit"]` for a query string.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * One element of a location: an object key or an array index. Any number
 * decodes; the JSON Schema says `integer`, as Polar's spec does, since an
 * index always is one.
 *
 * @since 0.1.0
 */
export const LocItem = Schema.Union(Schema.String, Schema.Number.annotations({ jsonSchema: { type: "integer" } }))
/** @since 0.1.0 */
export type LocItem = string | number

/**
 * One validation problem (Polar's `ValidationError`): where (`loc`), what
 * (`msg`), which rule (`type`, pydantic's error names such as `missing`,
 * `string_too_long`, `uuid_version`), and the offending `input`.
 *
 * @since 0.1.0
 */
export const ErrorDetail = Schema.Struct({
  loc: Schema.Array(LocItem),
  msg: Schema.String,
  type: Schema.String,
  input: Schema.optional(Schema.Unknown),
  ctx: Schema.optional(Schema.Object)
}).annotations({ identifier: "ValidationError", title: "ValidationError" })
/** @since 0.1.0 */
export type ErrorDetail = typeof ErrorDetail.Type

/**
 * The values Polar puts in the top-level `error` key of a 422 body.
 *
 * @since 0.1.0
 */
export const ErrorName = Schema.Literal("RequestValidationError", "PolarRequestValidationError")
/** @since 0.1.0 */
export type ErrorName = typeof ErrorName.Type

/**
 * A 422 body as it travels on the wire. The spec declares only `detail`;
 * Polar's server also sends `error` (`"RequestValidationError"` for schema
 * errors, `"PolarRequestValidationError"` for business rules). Any string is
 * accepted there so that a new name never breaks a client.
 *
 * @since 0.1.0
 */
export const HTTPValidationError = Schema.Struct({
  error: Schema.optional(Schema.String),
  detail: Schema.Array(ErrorDetail)
}).annotations({ identifier: "HTTPValidationError", title: "HTTPValidationError" })
/** @since 0.1.0 */
export type HTTPValidationError = typeof HTTPValidationError.Type

/** Renders a location the way a person reads it: `body.events[3].metadata.tokens`. @since 0.1.0 */
export const formatLoc = (loc: ReadonlyArray<LocItem>): string => {
  let out = ""
  for (const item of loc) {
    out += typeof item === "number" ? `[${item}]` : out === "" ? item : `.${item}`
  }
  return out
}

const SHOWN = 5

/**
 * A request that failed validation: every problem found, each with its
 * location. Crosses HTTP and storage boundaries, so it is a Schema class.
 *
 * @since 0.1.0
 */
export class RequestValidationError extends Schema.TaggedError<RequestValidationError>()(
  "RequestValidationError",
  { detail: Schema.Array(ErrorDetail) }
) {
  /** A readable summary naming the first few locations. */
  override get message(): string {
    const n = this.detail.length
    const lines = this.detail.slice(0, SHOWN).map((d) => `${formatLoc(d.loc)}: ${d.msg} [${d.type}]`)
    if (n > SHOWN) lines.push(`... and ${n - SHOWN} more`)
    return `${n} validation error${n === 1 ? "" : "s"}${n === 0 ? "" : `:\n  ${lines.join("\n  ")}`}`
  }
}

/**
 * Builds one `ErrorDetail`; `input` is left out when it is `undefined`.
 *
 * @since 0.1.0
 */
export const makeDetail = (
  loc: ReadonlyArray<LocItem>,
  type: string,
  msg: string,
  input?: unknown,
  ctx?: object
): ErrorDetail => {
  const d: { loc: ReadonlyArray<LocItem>; msg: string; type: string; input?: unknown; ctx?: object } = {
    loc,
    msg,
    type
  }
  if (input !== undefined) d.input = input
  if (ctx !== undefined) d.ctx = ctx
  return d
}

/** A `RequestValidationError` from its details. @since 0.1.0 */
export const make = (detail: ReadonlyArray<ErrorDetail>): RequestValidationError =>
  new RequestValidationError({ detail })

/**
 * The 422 body to send for an error (`error` defaults to
 * `"RequestValidationError"`, as Polar sends for schema errors).
 *
 * @since 0.1.0
 */
export const toHTTP = (
  error: RequestValidationError,
  name: string = "RequestValidationError"
): HTTPValidationError => ({ error: name, detail: error.detail })

/** The typed error for a decoded 422 body. @since 0.1.0 */
export const fromHTTP = (body: HTTPValidationError): RequestValidationError =>
  new RequestValidationError({ detail: body.detail })
