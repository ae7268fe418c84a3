import { HttpClient, HttpClientRequest, HttpTraceContext } from "@effect/platform"
import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { ValidationError } from "@polar-events/core"
import { Clock, Duration, Effect, Either, ParseResult, Redacted, Schedule, Schema } from "effect"
import * as ClientError from "../ClientError.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as Gate from "./gate.js"

/** @internal */
export interface TransportOptions {
  readonly baseUrl: string
  readonly accessToken: Redacted.Redacted<string>
  readonly polarVersion: string | undefined
  readonly timeout: Duration.Duration
  readonly retry: RetryPolicy.RetryPolicy
  readonly userAgent: string
}

/** What a retry looked like, for stats. */
export interface RetryInfo {
  readonly attempt: number
  readonly error: ClientError.ClientError
  readonly delay: Duration.Duration
}

/** @internal */
export interface RequestSpec<A> {
  readonly method: "GET" | "POST"
  readonly endpoint: string
  /** the endpoint as a template for span names, e.g. `/v1/events/{id}` (default: `endpoint`) */
  readonly route?: string | undefined
  /** an already encoded query string, without `?` */
  readonly query?: string | undefined
  readonly body?: Uint8Array | undefined
  /** the request's span; when absent the caller wraps the request in one itself (see `withRequestSpan`) */
  readonly span?: string | undefined
  readonly attributes?: Record<string, unknown> | undefined
  /** turns a 2xx response body into the result */
  readonly decode: (status: number, body: string) => Effect.Effect<A, ClientError.ClientError>
  readonly onRetry?: ((info: RetryInfo) => Effect.Effect<void>) | undefined
}

/** A failed attempt: the error plus a `Retry-After` floor, if the server sent one. */
interface Failure {
  readonly error: ClientError.ClientError
  readonly retryAfter: Duration.Duration | undefined
  /** the time since the first attempt started, for the retry budget */
  readonly elapsed?: Duration.Duration | undefined
}

const BODY_SNIPPET = 300

/** @internal */
export interface Transport {
  readonly gate: Gate.Gate
  readonly scrub: (text: string) => string
  readonly send: <A>(spec: RequestSpec<A>) => Effect.Effect<A, ClientError.ClientError>
}

const safeJson = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const stringField = (u: unknown, key: string): string | undefined => {
  if (typeof u === "object" && u !== null && key in u) {
    const v = (u as Record<string, unknown>)[key]
    return typeof v === "string" ? v : undefined
  }
  return undefined
}

const authParam = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined) return undefined
  const m = new RegExp(`${name}="([^"]*)"`).exec(header)
  return m === null ? undefined : m[1]
}

const decodeHttpValidationError = Schema.decodeUnknownEither(ValidationError.HTTPValidationError)

/** @internal */
export const decodeIssue = (
  error: ParseResult.ParseError
): { readonly path: ReadonlyArray<string | number>; readonly issue: string } => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (first === undefined) return { path: [], issue: error.message }
  return {
    path: first.path.map((p) => (typeof p === "number" ? p : String(p))),
    issue: first.message
  }
}

/**
 * Polar's query-string encoding of `[key, value]` pairs (see `EventsClient.encodeQueryString`).
 * @internal
 */
export const encodeQueryString = (entries: Iterable<readonly [string, string]>): string => {
  const parts: Array<string> = []
  for (const [key, value] of entries) {
    const deep = /^([A-Za-z_][A-Za-z0-9_]*)\[(.*)\]$/.exec(key)
    const k = deep === null ? encodeURIComponent(key) : `${deep[1]}[${encodeURIComponent(deep[2]!)}]`
    parts.push(`${k}=${encodeURIComponent(value)}`)
  }
  return parts.join("&")
}

/** What the steps of a request share: the client, where it sends, and how it scrubs the token. */
interface Context {
  readonly client: HttpClient.HttpClient
  readonly options: TransportOptions
  readonly base: URL
  readonly baseHeaders: Record<string, string>
  readonly scrub: (text: string) => string
  readonly snippet: (text: string) => string | undefined
}

/** @internal */
export const makeTransport = (
  http: HttpClient.HttpClient,
  options: TransportOptions
): Effect.Effect<Transport> =>
  Effect.map(Gate.make, (gate) => {
    const token = Redacted.value(options.accessToken)
    const scrub = (text: string): string =>
      token.length > 0 && text.includes(token) ? text.split(token).join("<redacted>") : text
    const baseHeaders: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: "application/json",
      "user-agent": options.userAgent
    }
    if (options.polarVersion !== undefined) baseHeaders["polar-version"] = options.polarVersion
    const ctx: Context = {
      // the HTTP client's own span would record every response header as sent by the server; the attempt span
      // records only what is safe, and propagates the trace itself
      client: HttpClient.withTracerDisabledWhen(http, () => true),
      options,
      base: new URL(options.baseUrl),
      baseHeaders,
      scrub,
      snippet: (text) =>
        text === "" ? undefined : scrub(text.length > BODY_SNIPPET ? text.slice(0, BODY_SNIPPET) + "..." : text)
    }
    const policy = options.retry
    const schedule = RetryPolicy.schedule<Failure>(policy).pipe(
      Schedule.whileInput((failure) => retryable(policy, failure.error))
    )
    return { gate, scrub, send: (spec) => send(ctx, gate, schedule, spec) }
  })

