/**
 * Polar's events API declared once, as an `HttpApi` built from core's
 * schemas: the server implements it (`HttpApiBuilder`), a client calls it
 * (`HttpApiClient.make(EventsApi.Api)`), and the OpenAPI document is derived
 * from it (`OpenApi.fromApi(EventsApi.Api)`).
 *
 * Names (stable):
 * - `Api`: the API, with one group, `EventsGroup` (`"events"`), so a client
 *   reads `client.events.<endpoint>`.
 * - Endpoints: `ingest` (`POST /v1/events/ingest`), `list` (`GET /v1/events/`),
 *   `names` (`GET /v1/events/names`), `get` (`GET /v1/events/:id`); their
 *   operation ids are Polar's (`events:ingest`, `events:list`,
 *   `events:list_names`, `events:get`).
 * - Success schemas decode Polar's JSON into core's types: `IngestResponse`
 *   (`EventCreate.EventsIngestResponse`), `EventsPage` (a `ListResource` or a
 *   `CursorListResource` of `Event.Event`), `NamesPage`, `Event.Event`.
 * - Errors, each with its status: `ValidationFailed` (422, decodes to
 *   core's `RequestValidationError`), `Unauthorized` and `InvalidToken`
 *   (401), `InsufficientScope` (403), `ResourceNotFound` (404), `LengthRequired`
 *   (411), `RequestBodyTooLarge` (413), `URITooLong` (414), `RateLimited`
 *   (429, empty body), `InternalServerError` (500, plain text).
 * - Query and path parameters: `ListParams`, `NamesParams`, `GetPath`.
 *
 * The parameters are the raw query (`string | ReadonlyArray<string>` per
 * key, `metadata[key]` keys included), not decoded values: Polar's query
 * rules (order of repeated keys, deepObject metadata, pydantic's 422 with
 * its locations) are applied by `EventQuery.decodeSearchParams`, so the
 * contract never refuses a request before the handler sees it. Each
 * parameter is documented with the schema Polar declares for it. A client
 * fills them with `EventQuery.encodeSearchParams` (see `listParams`).
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema, SchemaAST as AST } from "effect"
import * as Event from "./Event.js"
import * as EventCreate from "./EventCreate.js"
import * as EventQuery from "./EventQuery.js"
import * as ValidationError from "./ValidationError.js"

// ---------------------------------------------------------------------------
// parameters
// ---------------------------------------------------------------------------

/** A raw query value: one string, or the values of a repeated key in order. @since 0.1.0 */
export type QueryValue = string | ReadonlyArray<string>

const isQueryValue = (u: unknown): u is QueryValue =>
  typeof u === "string" || (Array.isArray(u) && u.every((s) => typeof s === "string"))

/**
 * A parameter as it arrives (any string or list of strings: it never fails
 * to decode), documented by `doc`, the schema Polar declares for it.
 */
const documented = <A, I>(doc: Schema.Schema<A, I>): Schema.Schema<QueryValue> =>
  Schema.declare(isQueryValue, { [AST.SurrogateAnnotationId]: doc.ast })

const param = <A, I>(doc: Schema.Schema<A, I>) => Schema.optional(documented(doc))

const described = <S extends Schema.Schema.Any>(schema: S, description: string): S =>
  schema.annotations({ description }) as S

const Uuid4 = Schema.String.annotations({ jsonSchema: { type: "string", format: "uuid4" } })
const DateTime = Schema.String.annotations({ jsonSchema: { type: "string", format: "date-time" } })
const oneOrMany = <A, I>(item: Schema.Schema<A, I>) => Schema.Union(item, Schema.Array(item), Schema.Null)
const PositiveInt = Schema.Int.pipe(Schema.positive())

const EventSource = Event.EventSource
const EventSortProperty = EventQuery.EventSortProperty
const EventNamesSortProperty = EventQuery.EventNamesSortProperty

/** How `metadata[key]=value` is documented (Polar's `MetadataQuery`, `deepObject` style). */
const MetadataQueryDoc = Schema.NullOr(
  Schema.Record({
    key: Schema.String,
    value: Schema.Union(
      Schema.String,
      Schema.Int,
      Schema.Boolean,
      Schema.Array(Schema.String),
      Schema.Array(Schema.Int),
      Schema.Array(Schema.Boolean)
    )
  })
).annotations({ identifier: "MetadataQuery", title: "MetadataQuery" })

