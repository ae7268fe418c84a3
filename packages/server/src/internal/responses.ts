import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { ValidationError } from "@polar-events/core"
import type { ServerError } from "../ServerError.js"

/** Polar sends this on every response. */
export const CACHE_CONTROL = "private, no-store"

const INVALID_TOKEN_DESCRIPTION =
  "The access token provided is expired, revoked, malformed, or invalid for other reasons."
const INSUFFICIENT_SCOPE_DESCRIPTION = "The request requires higher privileges than provided by the access token."

/** The ingest error types that come from Polar's business checks rather than its schema. */
const BUSINESS_TYPES = new Set(["organization_token", "organization_id", "customer_id", "member_id"])

export const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(JSON.stringify(body), {
    status,
    contentType: "application/json",
    headers: { "cache-control": CACHE_CONTROL, ...headers }
  })

/** A JSON response from text already serialized. */
export const jsonText = (status: number, text: string): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(text, {
    status,
    contentType: "application/json",
    headers: { "cache-control": CACHE_CONTROL }
  })

/**
 * Polar's 422: `{"error": ..., "detail": [...]}`. `error` is
 * `PolarRequestValidationError` when every problem is one of Polar's
 * business rules (as its service layer raises them), else
 * `RequestValidationError` (pydantic's schema errors).
 */
export const validationError = (error: ValidationError.RequestValidationError): HttpServerResponse.HttpServerResponse => {
  const business = error.detail.length > 0 && error.detail.every((d) => BUSINESS_TYPES.has(d.type))
  const body = ValidationError.toHTTP(error, business ? "PolarRequestValidationError" : "RequestValidationError")
  let text: string
  try {
    text = JSON.stringify(body)
  } catch {
    // an input nested too deep to serialize: the details without their inputs
    text = JSON.stringify({ ...body, detail: body.detail.map(({ input: _, ...d }) => d) })
  }
  return jsonText(422, text)
}

const bearer = (realm: string, attributes: ReadonlyArray<readonly [string, string]>) =>
  "Bearer " + [["realm", realm] as const, ...attributes].map(([k, v]) => `${k}="${v}"`).join(", ")

/** The response for each of the server's own errors, with Polar's status, headers and body. */
export const serverError = (error: ServerError, realm: string): HttpServerResponse.HttpServerResponse => {
  switch (error._tag) {
    case "Unauthorized":
      return json(401, { error: "Unauthorized", detail: "Unauthorized" }, { "www-authenticate": bearer(realm, []) })
    case "InvalidToken":
      return json(401, { error: "invalid_token", error_description: INVALID_TOKEN_DESCRIPTION }, {
        "www-authenticate": bearer(realm, [["error", "invalid_token"], ["error_description", INVALID_TOKEN_DESCRIPTION]]),
        pragma: "no-cache"
      })
    case "InsufficientScope":
      return json(403, { error: "insufficient_scope", error_description: INSUFFICIENT_SCOPE_DESCRIPTION }, {
        "www-authenticate": bearer(realm, [
          ["scope", error.scopes.join(" ")],
          ["error", "insufficient_scope"],
          ["error_description", INSUFFICIENT_SCOPE_DESCRIPTION]
        ]),
        pragma: "no-cache"
      })
    case "ResourceNotFound":
      return json(404, { error: "ResourceNotFound", detail: "Not found" })
    case "LengthRequired":
      return json(411, { error: "LengthRequired", detail: "Length Required" })
    case "RequestBodyTooLarge":
      return json(413, { error: "RequestBodyTooLarge", detail: `Request body too large (limit: ${error.limit} bytes)` })
    case "URITooLong":
      return json(414, { error: "URITooLong", detail: `Request target too long (limit: ${error.limit} bytes)` })
    case "RateLimited":
      return HttpServerResponse.empty({
        status: 429,
        headers: { "retry-after": String(error.retryAfterSeconds), "cache-control": CACHE_CONTROL }
      })
    case "BodyParseError":
      return json(400, { detail: "There was an error parsing the body" })
    case "UnsupportedVersion":
      return json(404, { detail: "Not Found" })
  }
}

/** Polar's (Starlette's) 500: plain text, nothing about the cause. */
export const internalError = (): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text("Internal Server Error", {
    status: 500,
    headers: { "cache-control": CACHE_CONTROL }
  })

/** FastAPI's answer to an unknown route. */
export const notFound = (): HttpServerResponse.HttpServerResponse => json(404, { detail: "Not Found" })