const transportError = (
  ctx: Context,
  spec: RequestSpec<unknown>,
  error: HttpClientError.HttpClientError
): ClientError.TransportError => {
  const cause = error.cause as { message?: unknown; code?: unknown; cause?: { message?: unknown; code?: unknown } }
  const parts: Array<string> = []
  for (const c of [cause, cause?.cause]) {
    if (c === undefined || c === null) continue
    if (typeof c.code === "string") parts.push(c.code)
    if (typeof c.message === "string" && c.message !== "") parts.push(c.message)
  }
  return new ClientError.TransportError({
    method: spec.method,
    endpoint: spec.endpoint,
    reason: "Connection",
    description: ctx.scrub(parts.length === 0 ? `${error.reason} error` : [...new Set(parts)].join(": "))
  })
}

const classify = <A>(
  ctx: Context,
  spec: RequestSpec<A>,
  response: HttpClientResponse.HttpClientResponse,
  body: string,
  now: number
): Effect.Effect<A, Failure> => {
  const status = response.status
  const at = { method: spec.method, endpoint: spec.endpoint }
  if (status >= 200 && status < 300) {
    return Effect.mapError(spec.decode(status, body), (error) => ({ error, retryAfter: undefined }))
  }
  const retryAfter = RetryPolicy.parseRetryAfter(response.headers["retry-after"], now)
  const fail = (error: ClientError.ClientError) => Effect.fail<Failure>({ error, retryAfter })
  const json = safeJson(body)
  switch (status) {
    case 401: {
      const error = stringField(json, "error") ?? authParam(response.headers["www-authenticate"], "error")
      return fail(new ClientError.Unauthorized({ ...at, ...(error ? { error: ctx.scrub(error) } : {}) }))
    }
    case 403: {
      const header = response.headers["www-authenticate"]
      const error = stringField(json, "error") ?? authParam(header, "error")
      const scope = authParam(header, "scope")
      return fail(
        new ClientError.Forbidden({
          ...at,
          ...(error ? { error: ctx.scrub(error) } : {}),
          ...(scope ? { scope } : {})
        })
      )
    }
    case 404: {
      const detail = stringField(json, "detail")
      return fail(new ClientError.NotFound({ ...at, ...(detail ? { detail: ctx.scrub(detail) } : {}) }))
    }
    case 413:
      return fail(
        new ClientError.PayloadTooLarge({ ...at, bytes: spec.body?.length ?? 0, events: 0 })
      )
    case 422: {
      const decoded = decodeHttpValidationError(json)
      if (Either.isLeft(decoded)) {
        const { issue, path } = json === undefined
          ? { path: [], issue: "the body is not JSON" }
          : decodeIssue(decoded.left)
        return fail(new ClientError.ResponseDecodeError({ ...at, status, path, issue }))
      }
      return fail(new ClientError.ValidationFailed({ ...at, origin: "server", detail: decoded.right.detail }))
    }
    case 429:
      return fail(
        new ClientError.RateLimited({ ...at, ...(retryAfter === undefined ? {} : { retryAfter }) })
      )
  }
  if (status >= 500) {
    const text = ctx.snippet(body)
    return fail(new ClientError.ServerError({ ...at, status, ...(text === undefined ? {} : { body: text }) }))
  }
  const text = ctx.snippet(body)
  return fail(new ClientError.UnexpectedStatus({ ...at, status, ...(text === undefined ? {} : { body: text }) }))
}