const organizationId = param(described(oneOrMany(Uuid4), "Filter by organization ID."))
const customerId = param(described(oneOrMany(Uuid4), "Filter by customer ID."))
const externalCustomerId = param(described(oneOrMany(Schema.String), "Filter by external customer ID."))
const source = param(described(oneOrMany(EventSource), "Filter by event source."))
const page = param(PositiveInt.annotations({ description: "Page number, defaults to 1.", default: 1 }))
const limit = param(
  PositiveInt.annotations({ description: "Size of a page, defaults to 10. Maximum is 100.", default: 10 })
)
const SORTING = "Sorting criterion. Several criteria can be used simultaneously and will be applied in order. " +
  "Add a minus sign `-` before the criteria name to sort by descending order."

/**
 * Any `metadata[key]` (and other) query keys, passed through to the handler.
 * Typed `| undefined` so that the named optional parameters beside it fit
 * the index signature in projects without `exactOptionalPropertyTypes`; a
 * parsed query never holds `undefined`.
 */
const otherKeys = Schema.Record({
  key: Schema.String,
  value: documented(Schema.String) as Schema.Schema<QueryValue | undefined>
})

/**
 * The query of `GET /v1/events/`: Polar's parameters in Polar's order, then
 * Polar's hidden `cursor_pagination` and this library's `cursor`.
 *
 * @since 0.1.0
 */
export const ListParams = Schema.Struct({
  filter: param(described(
    Schema.NullOr(Schema.String),
    "Filter events following filter clauses. JSON string following the same schema a meter filter clause. "
  )),
  start_timestamp: param(described(Schema.NullOr(DateTime), "Filter events after this timestamp.")),
  end_timestamp: param(described(Schema.NullOr(DateTime), "Filter events before this timestamp.")),
  organization_id: organizationId,
  customer_id: customerId,
  external_customer_id: externalCustomerId,
  meter_id: param(described(Schema.NullOr(Uuid4), "Filter by a meter filter clause.")),
  name: param(described(oneOrMany(Schema.String), "Filter by event name.")),
  source,
  query: param(described(Schema.NullOr(Schema.String), "Query to filter events.")),
  parent_id: param(described(
    Schema.NullOr(Uuid4),
    "When combined with depth, use this event as the anchor instead of root events."
  )),
  depth: param(described(
    Schema.NullOr(Schema.Int.pipe(Schema.between(0, 5))),
    "Fetch descendants up to this depth. When set: 0=root events only, 1=roots+children, etc. Max 5. " +
      "When not set, returns all events."
  )),
  page,
  limit,
  sorting: param(Schema.NullOr(Schema.Array(EventSortProperty)).annotations({
    description: SORTING,
    default: ["-timestamp"]
  })),
  metadata: param(MetadataQueryDoc),
  cursor_pagination: param(Schema.Boolean.annotations({
    description:
      "Polar's hidden switch: answer with `{items, pagination: {has_next_page}}` (plus this server's `next_cursor`).",
    default: false
  })),
  cursor: param(Schema.String.annotations({
    description: "Extension of this server: continue a cursor listing after the page that returned this " +
      "`next_cursor`. Stable while events are inserted."
  }))
}, otherKeys)
/** @since 0.1.0 */
export type ListParams = typeof ListParams.Type

/**
 * The query of `GET /v1/events/names`, Polar's parameters in Polar's order.
 *
 * @since 0.1.0
 */
export const NamesParams = Schema.Struct({
  organization_id: organizationId,
  customer_id: customerId,
  external_customer_id: externalCustomerId,
  source,
  query: param(described(Schema.NullOr(Schema.String), "Query to filter event names.")),
  page,
  limit,
  sorting: param(Schema.NullOr(Schema.Array(EventNamesSortProperty)).annotations({
    description: SORTING,
    default: ["-last_seen"]
  }))
})
/** @since 0.1.0 */
export type NamesParams = typeof NamesParams.Type

/**
 * The path of `GET /v1/events/{id}`: the raw id (pydantic's UUID spellings
 * are read by the handler, which answers 422 for anything else).
 *
 * @since 0.1.0
 */
export const GetPath = Schema.Struct({
  id: Schema.declare((u): u is string => typeof u === "string", {
    [AST.SurrogateAnnotationId]: described(Uuid4, "The event ID.").ast
  })
})

const toEntries = (params: Iterable<readonly [string, string]>): Record<string, QueryValue> => {
  const out: Record<string, Array<string>> = {}
  for (const [key, value] of params) (out[key] ??= []).push(value)
  return out
}

/**
 * A listing query as the contract's `urlParams` (`EventQuery.encodeSearchParams`).
 *
 * @since 0.1.0
 */
export const listParams = (query: EventQuery.ListEventsQuery): ListParams =>
  toEntries(EventQuery.encodeSearchParams(query)) as ListParams

