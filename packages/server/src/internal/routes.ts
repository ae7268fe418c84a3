/**
 * The handlers of the contract's four events endpoints (`EventsApi` in
 * core), implemented with `HttpApiBuilder`'s `handleRaw`.
 *
 * Why raw handlers: Polar's wire needs control that HttpApi's decoding does
 * not give. Its query decoding yields a record (losing the order of
 * repeated keys, with no deepObject `metadata[key]=value`) and answers a
 * failure with its own 400 `HttpApiDecodeError` where Polar sends 422
 * `{error, detail: [{loc, msg, type, input}]}` with pydantic's locations; its
 * security middleware cannot produce Polar's 401/403 bodies with RFC 6750
 * `WWW-Authenticate` challenges; and ingest needs the raw body stream (411
 * without Content-Length, 413 at 10 MiB without buffering more, FastAPI's
 * Content-Type rules). So the contract declares the parameters for the
 * documentation only (their schemas accept any value), and each handler
 * reads the request itself, decodes it with core's Polar codecs and answers
 * with Polar's exact bodies, the statuses the contract declares.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Event, EventCreate, EventQuery, Ids, Timestamp, ValidationError } from "@polar-events/core"
import type { EventStore } from "@polar-events/store"
import { Cause, Clock, type Context, type Duration, Effect, Either, Option, Schema } from "effect"
import type { AccessToken, Scope } from "../AccessToken.js"
import { ResourceNotFound, type ServerError, UnsupportedVersion, URITooLong } from "../ServerError.js"
import { makeTokenTable, type Principal } from "./auth.js"
import { declaredLength, parseBody, readBounded } from "./body.js"
import { makeRateLimiter, type RateLimitOptions } from "./rateLimit.js"
import * as Responses from "./responses.js"

export interface ResolvedOptions {
  readonly tokens: ReadonlyArray<AccessToken>
  readonly maxBodyBytes: number
  readonly maxUrlBytes: number
  readonly rateLimit: (RateLimitOptions & { readonly per: "token" | "organization" }) | undefined
  readonly clockSkew: Duration.DurationInput
  readonly realm: string
  readonly versions: ReadonlySet<string>
}

/** A raw handler: the request to Polar's response (failures are answered, never raised). */
export type Handler = (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse>

/** The handlers of the contract's endpoints; `get` also takes the path's id as written. */
export interface Handlers {
  readonly ingest: Handler
  readonly list: Handler
  readonly names: Handler
  readonly get: (request: HttpServerRequest.HttpServerRequest, id: string) => Effect.Effect<HttpServerResponse.HttpServerResponse>
}

const READ: ReadonlyArray<Scope> = ["events:read", "events:write"]
const WRITE: ReadonlyArray<Scope> = ["events:write"]

const UUID_SIMPLE = /^[0-9a-f]{32}$/i

/**
 * An event id from the path. Polar's spec says UUID v4, but this server's
 * store mints time-ordered v7 ids, so any UUID version is accepted; the
 * forms pydantic reads (hyphenated, 32 hex digits, `{…}`, `urn:uuid:…`) are.
 */
const parseEventId = (raw: string): string | undefined => {
  let s = raw
  if (s.toLowerCase().startsWith("urn:uuid:")) s = s.slice(9)
  else if (s.length > 2 && s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1)
  if (UUID_SIMPLE.test(s)) s = `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  return Ids.isUuid(s) ? s.toLowerCase() : undefined
}

const encodeEventSync = Schema.encodeSync(Event.Event)

/**
 * An event's wire JSON with every key Polar always sends: the store keeps
 * optional keys absent when nothing set them, Polar's API serializes them
 * all (`member_id`, `external_member_id` and `parent_id` null, `child_count` 0).
 */
const encodeEvent = (event: Schema.Schema.Type<typeof Event.Event>): Record<string, unknown> => {
  const wire = encodeEventSync(event) as unknown as Record<string, unknown>
  if (!("member_id" in wire)) wire.member_id = null
  if (!("external_member_id" in wire)) wire.external_member_id = null
  if (!("child_count" in wire)) wire.child_count = 0
  if (!("parent_id" in wire)) wire.parent_id = null
  return wire
}
const encodeNames = (page: EventStore.NamesPage) => ({
  items: page.items.map((n) => ({
    name: n.name,
    label: n.label,
    source: n.source,
    occurrences: n.occurrences,
    first_seen: Timestamp.format(n.firstSeen),
    last_seen: Timestamp.format(n.lastSeen)
  })),
  pagination: { total_count: page.pagination.totalCount, max_page: page.pagination.maxPage }
})
const encodeIngest = Schema.encodeSync(EventCreate.EventsIngestResponse)

const encodePage = (page: EventStore.EventsPage) => {
  const items = page.items.map(encodeEvent)
  const p = page.pagination
  if ("totalCount" in p) return { items, pagination: { total_count: p.totalCount, max_page: p.maxPage } }
  const pagination: { has_next_page: boolean; next_cursor?: string } = { has_next_page: p.hasNextPage }
  if (page.nextCursor !== undefined) pagination.next_cursor = page.nextCursor
  return { items, pagination }
}

const queryEntries = (url: string): URLSearchParams => {
  const q = url.indexOf("?")
  return new URLSearchParams(q === -1 ? "" : url.slice(q + 1))
}

/**
 * The organization filter of a query, within the token's organization: a
 * query naming only other organizations matches nothing (`undefined`).
 */
const withinOrganization = <Q extends { readonly organizationId?: ReadonlyArray<string> | undefined }>(
  query: Q,
  organizationId: string
): Q | undefined => {
  if (query.organizationId === undefined) return query
  return query.organizationId.includes(organizationId) ? { ...query, organizationId: [organizationId] } : undefined
}

const emptyPage = { items: [], pagination: { total_count: 0, max_page: 0 } }

type Failure = ServerError | ValidationError.RequestValidationError

export const makeHandlers = (options: ResolvedOptions, store: Context.Tag.Service<EventStore.EventStore>): Handlers => {
  const tokens = makeTokenTable(options.tokens)
  const limiter = options.rateLimit === undefined ? undefined : makeRateLimiter(options.rateLimit)
  const perOrganization = options.rateLimit?.per === "organization"
  // the events of a request body are parsed here and used by nobody else: the store may keep their metadata
  const ingestOptions = { organizationToken: true, clockSkew: options.clockSkew, reuse: true }

  const authenticate = (
    request: HttpServerRequest.HttpServerRequest,
    required: ReadonlyArray<Scope>
  ): Effect.Effect<Principal, ServerError> =>
    Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<Principal, ServerError> => {
      const result = tokens.authenticate(request.headers["authorization"], required)
      if (Either.isLeft(result)) return Effect.fail(result.left)
      const principal = result.right
      const limited = limiter?.take(perOrganization ? principal.organizationId : principal.key, now)
      return limited === undefined ? Effect.succeed(principal) : Effect.fail(limited)
    })

  /**
   * Runs a handler body with what every route shares: the `Polar-Version`
   * check and echo, the request-target limit, and the mapping of failures to
   * Polar's responses (store failures are logged and answered with a bare 500).
   */
  const answer = (
    request: HttpServerRequest.HttpServerRequest,
    body: () => Effect.Effect<HttpServerResponse.HttpServerResponse, Failure | EventStore.EventStoreError>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
    const version = request.headers["polar-version"]
    const run: Effect.Effect<HttpServerResponse.HttpServerResponse, Failure | EventStore.EventStoreError> =
      version !== undefined && !options.versions.has(version)
        ? Effect.fail(new UnsupportedVersion())
        : request.url.length > options.maxUrlBytes
        ? Effect.fail(new URITooLong({ limit: options.maxUrlBytes }))
        : body()
    const answered = run.pipe(
      Effect.catchAllCause((cause) => {
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure)) {
          const e = failure.value
          if (e._tag === "RequestValidationError") return Effect.succeed(Responses.validationError(e))
          if (e._tag !== "EventStoreError") return Effect.succeed(Responses.serverError(e, options.realm))
        }
        if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
        return Effect.as(
          Effect.logError("polar-events server: request failed", Cause.squash(cause)).pipe(
            Effect.annotateLogs({ method: request.method, path: request.url.split("?")[0] })
          ),
          Responses.internalError()
        )
      })
    ) as Effect.Effect<HttpServerResponse.HttpServerResponse>
    return version === undefined
      ? answered
      : Effect.map(answered, HttpServerResponse.setHeader("polar-version", version))
  }

  const ingest: Handler = (request) =>
    answer(request, () => Effect.gen(function*() {
      const length = declaredLength(request.headers, options.maxBodyBytes)
      if (typeof length !== "number") return yield* Effect.fail(length)
      const principal: Principal = yield* authenticate(request, WRITE)
      const bytes = yield* readBounded(request, options.maxBodyBytes)
      const body = yield* parseBody(bytes, request.headers["content-type"])
      const events = body !== null && typeof body === "object" && !Array.isArray(body)
        ? (body as { readonly events?: unknown }).events
        : undefined
      if (!Array.isArray(events)) {
        // not `{events: [...]}`: core reports exactly what is wrong with the envelope
        const checked = EventCreate.validate(body, ingestOptions)
        return Either.isLeft(checked)
          ? yield* Effect.fail(checked.left)
          : yield* Effect.dieMessage("ingest envelope accepted without an events list")
      }
      // checked once, here: the store takes checked events as they are
      const valid = EventCreate.validateEvents(events, ingestOptions)
      if (Either.isLeft(valid)) return yield* Effect.fail(valid.left)
      const result = yield* Effect.uninterruptible(store.ingest(principal.organizationId, valid.right))
      return Responses.json(200, encodeIngest(result))
    }))

  const list: Handler = (request) =>
    answer(request, () => Effect.gen(function*() {
      const principal = yield* authenticate(request, READ)
      const decoded = EventQuery.decodeSearchParams(queryEntries(request.url))
      if (Either.isLeft(decoded)) return yield* Effect.fail(decoded.left)
      const query = withinOrganization(decoded.right, principal.organizationId)
      if (query === undefined) return Responses.json(200, emptyPage)
      const page = yield* store.list(principal.organizationId, query)
      return Responses.json(200, encodePage(page))
    }))

  const names: Handler = (request) =>
    answer(request, () => Effect.gen(function*() {
      const principal = yield* authenticate(request, READ)
      const decoded = EventQuery.decodeNamesSearchParams(queryEntries(request.url))
      if (Either.isLeft(decoded)) return yield* Effect.fail(decoded.left)
      const query = withinOrganization(decoded.right, principal.organizationId)
      if (query === undefined) return Responses.json(200, emptyPage)
      const page = yield* store.names(principal.organizationId, query)
      return Responses.json(200, encodeNames(page))
    }))

  const get = (request: HttpServerRequest.HttpServerRequest, raw: string) =>
    answer(request, () => Effect.gen(function*() {
      const principal = yield* authenticate(request, READ)
      const id = parseEventId(raw)
      if (id === undefined) {
        return yield* Effect.fail(ValidationError.make([
          ValidationError.makeDetail(["path", "id"], "uuid_parsing", "Input should be a valid UUID", raw)
        ]))
      }
      const event = yield* store.get(principal.organizationId, id)
      if (Option.isNone(event)) return yield* Effect.fail(new ResourceNotFound())
      return Responses.json(200, encodeEvent(event.value))
    }))

  return { ingest, list, names, get }
}
