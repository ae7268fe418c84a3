/**
 * `EventsClient`: the Polar events API as an Effect service.
 *
 * - `ingest` validates events with core's rules before anything is sent,
 *   gives every event without one a stable `external_id` (so no retry can
 *   double-count), splits the events into requests by count and by Polar's
 *   10 MiB body limit (halving a batch the server still finds too large),
 *   and sums the answers.
 * - `list` and `names` are `Stream`s that page through the API; `listPage`,
 *   `namesPage` and `get` are single requests, made with `HttpApiClient`
 *   over core's contract (`EventsApi`) on this client's transport, and
 *   decoded with the contract's success schemas; a response that does not
 *   match the spec is a `ResponseDecodeError` naming the offending path.
 * - Every request retries 408, 429, 5xx (500, 502, 503, 504) and transport
 *   failures with exponential backoff and jitter, bounded in attempts and
 *   time. `Retry-After` is a floor, and a 429 pauses every request of the
 *   client until it has passed.
 * - Each request is a span (`PolarEvents.ingest`, ...) with a child span per
 *   attempt, and its logs are annotated. The access token is a `Redacted`
 *   and never appears in a span, a log line or an error.
 *
 * @since 0.1.0
 */
import { HttpClient } from "@effect/platform"
import { Event, EventCreate, EventQuery, EventsApi } from "@polar-events/core"
import { Chunk, Config, Context, Duration, Effect, Either, Layer, Option, Redacted, Schema, Stream } from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as ClientError from "./ClientError.js"
import * as ContractClient from "./internal/api.js"
import {
  decodeIssue,
  encodeQueryString as encodeQuery,
  makeTransport,
  type RetryInfo,
  type Transport
} from "./internal/http.js"
import { Encoded, FRAME_BYTES } from "./internal/encoded.js"
import * as Prepare from "./internal/prepare.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * Where the API is: Polar's `production` (https://api.polar.sh), its
 * `sandbox` (https://sandbox-api.polar.sh), or any base URL (e.g. a local
 * Polar-compatible server).
 *
 * @since 0.1.0
 */
export type Server = "production" | "sandbox" | (string & {}) | URL

/** The base URLs of Polar's two environments. @since 0.1.0 */
export const servers = {
  production: "https://api.polar.sh",
  sandbox: "https://sandbox-api.polar.sh"
} as const

/**
 * How to reach and talk to Polar.
 *
 * @since 0.1.0
 */
export interface Options {
  /** an Organization Access Token (`polar_oat_...`) */
  readonly accessToken: Redacted.Redacted<string>
  /** default `production` */
  readonly server?: Server | undefined
  /** sent as the `Polar-Version` header when set, e.g. `2026-04` */
  readonly polarVersion?: string | undefined
  /** the limit of one attempt, reading the response included (default 30 s) */
  readonly timeout?: Duration.DurationInput | undefined
  /** how requests are retried (default `RetryPolicy.defaultPolicy`) */
  readonly retry?: RetryPolicy.RetryOptions | undefined
  /** the most events in one ingest request (default 1,000) */
  readonly maxBatchSize?: number | undefined
  /** the largest ingest body in bytes (default 10 MiB, Polar's limit) */
  readonly maxBodyBytes?: number | undefined
  /** how far in the future a timestamp may be when validated (default 0, as Polar) */
  readonly clockSkew?: Duration.DurationInput | undefined
  readonly userAgent?: string | undefined
}

/**
 * One event to ingest: core's domain `EventCreate`, or the same with plain
 * strings for its ids (`EventCreate.MakeInput`).
 *
 * @since 0.1.0
 */
export type EventInput = EventCreate.MakeInput

/**
 * The answer to an ingest, summed over its requests: events `inserted`, and
 * events skipped as `duplicates` of an `external_id` Polar already had (a
 * retry of a request Polar did process counts here, not twice).
 *
 * @since 0.1.0
 */
export type IngestResult = EventCreate.EventsIngestResponse

/**
 * An event validated and encoded for the wire, with its `external_id`
 * assigned: what the `Ingester` and the `Outbox` keep until it is sent.
 *
 * @since 0.1.0
 */
export type PreparedEvent = Prepare.PreparedEvent

/**
 * Events encoded as JSON bytes, one after another: the form in which the
 * `Ingester` queues events off the JavaScript heap. Build one with
 * `encode(preparedEvents)`.
 *
 * @since 0.1.0
 */