/**
 * A names query as the contract's `urlParams` (`EventQuery.encodeNamesSearchParams`).
 *
 * @since 0.1.0
 */
export const namesParams = (query: EventQuery.ListEventNamesQuery): NamesParams =>
  toEntries(EventQuery.encodeNamesSearchParams(query)) as NamesParams

// ---------------------------------------------------------------------------
// responses
// ---------------------------------------------------------------------------

/** The answer to an ingest. @since 0.1.0 */
export const IngestResponse = EventCreate.EventsIngestResponse

/**
 * Cursor pagination with this library's `next_cursor` (absent on Polar).
 *
 * @since 0.1.0
 */
export const CursorPagination = Schema.Struct({
  ...EventQuery.CursorPagination.fields,
  nextCursor: Schema.optionalWith(Schema.String, { exact: true }).pipe(Schema.fromKey("next_cursor"))
}).annotations({ identifier: "CursorPagination", title: "CursorPagination" })

/** A page of events with page numbers (Polar's `ListResource[Event]`). @since 0.1.0 */
export const EventsListResource = EventQuery.ListResource(Event.Event).annotations({
  identifier: "ListResource_Event_",
  title: "ListResource[Event]"
})

/** A page of events with a cursor (Polar's `ListResourceWithCursorPagination[Event]`). @since 0.1.0 */
export const EventsCursorResource = Schema.Struct({ items: Schema.Array(Event.Event), pagination: CursorPagination })
  .annotations({
    identifier: "ListResourceWithCursorPagination_Event_",
    title: "ListResourceWithCursorPagination[Event]"
  })

/** The answer to `GET /v1/events/`. @since 0.1.0 */
export const EventsPage = Schema.Union(EventsListResource, EventsCursorResource).annotations({
  title: "Response Events:List"
})
/** @since 0.1.0 */
export type EventsPage = typeof EventsPage.Type

/** The answer to `GET /v1/events/names` (Polar's `ListResource[EventName]`). @since 0.1.0 */
export const NamesPage = EventQuery.ListResource(EventQuery.EventName).annotations({
  identifier: "ListResource_EventName_",
  title: "ListResource[EventName]"
})
/** @since 0.1.0 */
export type NamesPage = typeof NamesPage.Type

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

const polarError = <const N extends string>(
  name: N,
  detail: string,
  status: number,
  description?: string
) =>
  Schema.Struct({
    error: Schema.Literal(name),
    detail: Schema.String.annotations({ description: detail })
  }).annotations(HttpApiSchema.annotations({
    identifier: name,
    title: name,
    status,
    ...(description === undefined ? {} : { description })
  }))

/**
 * 422: pydantic's validation error body, decoded to core's `RequestValidationError`.
 *
 * @since 0.1.0
 */
export const ValidationFailed = Schema.transform(
  ValidationError.HTTPValidationError,
  Schema.instanceOf(ValidationError.RequestValidationError),
  {
    strict: true,
    decode: (body) => ValidationError.fromHTTP(body),
    encode: (error) => ValidationError.toHTTP(error)
  }
).annotations(HttpApiSchema.annotations({ status: 422, description: "Validation Error" }))

/** 401 without a bearer token: `{"error":"Unauthorized","detail":"Unauthorized"}`. @since 0.1.0 */
export const Unauthorized = polarError("Unauthorized", "Always `Unauthorized`.", 401)

const OAuth2ErrorBody = Schema.Struct({
  error: Schema.Literal("invalid_token", "insufficient_scope"),
  error_description: Schema.optionalWith(Schema.String, { exact: true })
})

const oauth2Error = (status: number) =>
  OAuth2ErrorBody.annotations(HttpApiSchema.annotations({
    identifier: "OAuth2Error",
    title: "OAuth2Error",
    description: "An RFC 6750 bearer token error.",
    status
  }))

/**
 * 401 for a token the server does not know: the RFC 6750 body
 * `{"error":"invalid_token",…}`, the challenge in `WWW-Authenticate`.
 *
 * @since 0.1.0
 */
export const InvalidToken = oauth2Error(401)

/**
 * 403 for a token without the scope: `{"error":"insufficient_scope",…}`,
 * the scopes that would do in `WWW-Authenticate`.
 *
 * @since 0.1.0
 */
export const InsufficientScope = oauth2Error(403)

/** 404: `{"error":"ResourceNotFound","detail":"Not found"}`. @since 0.1.0 */
export const ResourceNotFound = polarError("ResourceNotFound", "Not found", 404, "Event not found.")

/** 411: a POST without `Content-Length`. @since 0.1.0 */
export const LengthRequired = polarError(
  "LengthRequired",
  "A POST body must be sent with a Content-Length (no chunked uploads).",
  411
)

