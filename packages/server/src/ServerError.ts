/**
 * The errors the server answers with, besides 422 (core's
 * `RequestValidationError`), each with the status, headers and body Polar
 * sends (polar-events-api.md §1 "Errors"), and the wire schemas of those
 * bodies so that a client or a test can decode them.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * `401` without a bearer token: `{"error":"Unauthorized","detail":"Unauthorized"}`
 * and `WWW-Authenticate: Bearer realm="polar"`.
 *
 * @since 0.1.0
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {}) {}

/**
 * `401` for a token the server does not know: the RFC 6750 body
 * `{"error":"invalid_token","error_description":…}` with the same error in
 * `WWW-Authenticate`.
 *
 * @since 0.1.0
 */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {}) {}

/**
 * `403` for a token without the scope an endpoint needs:
 * `{"error":"insufficient_scope",…}`, the scopes that would do in
 * `WWW-Authenticate: Bearer …, scope="events:write", …`.
 *
 * @since 0.1.0
 */
export class InsufficientScope extends Schema.TaggedError<InsufficientScope>()("InsufficientScope", {
  scopes: Schema.Array(Schema.String)
}) {}

/**
 * `404` for an event that does not exist in the token's organization:
 * `{"error":"ResourceNotFound","detail":"Not found"}`.
 *
 * @since 0.1.0
 */
export class ResourceNotFound extends Schema.TaggedError<ResourceNotFound>()("ResourceNotFound", {}) {}

/**
 * `411` for a POST without `Content-Length` (Polar refuses chunked uploads).
 *
 * @since 0.1.0
 */
export class LengthRequired extends Schema.TaggedError<LengthRequired>()("LengthRequired", {}) {}

/**
 * `413` for a body above the limit (10 MiB, as Polar): refused from its
 * `Content-Length` before a byte is read.
 *
 * @since 0.1.0
 */
export class RequestBodyTooLarge extends Schema.TaggedError<RequestBodyTooLarge>()("RequestBodyTooLarge", {
  limit: Schema.Number
}) {}

/**
 * `414` for a request target (path and query) above the limit.
 *
 * @since 0.1.0
 */
export class URITooLong extends Schema.TaggedError<URITooLong>()("URITooLong", {
  limit: Schema.Number
}) {}

/**
 * `429` when a token used up its rate limit: an empty body and
 * `retry-after: <seconds>`.
 *
 * @since 0.1.0
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterSeconds: Schema.Number
}) {}

/**
 * `400` for a body that is not valid UTF-8:
 * `{"detail":"There was an error parsing the body"}` (FastAPI's answer).
 *
 * @since 0.1.0
 */
export class BodyParseError extends Schema.TaggedError<BodyParseError>()("BodyParseError", {}) {}

/**
 * `404` for a `Polar-Version` header naming a version the server does not
 * serve: `{"detail":"Not Found"}`.
 *
 * @since 0.1.0
 */
export class UnsupportedVersion extends Schema.TaggedError<UnsupportedVersion>()("UnsupportedVersion", {}) {}

/**
 * Any error the server turns into a response of its own.
 *
 * @since 0.1.0
 */
export type ServerError =
  | Unauthorized
  | InvalidToken
  | InsufficientScope
  | ResourceNotFound
  | LengthRequired
  | RequestBodyTooLarge
  | URITooLong
  | RateLimited
  | BodyParseError
  | UnsupportedVersion

/**
 * The body of Polar's own errors: `{error, detail}` with a text detail
 * (`ResourceNotFound`, `Unauthorized`, `LengthRequired`,
 * `RequestBodyTooLarge`, `URITooLong`).
 *
 * @since 0.1.0
 */
export const PolarErrorBody = Schema.Struct({ error: Schema.String, detail: Schema.String })

/** @since 0.1.0 */
export type PolarErrorBody = typeof PolarErrorBody.Type

/**
 * An RFC 6750 bearer error body (`invalid_token`, `insufficient_scope`).
 *
 * @since 0.1.0
 */
export const OAuth2ErrorBody = Schema.Struct({
  error: Schema.Literal("invalid_token", "insufficient_scope"),
  error_description: Schema.optional(Schema.String)
})

/** @since 0.1.0 */
export type OAuth2ErrorBody = typeof OAuth2ErrorBody.Type