export type EncodedEvents = Encoded

/**
 * Encodes prepared events as bytes for `ingestEncoded`.
 *
 * @since 0.1.0
 */
export const encode = (events: ReadonlyArray<PreparedEvent>): EncodedEvents => Encoded.fromPrepared(events)

/**
 * Options of `prepare`.
 * - `now`: the time to validate against and to stamp with (default: now).
 * - `stampTimestamp`: give an event without a timestamp the time of
 *   preparation, so that one sent later keeps the time it happened (default
 *   false: Polar stamps it on arrival).
 *
 * @since 0.1.0
 */
export interface PrepareOptions {
  readonly now?: Date | undefined
  readonly stampTimestamp?: boolean | undefined
}

/**
 * Options of one ingest: `onRetry` is told about every retry (for stats).
 *
 * @since 0.1.0
 */
export interface IngestOptions {
  readonly onRetry?: ((info: RetryInfo) => Effect.Effect<void>) | undefined
}

/**
 * One retry, as `IngestOptions.onRetry` hears of it: the attempt that failed,
 * its error and the wait before the next one.
 *
 * @since 0.1.0
 */
export type { RetryInfo }

/**
 * One page of a list: its items and Polar's pagination (`totalCount`,
 * `maxPage`).
 *
 * @since 0.1.0
 */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly pagination: EventQuery.Pagination
}

/**
 * The query of `list` / `listPage`: core's `ListEventsQuery`, every field
 * optional.
 *
 * @since 0.1.0
 */
export type ListQuery = Partial<EventQuery.ListEventsQuery>

/**
 * The query of `names` / `namesPage`: core's `ListEventNamesQuery`, every
 * field optional.
 *
 * @since 0.1.0
 */
export type NamesQuery = Partial<EventQuery.ListEventNamesQuery>

/**
 * The client.
 *
 * @since 0.1.0
 */
export interface Service {
  /** the API's base URL, e.g. `https://api.polar.sh` */
  readonly baseUrl: string
  /**
   * Validates, assigns missing `external_id`s, sends in as many requests as
   * the count and size limits need, and sums the answers. Requests go one
   * after another; when one fails for good the error is returned and the
   * requests before it stay delivered (calling again with the same events is
   * safe only for events that carry their own `external_id`).
   */
  readonly ingest: (events: ReadonlyArray<EventInput>) => Effect.Effect<IngestResult, ClientError.ClientError>
  /** Validates and encodes events without sending them (see `PrepareOptions`). */
  readonly prepare: (
    events: ReadonlyArray<EventInput>,
    options?: PrepareOptions
  ) => Either.Either<Array<PreparedEvent>, ClientError.ValidationFailed>
  /**
   * Sends prepared events (split and summed like `ingest`). A 422 names the
   * offending events by their index in `events` (`loc[2]`).
   */
  readonly ingestPrepared: (
    events: ReadonlyArray<PreparedEvent>,
    options?: IngestOptions
  ) => Effect.Effect<IngestResult, ClientError.ClientError>
  /**
   * Sends events already encoded as bytes (`EncodedEvents`, what the
   * `Ingester` queues), split and summed like `ingest`.
   */
  readonly ingestEncoded: (
    events: EncodedEvents,
    options?: IngestOptions
  ) => Effect.Effect<IngestResult, ClientError.ClientError>
  /** One page of `GET /v1/events/`. */
  readonly listPage: (query?: ListQuery) => Effect.Effect<Page<Event.Event>, ClientError.ClientError>
  /**
   * Every event matching the query, page after page (100 per request unless
   * `limit` asks for fewer), from `page` (default 1) until the last page.
   */
  readonly list: (query?: ListQuery) => Stream.Stream<Event.Event, ClientError.ClientError>
  /** `GET /v1/events/{id}`; `NotFound` when there is no such event. */
  readonly get: (id: string) => Effect.Effect<Event.Event, ClientError.ClientError>
  /** One page of `GET /v1/events/names`. */
  readonly namesPage: (query?: NamesQuery) => Effect.Effect<Page<EventQuery.EventName>, ClientError.ClientError>
  /** Every event name matching the query, page after page. */
  readonly names: (query?: NamesQuery) => Stream.Stream<EventQuery.EventName, ClientError.ClientError>
}

/**
 * The client as a service.
 *
 * @since 0.1.0
 */