/** 413: a body above the limit (10 MiB by default). @since 0.1.0 */
export const RequestBodyTooLarge = polarError(
  "RequestBodyTooLarge",
  "The body is larger than the limit (10 MiB by default).",
  413
)

/** 414: a request target (path and query) above the limit. @since 0.1.0 */
export const URITooLong = polarError(
  "URITooLong",
  "The request target is longer than the limit (16 KiB by default).",
  414
)

/** 429: the token's rate limit is used up; empty body, `retry-after` in seconds. @since 0.1.0 */
export const RateLimited = HttpApiSchema.Empty(429).annotations({
  description: "The token's rate limit is exceeded (only when a limit is configured). The body is empty."
})

/** 500: a failure of the server, plain text. @since 0.1.0 */
export const InternalServerError = HttpApiSchema.Text().annotations(
  HttpApiSchema.annotations({ status: 500, description: "Internal Server Error (plain text)." })
)

// ---------------------------------------------------------------------------
// endpoints
// ---------------------------------------------------------------------------

const READ = ["events:read", "events:write"]
const WRITE = ["events:write"]

/** Polar's operation id and `oat` scopes on an operation. */
const operation = (operationId: string, scopes: ReadonlyArray<string>) =>
  OpenApi.annotations({
    identifier: operationId,
    transform: (op) => ({ ...op, security: [{ oat: [...scopes] }] })
  })

/**
 * `POST /v1/events/ingest`: `{events: [...]}` to `{inserted, duplicates}`.
 *
 * @since 0.1.0
 */
export const ingest = HttpApiEndpoint.post("ingest", "/v1/events/ingest")
  .setPayload(EventCreate.EventsIngest)
  .addSuccess(IngestResponse)
  .addError(ValidationFailed)
  .addError(Unauthorized)
  .addError(InvalidToken)
  .addError(InsufficientScope)
  .addError(LengthRequired)
  .addError(RequestBodyTooLarge)
  .addError(URITooLong)
  .addError(RateLimited)
  .addError(InternalServerError)
  .annotateContext(operation("events:ingest", WRITE))

/**
 * `GET /v1/events/`: a page of events.
 *
 * @since 0.1.0
 */
export const list = HttpApiEndpoint.get("list", "/v1/events/")
  .setUrlParams(ListParams)
  .addSuccess(EventsPage)
  .addError(ValidationFailed)
  .addError(Unauthorized)
  .addError(InvalidToken)
  .addError(InsufficientScope)
  .addError(URITooLong)
  .addError(RateLimited)
  .addError(InternalServerError)
  .annotateContext(OpenApi.annotations({
    identifier: "events:list",
    transform: (op) => ({
      ...op,
      security: [{ oat: [...READ] }],
      parameters: (op.parameters as ReadonlyArray<{ readonly name: string }>).map((p) =>
        p.name === "metadata" ? { ...p, style: "deepObject" } : p
      )
    })
  }))

/**
 * `GET /v1/events/names`: a page of event names.
 *
 * @since 0.1.0
 */
export const names = HttpApiEndpoint.get("names", "/v1/events/names")
  .setUrlParams(NamesParams)
  .addSuccess(NamesPage)
  .addError(ValidationFailed)
  .addError(Unauthorized)
  .addError(InvalidToken)
  .addError(InsufficientScope)
  .addError(URITooLong)
  .addError(RateLimited)
  .addError(InternalServerError)
  .annotateContext(operation("events:list_names", READ))

/**
 * `GET /v1/events/{id}`: one event.
 *
 * @since 0.1.0
 */
export const get = HttpApiEndpoint.get("get", "/v1/events/:id")
  .setPath(GetPath)
  .addSuccess(Event.Event)
  .addError(ValidationFailed)
  .addError(ResourceNotFound)
  .addError(Unauthorized)
  .addError(InvalidToken)
  .addError(InsufficientScope)
  .addError(URITooLong)
  .addError(RateLimited)
  .addError(InternalServerError)
  .annotateContext(operation("events:get", READ))

/**
 * The events endpoints as one group (`"events"`).
 *
 * @since 0.1.0
 */
export class EventsGroup extends HttpApiGroup.make("events")
  .add(list)
  .add(names)
  .add(get)
  .add(ingest)
{}

/**
 * Polar's `oat` bearer scheme (organization access tokens).
 *
 * @since 0.1.0
 */
export const securitySchemes = {
  oat: {
    type: "http",
    description: "You can generate an **Organization Access Token** from your organization's settings.",
    scheme: "bearer"
  }
} as const

