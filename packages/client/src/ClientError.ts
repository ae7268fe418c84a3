/**
 * The typed errors of the Polar events client: one class per way a request
 * can fail, so a program can `Effect.catchTag` exactly the case it handles.
 *
 * Every error names the request (`method`, `endpoint`: the URL path without
 * host or query) and never carries the access token, the request headers or
 * the request body.
 *
 * @since 0.1.0
 */
import { ValidationError } from "@polar-events/core"
import { Duration, Predicate, Schema } from "effect"

const request = {
  /** the HTTP method, e.g. `POST` */
  method: Schema.String,
  /** the URL path that was requested, e.g. `/v1/events/ingest` */
  endpoint: Schema.String
}

const where = (e: { readonly method: string; readonly endpoint: string }) => `${e.method} ${e.endpoint}`

/**
 * 401: the access token is missing, invalid, expired or revoked. `error` is
 * Polar's error code (`Unauthorized`, `invalid_token`). Never retried.
 *
 * @since 0.1.0
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  ...request,
  error: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  get status(): 401 {
    return 401
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: 401 unauthorized${this.error ? ` (${this.error})` : ""}: check the access token`
  }
}

/**
 * 403: the token is valid but lacks the scope the endpoint needs
 * (`insufficient_scope`); `scope` is the scope Polar asked for, e.g.
 * `events:write`. Never retried.
 *
 * @since 0.1.0
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  ...request,
  error: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  get status(): 403 {
    return 403
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: 403 forbidden${this.error ? ` (${this.error})` : ""}${
      this.scope ? `: the token needs the scope ${this.scope}` : ""
    }`
  }
}

/**
 * 404: no such resource, e.g. `get` of an unknown event id. Polar's reads are
 * eventually consistent, so an event ingested a moment ago may still be
 * missing. Never retried.
 *
 * @since 0.1.0
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  ...request,
  detail: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  get status(): 404 {
    return 404
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: 404 not found${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * Events or a query that Polar's rules reject, with every problem and its
 * location (`loc`, e.g. `["body", "events", 3, "metadata", "tokens"]`) in
 * Polar's 422 shape. `origin` says who found them: `"client"` when the
 * client's own validation stopped the request before it was sent (nothing
 * was sent), `"server"` for a 422 response (Polar rejected the whole
 * request; nothing was inserted). Never retried.
 *
 * @since 0.1.0
 */
export class ValidationFailed extends Schema.TaggedError<ValidationFailed>()("ValidationFailed", {
  ...request,
  origin: Schema.Literal("client", "server"),
  detail: Schema.Array(ValidationError.ErrorDetail)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const summary = ValidationError.make(this.detail).message
    return `${where(this)}: ${this.origin === "client" ? "rejected before sending" : "422"}: ${summary}`
  }
}

/**
 * 413: the request body is larger than the server accepts (Polar: 10 MiB).
 * `ingest` answers it by halving the batch; it reaches the caller only when a
 * single event is too large.
 *
 * @since 0.1.0
 */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  ...request,
  /** the size of the body that was refused */
  bytes: Schema.Number,
  /** how many events it held (0 when not known) */
  events: Schema.Number
}) {
  /** @since 0.1.0 */
  get status(): 413 {
    return 413
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: 413 payload too large (${this.bytes} bytes, ${this.events} events)`
  }
}

/**
 * 429: the organization's rate limit (shared by every `/v1` endpoint) is
 * exhausted. `retryAfter` is the wait Polar asked for in `Retry-After`. The
 * client pauses all of its requests for that long and retries; this error
 * reaches the caller only when the retry budget is spent.
 *
 * @since 0.1.0
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...request,
  retryAfter: Schema.optional(Schema.DurationFromMillis)
}) {
  /** @since 0.1.0 */
  get status(): 429 {
    return 429
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: 429 rate limited${
      this.retryAfter ? `, retry after ${Duration.format(this.retryAfter)}` : ""
    }`
  }
}

/**
 * A 5xx response. 500, 502, 503 and 504 are retried by default (honoring a
 * `Retry-After` when the server sends one); this error reaches the caller when
 * the retry budget is spent or the status is not retryable (e.g. 501).
 * `body` is the start of the response body, for diagnosis.
 *
 * @since 0.1.0
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  ...request,
  status: Schema.Number,
  body: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: ${this.status} server error${this.body ? `: ${this.body}` : ""}`
  }
}

/**
 * Any other status the API does not document for the endpoint, e.g. 400, 405,
 * 408 (retried by default) or 411. `body` is the start of the response body.
 *
 * @since 0.1.0
 */
export class UnexpectedStatus extends Schema.TaggedError<UnexpectedStatus>()("UnexpectedStatus", {
  ...request,
  status: Schema.Number,
  body: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: unexpected status ${this.status}${this.body ? `: ${this.body}` : ""}`
  }
}

/**
 * The request got no HTTP response: the connection was refused or dropped,
 * or the request timed out (`reason`). Retried by default. The server may or
 * may not have processed the request; ingest stays exactly-once because every
 * event carries its `external_id`.
 *
 * @since 0.1.0
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  ...request,
  reason: Schema.Literal("Timeout", "Connection"),
  description: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${where(this)}: ${this.reason === "Timeout" ? "timed out" : "transport failure"}: ${this.description}`
  }
}

/**
 * A response that does not match Polar's spec: not JSON, or JSON of the
 * wrong shape. `path` is where in the body the first problem is (e.g.
 * `["items", 3, "timestamp"]`), `issue` what is wrong there. Never retried.
 *
 * @since 0.1.0
 */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  ...request,
  status: Schema.Number,
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  issue: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const at = this.path.length === 0 ? "the body" : ValidationError.formatLoc(this.path)
    return `${where(this)}: ${this.status} response does not match the spec at ${at}: ${this.issue}`
  }
}

/**
 * Every error a client request can fail with.
 *
 * @since 0.1.0
 */
export type ClientError =
  | Unauthorized
  | Forbidden
  | NotFound
  | ValidationFailed
  | PayloadTooLarge
  | RateLimited
  | ServerError
  | UnexpectedStatus
  | TransportError
  | ResponseDecodeError

/**
 * The schema of every client error, e.g. to send one over an RPC boundary.
 *
 * @since 0.1.0
 */
export const ClientError = Schema.Union(
  Unauthorized,
  Forbidden,
  NotFound,
  ValidationFailed,
  PayloadTooLarge,
  RateLimited,
  ServerError,
  UnexpectedStatus,
  TransportError,
  ResponseDecodeError
)

const tags = new Set([
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "ValidationFailed",
  "PayloadTooLarge",
  "RateLimited",
  "ServerError",
  "UnexpectedStatus",
  "TransportError",
  "ResponseDecodeError"
])

/**
 * True for any client error.
 *
 * @since 0.1.0
 */
export const isClientError = (u: unknown): u is ClientError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

/**
 * The HTTP status behind an error, if it came from a response.
 *
 * @since 0.1.0
 */
export const statusOf = (error: ClientError): number | undefined => {
  switch (error._tag) {
    case "Unauthorized":
    case "Forbidden":
    case "NotFound":
    case "PayloadTooLarge":
    case "RateLimited":
    case "ServerError":
    case "UnexpectedStatus":
    case "ResponseDecodeError":
      return error.status
    case "ValidationFailed":
      return error.origin === "server" ? 422 : undefined
    case "TransportError":
      return undefined
  }
}