export class EventsClient extends Context.Tag("@polar-events/client/EventsClient")<EventsClient, Service>() {}

const DEFAULT_BATCH = 1000
const MAX_BODY = 10 * 1024 * 1024
const MAX_PAGE_SIZE = 100

/**
 * The base URL of a server option.
 *
 * @since 0.1.0
 */
export const baseUrlOf = (server: Server | undefined): string => {
  const raw = server === undefined ? servers.production : server instanceof URL ? server.toString() : server
  const url = raw === "production" ? servers.production : raw === "sandbox" ? servers.sandbox : raw
  const parsed = new URL(url)
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`EventsClient: the server must be an http(s) URL, got ${parsed.protocol}`)
  }
  return parsed.toString().replace(/\/+$/, "")
}

/**
 * Polar's query-string encoding of `[key, value]` pairs: repeated keys for
 * arrays, `metadata[key]=value` with literal brackets, everything else
 * percent-encoded.
 *
 * @since 0.1.0
 */
export const encodeQueryString: (entries: Iterable<readonly [string, string]>) => string = encodeQuery

const decodeJson = <A, I>(schema: Schema.Schema<A, I>, method: "GET" | "POST", endpoint: string) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (status: number, body: string): Effect.Effect<A, ClientError.ResponseDecodeError> => {
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      return Effect.fail(
        new ClientError.ResponseDecodeError({ method, endpoint, status, path: [], issue: "the body is not JSON" })
      )
    }
    const result = decode(json)
    if (Either.isRight(result)) return Effect.succeed(result.right)
    return Effect.fail(new ClientError.ResponseDecodeError({ method, endpoint, status, ...decodeIssue(result.left) }))
  }
}

const withoutUndefined = <A extends object>(a: A): A => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out[k] = v
  return out as A
}

const shiftIndices = (error: ClientError.ValidationFailed, offset: number): ClientError.ValidationFailed =>
  offset === 0 ? error : new ClientError.ValidationFailed({
    method: error.method,
    endpoint: error.endpoint,
    origin: error.origin,
    detail: error.detail.map((d) =>
      d.loc[0] === "body" && d.loc[1] === "events" && typeof d.loc[2] === "number"
        ? { ...d, loc: ["body", "events", d.loc[2] + offset, ...d.loc.slice(3)] }
        : d
    )
  })

/**
 * Sending encoded events: in chunks of at most `maxBatch` events and
 * `maxBodyBytes` bytes; a 413 halves the chunk (and lowers the limit) until it
 * fits.
 */
const makeIngestEncoded = (transport: Transport, maxBatch: number, maxBodyBytes: number) => {
  /** lowered when a server answers 413 to a body under the configured limit */
  let maxBody = maxBodyBytes

  const decodeIngest = decodeJson(EventCreate.EventsIngestResponse, "POST", Prepare.INGEST)

  const sendChunk = (chunk: Encoded, ingestOptions: IngestOptions | undefined) =>
    transport.send({
      method: "POST",
      endpoint: Prepare.INGEST,
      body: chunk.body(),
      span: "PolarEvents.ingest.request",
      attributes: { "polar.events.count": chunk.count },
      decode: decodeIngest,
      onRetry: ingestOptions?.onRetry
    })

  const tooLarge = (bytes: number) =>
    new ClientError.PayloadTooLarge({ method: "POST", endpoint: Prepare.INGEST, bytes, events: 1 })

  const ingestEncoded = (
    events: Encoded,
    ingestOptions?: IngestOptions
  ): Effect.Effect<IngestResult, ClientError.ClientError> =>
    Effect.gen(function*() {
      let inserted = 0
      let duplicates = 0
      let next = 0
      /** halves of a batch the server found too large, sent before new events */
      const halves: Array<{ readonly offset: number; readonly events: Encoded }> = []
      const take = () => {
        const offset = next
        let bytes = FRAME_BYTES
        let end = next
        while (end < events.count && end - next < maxBatch) {
          const add = events.bytesOf(end) + (end > next ? 1 : 0)
          if (end > next && bytes + add > maxBody) break
          bytes += add
          end++
        }
        next = end
        return { offset, events: events.slice(offset, end) }
      }
      const split = (chunk: { readonly offset: number; readonly events: Encoded }) => {
        const mid = chunk.events.count >> 1
        halves.push({ offset: chunk.offset + mid, events: chunk.events.slice(mid, chunk.events.count) })
        return { offset: chunk.offset, events: chunk.events.slice(0, mid) }
      }
      while (halves.length > 0 || next < events.count) {
        let chunk = halves.pop() ?? take()
        while (chunk.events.count > 1 && chunk.events.bodySize > maxBody) chunk = split(chunk)
        const size = chunk.events.bodySize
        if (size > maxBody) return yield* Effect.fail(tooLarge(size))
        const result = yield* Effect.either(sendChunk(chunk.events, ingestOptions))
        if (Either.isRight(result)) {
          inserted += result.right.inserted
          duplicates += result.right.duplicates
          continue
        }
        const error = result.left
        if (error._tag === "PayloadTooLarge") {
          if (chunk.events.count === 1) return yield* Effect.fail(tooLarge(size))
          maxBody = Math.min(maxBody, Math.max(1024, Math.floor(size / 2)))
          yield* Effect.logWarning("polar ingest: 413, halving the batch").pipe(
            Effect.annotateLogs({ "polar.events.count": chunk.events.count, "polar.body_bytes": size })
          )
          halves.push(split(chunk))
          continue
        }
        if (error._tag === "ValidationFailed") return yield* Effect.fail(shiftIndices(error, chunk.offset))
        return yield* Effect.fail(error)
      }
      return { inserted, duplicates }
    }).pipe(
      Effect.withSpan("PolarEvents.ingest", {
        kind: "client",
        attributes: { "polar.events.count": events.count }
      })
    )

  return ingestEncoded
}