const execute = (ctx: Context, spec: RequestSpec<unknown>, request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(
    Effect.mapError(ctx.client.execute(request), (e): Failure => ({ error: transportError(ctx, spec, e), retryAfter: undefined })),
    (response) =>
      Effect.map(
        Effect.mapError(response.text, (e): Failure => ({ error: transportError(ctx, spec, e), retryAfter: undefined })),
        (text) => [response, text] as const
      )
  )

const attempt = <A>(ctx: Context, spec: RequestSpec<A>, n: number): Effect.Effect<A, Failure> => {
  const url = ctx.options.baseUrl + spec.endpoint + (spec.query ? `?${spec.query}` : "")
  const exchange = Effect.flatMap(
    Effect.map(Effect.option(Effect.currentSpan), (span) => {
      let request = HttpClientRequest.make(spec.method)(url, { headers: ctx.baseHeaders })
      if (span._tag === "Some") request = HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span.value))
      if (spec.body !== undefined) request = HttpClientRequest.bodyUint8Array(request, spec.body, "application/json")
      return request
    }),
    (request) => execute(ctx, spec, request)
  )
  return exchange.pipe(
    Effect.timeoutFail({
      duration: ctx.options.timeout,
      onTimeout: (): Failure => ({
        error: new ClientError.TransportError({
          method: spec.method,
          endpoint: spec.endpoint,
          reason: "Timeout",
          description: `no response within ${Duration.format(ctx.options.timeout)}`
        }),
        retryAfter: undefined
      })
    }),
    Effect.flatMap(([response, text]) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.zipRight(
          Effect.annotateCurrentSpan("http.response.status_code", response.status),
          classify(ctx, spec, response, text, now)
        )
      )
    ),
    Effect.withSpan(`PolarEvents.http ${spec.method} ${spec.route ?? spec.endpoint}`, {
      kind: "client",
      attributes: {
        "http.request.method": spec.method,
        "server.address": ctx.base.hostname,
        ...(ctx.base.port === "" ? {} : { "server.port": Number(ctx.base.port) }),
        "url.scheme": ctx.base.protocol.slice(0, -1),
        "url.path": spec.endpoint,
        ...(spec.query ? { "url.query": spec.query } : {}),
        "polar.attempt": n,
        ...(spec.body === undefined ? {} : { "http.request.body.size": spec.body.length })
      }
    }),
    Effect.annotateLogs({ "polar.attempt": n })
  )
}

const retryable = (policy: RetryPolicy.RetryPolicy, error: ClientError.ClientError): boolean => {
  if (error._tag === "TransportError") return policy.retryTransport
  const status = ClientError.statusOf(error)
  return status !== undefined && error._tag !== "ResponseDecodeError" && policy.statuses.has(status)
}

const send = <A>(
  ctx: Context,
  gate: Gate.Gate,
  schedule: Schedule.Schedule<Duration.Duration, Failure>,
  spec: RequestSpec<A>
): Effect.Effect<A, ClientError.ClientError> =>
  Effect.suspend(() => {
    const policy = ctx.options.retry
    let n = 0
    let start = 0
    let t0 = 0
    let last: Failure | undefined
    let spent = false
    const once = Effect.gen(function*() {
      n++
      if (n === 1) start = yield* Clock.currentTimeMillis
      yield* gate.wait
      t0 = yield* Clock.currentTimeMillis
      return yield* attempt(ctx, spec, n)
    }).pipe(
      Effect.catchAll((failure) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          last = { ...failure, elapsed: Duration.millis(now - start) }
          if (failure.error._tag !== "RateLimited") return Effect.fail(last)
          const pause = failure.retryAfter ?? RetryPolicy.backoff(policy, n)
          return Effect.zipRight(gate.pauseUntil(now + Duration.toMillis(pause)), Effect.fail(last))
        })
      )
    )
    const retries = Schedule.onDecision(schedule, (delay, decision) => {
      const error = last!.error
      if (decision._tag === "Continue") {
        return Effect.zipRight(
          Effect.logWarning("polar request failed, retrying", error.message).pipe(
            Effect.annotateLogs({
              "polar.attempt": n,
              "polar.error": error._tag,
              "polar.retry_in_ms": Math.round(Duration.toMillis(delay))
            })
          ),
          spec.onRetry === undefined ? Effect.void : spec.onRetry({ attempt: n, error, delay })
        )
      }
      if (!retryable(policy, error) || n >= policy.maxAttempts) return Effect.void
      spent = true
      return Effect.logWarning("polar request gave up: retry budget spent", error.message).pipe(
        Effect.annotateLogs({ "polar.attempt": n, "polar.error": error._tag })
      )
    })
    return Effect.retry(once, retries).pipe(
      Effect.mapError((failure) => failure.error),
      Effect.tapBoth({
        onSuccess: () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.logDebug("polar request succeeded").pipe(
              Effect.annotateLogs({ "polar.attempt": n, "polar.duration_ms": now - t0 })
            )),
        onFailure: (error) =>
          spent ? Effect.void : Effect.logDebug("polar request failed", error.message).pipe(
            Effect.annotateLogs({ "polar.attempt": n, "polar.error": error._tag })
          )
      })
    )
  }).pipe((effect) => spec.span === undefined ? effect : withRequestSpan(effect, { ...spec, span: spec.span }))

/**
 * A request's span and log annotations (method, endpoint, the request's own attributes).
 * @internal
 */
export const withRequestSpan = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  spec: {
    readonly method: string
    readonly endpoint: string
    readonly span: string
    readonly attributes?: Record<string, unknown> | undefined
  }
): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.annotateLogs({
      "polar.method": spec.method,
      "polar.endpoint": spec.endpoint
    }),
    Effect.withSpan(spec.span, {
      kind: "client",
      attributes: {
        "http.request.method": spec.method,
        "url.path": spec.endpoint,
        ...spec.attributes
      }
    })
  )