/**
 * Components of core's own (branded ids, helper types) that Polar spells
 * inline, and HttpApi's 400 `HttpApiDecodeError`, which this contract never
 * answers with (its parameters decode any query; the handlers answer 422).
 */
const INLINED = new Set([
  "Int",
  "UUID",
  "EventId",
  "OrganizationId",
  "CustomerId",
  "MemberId",
  "ExternalId",
  "ExternalCustomerId",
  "ExternalMemberId",
  "Timestamp",
  "CountryAlpha2",
  "UnknownSystemEventName"
])
const DECODE_ERROR = ["HttpApiDecodeError", "Issue", "PropertyKey"]
const REF = "#/components/schemas/"

const inline = (node: unknown, defs: Record<string, unknown>): unknown => {
  if (Array.isArray(node)) return node.map((n) => inline(n, defs))
  if (node === null || typeof node !== "object") return node
  const { $ref, ...rest } = node as { readonly $ref?: unknown }
  if (typeof $ref === "string" && $ref.startsWith(REF) && INLINED.has($ref.slice(REF.length))) {
    return { ...(inline(defs[$ref.slice(REF.length)], defs) as object), ...(inline(rest, defs) as object) }
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) out[k] = inline(v, defs)
  return out
}

/** Polar's `public` tag, which Polar puts on each of these operations. */
const PUBLIC_TAG = {
  name: "public",
  description: "Endpoints shown and documented in the Polar API documentation and available in our SDKs."
}

const WWW_AUTHENTICATE = {
  "WWW-Authenticate": {
    description: "The RFC 6750 challenge, e.g. `Bearer realm=\"polar\", error=\"invalid_token\", ...`.",
    schema: { type: "string" }
  }
}

/** The headers the server sends with these statuses (Polar's spec declares no headers). */
const RESPONSE_HEADERS: Record<string, object> = {
  401: WWW_AUTHENTICATE,
  403: WWW_AUTHENTICATE,
  429: { "retry-after": { description: "Seconds to wait before the next request.", schema: { type: "integer" } } }
}

/** An events operation as Polar tags it, its responses with their headers, without HttpApi's 400. */
const polarOperation = (op: OpenApi.OpenAPISpecOperation): OpenApi.OpenAPISpecOperation => {
  const { 400: _decodeError, ...rest } = op.responses
  if (!op.tags.includes("events")) return { ...op, responses: rest }
  const responses: Record<string, object> = {}
  for (const [status, response] of Object.entries(rest)) {
    const headers = RESPONSE_HEADERS[status]
    responses[status] = headers === undefined ? response : { ...response, headers }
  }
  return {
    ...op,
    tags: [...op.tags, PUBLIC_TAG.name],
    responses: responses as OpenApi.OpenAPISpecOperation["responses"]
  }
}

/**
 * The derived document with Polar's spellings (see `INLINED`), Polar's `oat`
 * scheme and `public` tag, and the response headers the server sends.
 */
const polarSpelling = (spec: OpenApi.OpenAPISpec): OpenApi.OpenAPISpec => {
  const defs = spec.components.schemas as Record<string, unknown>
  const schemas: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(defs)) {
    if (!INLINED.has(name) && !DECODE_ERROR.includes(name)) schemas[name] = inline(schema, defs)
  }
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [path, operations] of Object.entries(spec.paths)) {
    paths[path] = {}
    for (const [method, op] of Object.entries(operations as Record<string, OpenApi.OpenAPISpecOperation>)) {
      paths[path][method] = inline(polarOperation(op), defs)
    }
  }
  return {
    ...spec,
    tags: spec.tags.flatMap((tag) => tag.name === "events" ? [tag, PUBLIC_TAG] : [tag]),
    paths: paths as OpenApi.OpenAPISpec["paths"],
    components: {
      schemas: schemas as OpenApi.OpenAPISpec["components"]["schemas"],
      securitySchemes: { ...spec.components.securitySchemes, ...securitySchemes }
    }
  }
}

/**
 * Polar's events API (version `2026-04`).
 *
 * @since 0.1.0
 */
export class Api extends HttpApi.make("polar-events")
  .add(EventsGroup)
  .annotateContext(OpenApi.annotations({
    title: "polar-events server: Polar's events API",
    version: "2026-04",
    description: "A Polar-compatible events API over an EventStore (@polar-events/server). Paths, parameters " +
      "and bodies are Polar's (API version 2026-04); see the package README for what differs.",
    servers: [{ url: "/", description: "This server" }],
    transform: (spec) => polarSpelling(spec as OpenApi.OpenAPISpec)
  }))
{}