const GET_ROUTE = "/v1/events/{id}"

/** The query's keys in the order `EventQuery`'s encoding sends them. */
const keysOf = (entries: ReadonlyArray<readonly [string, string]>) => entries.map(([key]) => key)

/**
 * A contract page as the client's `Page`. The client never asks for cursor
 * pagination; a cursor page in answer is refused as a page without
 * `total_count`, as before the contract.
 */
const toPage = (page: EventsApi.EventsPage, status: number) =>
  "totalCount" in page.pagination
    ? Effect.succeed(page as Page<Event.Event>)
    : Effect.fail(
      new ClientError.ResponseDecodeError({
        method: "GET",
        endpoint: EventsApi.list.path,
        status,
        path: ["pagination", "total_count"],
        issue: "is missing"
      })
    )

/**
 * The reads of the events API (pages of events and of names, one event by
 * id), made with the contract's client (`EventsApi`) over the transport.
 */
const makeReads = (transport: Transport) =>
  Effect.map(ContractClient.makeEventsApi(transport), ({ api, call }) => {
    const listPage = (query: ListQuery = {}): Effect.Effect<Page<Event.Event>, ClientError.ClientError> =>
      Effect.suspend(() => {
        const full: EventQuery.ListEventsQuery = {
          sorting: ["-timestamp"],
          page: 1,
          limit: EventQuery.DEFAULT_LIMIT,
          ...withoutUndefined(query)
        }
        const read = {
          endpoint: EventsApi.list.path,
          span: "PolarEvents.listPage",
          attributes: { "polar.page": query.page ?? 1 },
          keys: keysOf(EventQuery.encodeSearchParams(full))
        }
        return call(read, (status) =>
          Effect.flatMap(api.list({ urlParams: EventsApi.listParams(full) }), (page) => toPage(page, status())))
      })

    const namesPage = (query: NamesQuery = {}): Effect.Effect<Page<EventQuery.EventName>, ClientError.ClientError> =>
      Effect.suspend(() => {
        const full: EventQuery.ListEventNamesQuery = {
          sorting: ["-last_seen"],
          page: 1,
          limit: EventQuery.DEFAULT_LIMIT,
          ...withoutUndefined(query)
        }
        const read = {
          endpoint: EventsApi.names.path,
          span: "PolarEvents.namesPage",
          attributes: { "polar.page": query.page ?? 1 },
          keys: keysOf(EventQuery.encodeNamesSearchParams(full))
        }
        return call(read, () => api.names({ urlParams: EventsApi.namesParams(full) }))
      })

    const get = (id: string): Effect.Effect<Event.Event, ClientError.ClientError> =>
      Effect.suspend(() => {
        const encoded = encodeURIComponent(id)
        const read = {
          endpoint: `${EventsApi.list.path}${encoded}`,
          route: GET_ROUTE,
          span: "PolarEvents.get",
          attributes: { "polar.event.id": id }
        }
        return call(read, () => api.get({ path: { id: encoded } }))
      })

    const paginate = <A, Q extends { readonly page?: number | undefined; readonly limit?: number | undefined }>(
      fetch: (query: Q) => Effect.Effect<Page<A>, ClientError.ClientError>,
      query: Q
    ): Stream.Stream<A, ClientError.ClientError> => {
      const limit = Math.min(query.limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE)
      return Stream.paginateChunkEffect(query.page ?? 1, (page) =>
        Effect.map(fetch({ ...query, page, limit }), (result) => {
          const last = result.items.length < limit || page >= result.pagination.maxPage
          return [Chunk.unsafeFromArray(result.items as Array<A>), last ? Option.none() : Option.some(page + 1)] as const
        }))
    }

    return {
      listPage,
      namesPage,
      get,
      list: (query: ListQuery = {}) => paginate(listPage, query),
      names: (query: NamesQuery = {}) => paginate(namesPage, query)
    }
  })

