import { HttpApiClient, HttpClient, HttpClientResponse } from "@effect/platform"
import { EventsApi } from "@polar-events/core"
import { Effect, FiberRef, ParseResult } from "effect"
import * as ClientError from "../ClientError.js"
import { decodeIssue, encodeQueryString, type Transport, withRequestSpan } from "./http.js"

/**
 * One read as the client names it: its span, endpoint and attributes, set
 * around each call of the contract's client (`call`).
 * @internal
 */
export interface Read {
  readonly endpoint: string
  /** the endpoint as a template for span names, e.g. `/v1/events/{id}` */
  readonly route?: string | undefined
  readonly span: string
  readonly attributes: Record<string, unknown>
  /** the query's keys in the order the client sends them (the contract's encoding orders them by its schema) */
  readonly keys?: ReadonlyArray<string> | undefined
}

/** The read in progress, and the status its 2xx answer came with. */
const currentRead = FiberRef.unsafeMake<{ readonly read: Read; status: number } | undefined>(undefined)

const order = (
  params: ReadonlyArray<readonly [string, string]>,
  keys: ReadonlyArray<string> | undefined
): ReadonlyArray<readonly [string, string]> => {
  if (keys === undefined) return params
  const rank = new Map<string, number>()
  keys.forEach((key, i) => rank.has(key) || rank.set(key, i))
  return params
    .map((entry, i) => [rank.get(entry[0]) ?? keys.length, i, entry] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, , entry]) => entry)
}

/**
 * The transport as the `HttpClient` of the contract's client: retries, the
 * shared 429 pause, the token and version headers, and every non-2xx answer
 * mapped to a `ClientError`, so `HttpApiClient` only ever decodes successes.
 * A 2xx body that is not JSON is a `ResponseDecodeError` here, as before;
 * the rest of the decoding is the contract's success schema.
 */
const transportClient = (transport: Transport): HttpClient.HttpClient.With<ClientError.ClientError> =>
  HttpClient.makeWith<never, never, ClientError.ClientError, never>(
    (request) =>
      Effect.flatMap(Effect.zip(request, FiberRef.get(currentRead)), ([request, current]) => {
        if (current === undefined) return Effect.dieMessage("EventsClient: a contract call outside a read")
        const { read } = current
        const query = encodeQueryString(order(request.urlParams, read.keys))
        return transport.send({
          method: "GET",
          endpoint: request.url,
          route: read.route,
          query: query === "" ? undefined : query,
          attributes: read.attributes,
          decode: (status, body) => {
            try {
              JSON.parse(body)
            } catch {
              return Effect.fail(
                new ClientError.ResponseDecodeError({
                  method: "GET",
                  endpoint: request.url,
                  status,
                  path: [],
                  issue: "the body is not JSON"
                })
              )
            }
            current.status = status
            // any 2xx is decoded as the contract's success (which it declares as 200)
            return Effect.succeed(HttpClientResponse.fromWeb(
              request,
              new Response(body, { status: 200, headers: { "content-type": "application/json" } })
            ))
          }
        })
      }),
    Effect.succeed
  )

/**
 * The contract's `events` endpoints as client methods (their errors widened:
 * `call` maps them to `ClientError`s).
 * @internal
 */
export type EventsGroupClient = HttpApiClient.Client.Group<typeof EventsApi.EventsGroup, "events", unknown, never>

/**
 * The contract's `events` group over the transport, and `call`, which runs
 * one of its reads as the client's request (span, log annotations) and
 * turns a success that does not match the contract into a `ResponseDecodeError`.
 * @internal
 */
export const makeEventsApi = (transport: Transport): Effect.Effect<{
  readonly api: EventsGroupClient
  readonly call: <A>(
    read: Read,
    run: (status: () => number) => Effect.Effect<A, unknown>
  ) => Effect.Effect<A, ClientError.ClientError>
}> =>
  Effect.map(
    HttpApiClient.group(EventsApi.Api, { group: "events", httpClient: transportClient(transport) }),
    (api: EventsGroupClient) => {
      const call = <A>(
        read: Read,
        run: (status: () => number) => Effect.Effect<A, unknown>
      ): Effect.Effect<A, ClientError.ClientError> =>
        Effect.suspend(() => {
          const current = { read, status: 200 }
          return run(() => current.status).pipe(
            Effect.locally(currentRead, current),
            Effect.catchAll((error): Effect.Effect<never, ClientError.ClientError> => {
              if (ClientError.isClientError(error)) return Effect.fail(error)
              if (ParseResult.isParseError(error)) {
                return Effect.fail(
                  new ClientError.ResponseDecodeError({
                    method: "GET",
                    endpoint: read.endpoint,
                    status: current.status,
                    ...decodeIssue(error)
                  })
                )
              }
              return Effect.die(error)
            }),
            (effect) => withRequestSpan(effect, { method: "GET", ...read })
          )
        })
      return { api, call }
    }
  )
