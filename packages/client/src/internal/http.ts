import { HttpClient, HttpClientRequest, HttpTraceContext } from "@effect/platform"
import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { ValidationError } from "@polar-events/core"
import { Clock, Duration, Effect, Either, ParseResult, Random, Redacted, Schema } from "effect"
import * as ClientError from "../ClientError.js"
import * as RetryPolicy from "../RetryPolicy.js"
import { Gate } from "./gate.js"

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
  readonly span: string
  readonly attributes?: Record<string, unknown> | undefined
  /** turns a 2xx response body into the result */
  readonly decode: (status: number, body: string) => Effect.Effect<A, ClientError.ClientError>
  readonly onRetry?: ((info: RetryInfo) => Effect.Effect<void>) | undefined
}

/** A failed attempt: the error plus a `Retry-After` floor, if the server sent one. */
interface Failure {
  readonly error: ClientError.ClientError
  readonly retryAfter: Duration.Duration | undefined
}

const BODY_SNIPPET = 300

/** @internal */
export interface Transport {
  readonly gate: Gate
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

/** @internal */
export const makeTransport = (
  http: HttpClient.HttpClient,
  options: TransportOptions
): Transport => {
  // the HTTP client's own span would record every response header as sent by the server; the attempt span
  // below records only what is safe, and propagates the trace itself
  const client = HttpClient.withTracerDisabledWhen(http, () => true)
  const base = new URL(options.baseUrl)
  const gate = new Gate()
  const token = Redacted.value(options.accessToken)
  const authorization = `Bearer ${token}`
  const scrub = (text: string): string =>
    token.length > 0 && text.includes(token) ? text.split(token).join("<redacted>") : text
  const snippet = (text: string): string | undefined =>
    text === "" ? undefined : scrub(text.length > BODY_SNIPPET ? text.slice(0, BODY_SNIPPET) + "..." : text)
  const policy = options.retry
  const baseHeaders: Record<string, string> = {
    authorization,
    accept: "application/json",
    "user-agent": options.userAgent
  }
  if (options.polarVersion !== undefined) baseHeaders["polar-version"] = options.polarVersion

  const transportError = (
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
      description: scrub(parts.length === 0 ? `${error.reason} error` : [...new Set(parts)].join(": "))
    })
  }

  const classify = <A>(
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
        return fail(new ClientError.Unauthorized({ ...at, ...(error ? { error: scrub(error) } : {}) }))
      }
      case 403: {
        const header = response.headers["www-authenticate"]
        const error = stringField(json, "error") ?? authParam(header, "error")
        const scope = authParam(header, "scope")
        return fail(
          new ClientError.Forbidden({
            ...at,
            ...(error ? { error: scrub(error) } : {}),
            ...(scope ? { scope } : {})
          })
        )
      }
      case 404: {
        const detail = stringField(json, "detail")
        return fail(new ClientError.NotFound({ ...at, ...(detail ? { detail: scrub(detail) } : {}) }))
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
      const text = snippet(body)
      return fail(new ClientError.ServerError({ ...at, status, ...(text === undefined ? {} : { body: text }) }))
    }
    const text = snippet(body)
    return fail(new ClientError.UnexpectedStatus({ ...at, status, ...(text === undefined ? {} : { body: text }) }))
  }

  const execute = (spec: RequestSpec<unknown>, request: HttpClientRequest.HttpClientRequest) =>
    Effect.flatMap(
      Effect.mapError(client.execute(request), (e): Failure => ({ error: transportError(spec, e), retryAfter: undefined })),
      (response) =>
        Effect.map(
          Effect.mapError(response.text, (e): Failure => ({ error: transportError(spec, e), retryAfter: undefined })),
          (text) => [response, text] as const
        )
    )

  const attempt = <A>(spec: RequestSpec<A>, n: number): Effect.Effect<A, Failure> => {
    const url = options.baseUrl + spec.endpoint + (spec.query ? `?${spec.query}` : "")
    const exchange = Effect.flatMap(
      Effect.map(Effect.option(Effect.currentSpan), (span) => {
        let request = HttpClientRequest.make(spec.method)(url, { headers: baseHeaders })
        if (span._tag === "Some") request = HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span.value))
        if (spec.body !== undefined) request = HttpClientRequest.bodyUint8Array(request, spec.body, "application/json")
        return request
      }),
      (request) => execute(spec, request)
    )
    return exchange.pipe(
      Effect.timeoutFail({
        duration: options.timeout,
        onTimeout: (): Failure => ({
          error: new ClientError.TransportError({
            method: spec.method,
            endpoint: spec.endpoint,
            reason: "Timeout",
            description: `no response within ${Duration.format(options.timeout)}`
          }),
          retryAfter: undefined
        })
      }),
      Effect.flatMap(([response, text]) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.zipRight(
            Effect.annotateCurrentSpan("http.response.status_code", response.status),
            classify(spec, response, text, now)
          )
        )
      ),
      Effect.withSpan(`PolarEvents.http ${spec.method} ${spec.route ?? spec.endpoint}`, {
        kind: "client",
        attributes: {
          "http.request.method": spec.method,
          "server.address": base.hostname,
          ...(base.port === "" ? {} : { "server.port": Number(base.port) }),
          "url.scheme": base.protocol.slice(0, -1),
          "url.path": spec.endpoint,
          ...(spec.query ? { "url.query": spec.query } : {}),
          "polar.attempt": n,
          ...(spec.body === undefined ? {} : { "http.request.body.size": spec.body.length })
        }
      }),
      Effect.annotateLogs({ "polar.attempt": n })
    )
  }

  const retryable = (error: ClientError.ClientError): boolean => {
    if (error._tag === "TransportError") return policy.retryTransport
    const status = ClientError.statusOf(error)
    return status !== undefined && error._tag !== "ResponseDecodeError" && policy.statuses.has(status)
  }

  const send = <A>(spec: RequestSpec<A>): Effect.Effect<A, ClientError.ClientError> =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const maxElapsed = Duration.toMillis(policy.maxElapsed)
      for (let n = 1;; n++) {
        yield* gate.wait
        const t0 = yield* Clock.currentTimeMillis
        const result = yield* Effect.either(attempt(spec, n))
        const now = yield* Clock.currentTimeMillis
        if (Either.isRight(result)) {
          yield* Effect.logDebug("polar request succeeded").pipe(
            Effect.annotateLogs({ "polar.attempt": n, "polar.duration_ms": now - t0 })
          )
          return result.right
        }
        const { error, retryAfter } = result.left
        if (error._tag === "RateLimited") {
          gate.pauseUntil(now + Duration.toMillis(retryAfter ?? RetryPolicy.backoff(policy, n)))
        }
        if (!retryable(error) || n >= policy.maxAttempts) {
          yield* Effect.logDebug("polar request failed", error.message).pipe(
            Effect.annotateLogs({ "polar.attempt": n, "polar.error": error._tag })
          )
          return yield* Effect.fail(error)
        }
        const random = yield* Random.next
        const delay = RetryPolicy.delay(policy, n, random, retryAfter)
        if (now + Duration.toMillis(delay) - start > maxElapsed) {
          yield* Effect.logWarning("polar request gave up: retry budget spent", error.message).pipe(
            Effect.annotateLogs({ "polar.attempt": n, "polar.error": error._tag })
          )
          return yield* Effect.fail(error)
        }
        yield* Effect.logWarning("polar request failed, retrying", error.message).pipe(
          Effect.annotateLogs({
            "polar.attempt": n,
            "polar.error": error._tag,
            "polar.retry_in_ms": Math.round(Duration.toMillis(delay))
          })
        )
        if (spec.onRetry !== undefined) yield* spec.onRetry({ attempt: n, error, delay })
        yield* Effect.sleep(delay)
      }
    }).pipe(
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

  return { gate, scrub, send }
}