/**
 * Builds the client on an `HttpClient` (e.g. `NodeHttpClient.layerUndici`).
 *
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const baseUrl = baseUrlOf(options.server)
    const maxBatch = options.maxBatchSize ?? DEFAULT_BATCH
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      return yield* Effect.dieMessage(`EventsClient: maxBatchSize must be an integer >= 1, got ${maxBatch}`)
    }
    const transport: Transport = yield* makeTransport(http, {
      baseUrl,
      accessToken: options.accessToken,
      polarVersion: options.polarVersion,
      timeout: Duration.decode(options.timeout ?? Duration.seconds(30)),
      retry: RetryPolicy.make(options.retry),
      userAgent: options.userAgent ?? "polar-events-client/0.1"
    })
    const ingestEncoded = makeIngestEncoded(transport, maxBatch, options.maxBodyBytes ?? MAX_BODY)
    const reads = yield* makeReads(transport)

    const ingestPrepared = (events: ReadonlyArray<PreparedEvent>, ingestOptions?: IngestOptions) =>
      Effect.suspend(() => ingestEncoded(Encoded.fromPrepared(events), ingestOptions))

    const prepare = (events: ReadonlyArray<EventInput>, prepareOptions?: PrepareOptions) =>
      Prepare.prepare(events, {
        now: prepareOptions?.now,
        clockSkew: options.clockSkew,
        stampTimestamp: prepareOptions?.stampTimestamp
      })

    const ingest = (events: ReadonlyArray<EventInput>) =>
      Effect.suspend(() => {
        const prepared = prepare(events)
        return Either.isLeft(prepared) ? Effect.fail(prepared.left) : ingestPrepared(prepared.right)
      })

    return EventsClient.of({
      baseUrl,
      ingest,
      prepare,
      ingestPrepared,
      ingestEncoded,
      ...reads
    })
  })

/**
 * The client from options; needs an `HttpClient`.
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<EventsClient, never, HttpClient.HttpClient> =>
  Layer.effect(EventsClient, make(options))

/**
 * Options read from configuration: `POLAR_ACCESS_TOKEN` (required, kept
 * `Redacted`), `POLAR_SERVER` (`production`, `sandbox` or a URL; default
 * production), `POLAR_VERSION` and `POLAR_TIMEOUT` (a duration such as
 * `10 seconds`), all optional.
 *
 * @since 0.1.0
 */
export const config: Config.Config<Options> = Config.all({
  accessToken: Config.redacted("POLAR_ACCESS_TOKEN"),
  server: Config.string("POLAR_SERVER").pipe(Config.withDefault("production")),
  polarVersion: Config.option(Config.string("POLAR_VERSION")),
  timeout: Config.option(Config.duration("POLAR_TIMEOUT"))
}).pipe(
  Config.map(({ accessToken, polarVersion, server, timeout }) => ({
    accessToken,
    server,
    polarVersion: Option.getOrUndefined(polarVersion),
    timeout: Option.getOrUndefined(timeout)
  }))
)

/**
 * The client from configuration (see `config`); `options` set in code win
 * over configured values.
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: Partial<Options> = {}
): Layer.Layer<EventsClient, ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    EventsClient,
    Effect.flatMap(config, (configured) => {
      const merged: Options = { ...configured }
      for (const [key, value] of Object.entries(options)) {
        if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value
      }
      return make(merged)
    })
  )
