/**
 * The contract the server implements is one a client can call:
 * `HttpApiClient.make(EventsApi.Api)` against the running server decodes
 * its answers into core's types and its errors by status.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, layer } from "@effect/vitest"
import { EventCreate, EventQuery, EventsApi } from "@polar-events/core"
import { Effect, Schema } from "effect"
import { layerServer, Server, TOKEN, wireEvent } from "./utils/harness.js"

const client = (baseUrl: string, token: string) =>
  HttpApiClient.make(EventsApi.Api, {
    baseUrl,
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  })

layer(layerServer(), { excludeTestServices: true })("EventsApi contract", (it) => {
  it.effect("HttpApiClient over the contract ingests, lists, gets and decodes errors by status", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const api = yield* client(url, TOKEN.a)
      const payload = Schema.decodeUnknownSync(EventCreate.EventsIngest)({
        events: [wireEvent(1, { external_id: "contract_1" }), wireEvent(2, { external_id: "contract_2" })]
      })
      const ingested = yield* api.events.ingest({ payload })
      assert.deepStrictEqual(ingested, { inserted: 2, duplicates: 0 })

      const query = EventQuery.ListEventsQuery.make({ name: ["api.call"], sorting: ["timestamp"], page: 1, limit: 10 })
      const page = yield* api.events.list({ urlParams: EventsApi.listParams(query) })
      assert.isAtLeast(page.items.length, 2)
      assert.instanceOf(page.items[0]!.timestamp, Date)

      const one = yield* api.events.get({ path: { id: page.items[0]!.id } })
      assert.strictEqual(one.id, page.items[0]!.id)

      const names = yield* api.events.names({ urlParams: {} })
      assert.include(names.items.map((n) => n.name), "api.call")

      const missing = yield* Effect.flip(api.events.get({ path: { id: "7f0c6a2e-1b7b-4c1e-9b9f-0a4d1f3c2b11" } }))
      assert.deepStrictEqual(missing, { error: "ResourceNotFound", detail: "Not found" })

      const invalid = yield* Effect.flip(api.events.list({ urlParams: { limit: "zero" } }))
      assert.strictEqual((invalid as { readonly _tag?: string })._tag, "RequestValidationError")

      const unknown = yield* client(url, "polar_oat_unknown_token_0123456789abcdef")
      const refused = yield* Effect.flip(unknown.events.names({ urlParams: {} }))
      assert.strictEqual((refused as { readonly error?: string }).error, "invalid_token")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
