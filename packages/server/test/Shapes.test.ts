/**
 * Every endpoint's success body decodes with core's schemas and has the
 * shape of the spec's examples; the OpenAPI document matches the routes.
 */
import { assert, layer } from "@effect/vitest"
import { Event, EventCreate, EventQuery, ValidationError } from "@polar-events/core"
import { Effect, Schema } from "effect"
import * as PolarSpec from "@polar-events/polar-spec"
import * as EventsServer from "../src/EventsServer.js"
import * as ServerError from "../src/ServerError.js"
import { ingest, layerServer, ORG_A, raw, Server, TOKEN } from "./utils/harness.js"

const example = PolarSpec.example

/** The keys of an object and, recursively, of its object values (not inside metadata, which is user data). */
const shape = (value: unknown, path = ""): Array<string> => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return []
  const out: Array<string> = []
  for (const [k, v] of Object.entries(value)) {
    out.push(`${path}${k}`)
    if (k !== "metadata" && k !== "customer") out.push(...shape(v, `${path}${k}.`))
  }
  return out.sort()
}

const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown) => Schema.decodeUnknownSync(schema)(value)

// core's bundled .d.ts keeps only the type side of these two const+type exports; the values are there at run time
const EventNameSchema = (EventQuery as unknown as { readonly EventName: Schema.Schema<EventQuery.EventName, any> })
  .EventName
const HTTPValidationErrorSchema = (ValidationError as unknown as {
  readonly HTTPValidationError: Schema.Schema<ValidationError.HTTPValidationError, any>
}).HTTPValidationError

layer(layerServer(), { excludeTestServices: true })("success shapes", (it) => {
  it.effect("ingest, list, get and names: core decodes them, and they have the examples' keys", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      // the spec's own ingest example (its customer_id event and an external-customer root and child)
      const request = example("ingest-request")
      const res = yield* ingest(url, TOKEN.a, request)
      assert.strictEqual(res.status, 200, res.text)
      const ingested = res.json()
      assert.deepStrictEqual(shape(ingested), shape(example("ingest-response")))
      assert.deepStrictEqual(decode(EventCreate.EventsIngestResponse, ingested), { inserted: 3, duplicates: 0 })
      const again = yield* ingest(url, TOKEN.a, request)
      assert.deepStrictEqual(again.json(), { inserted: 0, duplicates: 3 })

      const list = yield* raw(url, { path: "/v1/events/?sorting=timestamp", token: TOKEN.a })
      assert.strictEqual(list.status, 200)
      assert.strictEqual(list.headers["cache-control"], "private, no-store")
      const page = list.json()
      const decoded = decode(EventQuery.ListResource(Event.Event), page)
      assert.strictEqual(decoded.items.length, 3)
      assert.deepStrictEqual(decoded.pagination, { totalCount: 3, maxPage: 1 })
      const listExample = example("list-events-page")
      assert.deepStrictEqual(Object.keys(page).sort(), Object.keys(listExample).sort())
      assert.deepStrictEqual(shape(page.pagination), shape(listExample.pagination))
      for (const item of page.items) {
        assert.deepStrictEqual(shape(item), shape(listExample.items[0]), JSON.stringify(item))
        assert.strictEqual(item.organization_id, ORG_A)
        assert.strictEqual(item.source, "user")
        assert.strictEqual(item.label, item.name)
        assert.match(item.timestamp, /Z$/)
      }
      // the wire round trip through core is lossless
      assert.deepStrictEqual(Schema.encodeSync(EventQuery.ListResource(Event.Event))(decoded), page)

      const generation = page.items.find((e: any) => e.name === "llm.generation")
      assert.deepStrictEqual(generation.metadata._cost, { amount: "0.0325", currency: "usd" })
      assert.strictEqual(generation.metadata._llm.total_tokens, 77)
      assert.strictEqual(generation.external_customer_id, "usr_1337")
      assert.strictEqual(generation.customer_id, null)
      assert.strictEqual(generation.timestamp, "2026-08-21T14:03:12.481000Z")
      const child = page.items.find((e: any) => e.name === "llm.tool_call")
      assert.strictEqual(child.parent_id, generation.id)
      assert.strictEqual(child.timestamp, "2026-08-21T12:03:12.902000Z")
      const upload = page.items.find((e: any) => e.name === "file_uploaded")
      assert.strictEqual(upload.customer_id, "992fae2a-2a17-4b7a-8d9e-e287cf90131b")
      assert.strictEqual(upload.external_customer_id, null)

      const got = yield* raw(url, { path: `/v1/events/${child.id}`, token: TOKEN.a })
      assert.strictEqual(got.status, 200)
      const event = got.json()
      assert.deepStrictEqual(event, child)
      assert.deepStrictEqual(shape(event), shape(example("user-event")))
      assert.strictEqual(decode(Event.Event, event).id, child.id)
      // any spelling pydantic reads: upper case, no hyphens, braces, urn
      for (const id of [child.id.toUpperCase(), child.id.replaceAll("-", ""), `{${child.id}}`, `urn:uuid:${child.id}`]) {
        const alt = yield* raw(url, { path: `/v1/events/${encodeURIComponent(id)}`, token: TOKEN.a })
        assert.strictEqual(alt.status, 200, id)
        assert.strictEqual(alt.json().id, child.id)
      }
      const missing = yield* raw(url, { path: "/v1/events/7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d", token: TOKEN.a })
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(missing.json(), example("error-404-get"))
      decode(ServerError.PolarErrorBody, missing.json())

      const names = yield* raw(url, { path: "/v1/events/names", token: TOKEN.a })
      assert.strictEqual(names.status, 200)
      const namesPage = names.json()
      const namesExample = example("list-event-names-page")
      assert.deepStrictEqual(shape(namesPage), shape(namesExample))
      for (const item of namesPage.items) assert.deepStrictEqual(shape(item), shape(namesExample.items[0]))
      const namesDecoded = decode(EventQuery.ListResource(EventNameSchema), namesPage)
      assert.deepStrictEqual(namesDecoded.items.map((n) => n.name).sort(), ["file_uploaded", "llm.generation", "llm.tool_call"])
      for (const n of namesDecoded.items) {
        assert.strictEqual(n.occurrences, 1)
        assert.strictEqual(n.source, "user")
        assert.strictEqual(n.label, n.name)
      }

      // a 422 decodes as core's HTTPValidationError, with the example's keys
      const invalid = yield* ingest(url, TOKEN.a, { events: [{ name: "x", customer_id: "992fae2a-2a17-1b7a-8d9e-e287cf90131b" }] })
      assert.strictEqual(invalid.status, 422)
      const error = invalid.json()
      decode(HTTPValidationErrorSchema, error)
      assert.deepStrictEqual(Object.keys(error).sort(), Object.keys(example("error-422-ingest")).sort())
      assert.deepStrictEqual(error.detail[0].loc, ["body", "events", 0, "customer_id"])
      assert.strictEqual(error.detail[0].type, "uuid_version")
    }))

  it.effect("cursor listing: Polar's cursor_pagination shape, with our next_cursor", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const seen: Array<string> = []
      let path = "/v1/events/?cursor_pagination=true&limit=1&sorting=timestamp"
      for (let i = 0; i < 10; i++) {
        const res = yield* raw(url, { path, token: TOKEN.a })
        assert.strictEqual(res.status, 200, res.text)
        const page = res.json()
        const decoded = decode(EventQuery.CursorListResource(Event.Event), page)
        seen.push(...decoded.items.map((e) => e.id))
        if (!decoded.pagination.hasNextPage) break
        assert.isString(page.pagination.next_cursor)
        path = `/v1/events/?cursor=${encodeURIComponent(page.pagination.next_cursor)}&limit=1&sorting=timestamp`
      }
      const all = (yield* raw(url, { path: "/v1/events/?sorting=timestamp", token: TOKEN.a })).json()
      assert.deepStrictEqual(seen, all.items.map((e: any) => e.id))
    }))

  it.effect("Polar-Version: served versions are echoed, others are 404 as on Polar", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const ok = yield* raw(url, { path: "/v1/events/", token: TOKEN.a, headers: { "polar-version": "2026-04" } })
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(ok.headers["polar-version"], "2026-04")
      const unknown = yield* raw(url, { path: "/v1/events/", token: TOKEN.a, headers: { "polar-version": "2020-01" } })
      assert.strictEqual(unknown.status, 404)
      assert.deepStrictEqual(unknown.json(), { detail: "Not Found" })
      assert.strictEqual(unknown.headers["polar-version"], "2020-01")
    }))

  it.effect("/openapi.json describes exactly the served routes; /healthz; unknown routes 404", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const res = yield* raw(url, { path: "/openapi.json" })
      assert.strictEqual(res.status, 200)
      const doc = res.json()
      assert.deepStrictEqual(doc, JSON.parse(EventsServer.openApiText))
      assert.deepStrictEqual(Object.keys(doc.paths).sort(), [
        "/healthz",
        "/openapi.json",
        "/v1/events/",
        "/v1/events/ingest",
        "/v1/events/names",
        "/v1/events/{id}"
      ])
      assert.deepStrictEqual(Object.keys(doc.paths["/v1/events/ingest"]), ["post"])
      assert.deepStrictEqual(doc.paths["/v1/events/"].get.security, [{ oat: ["events:read", "events:write"] }])
      // every reference resolves
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? []
      for (const ref of refs) {
        const name = ref.slice('"#/components/schemas/'.length, -1)
        assert.isDefined(doc.components.schemas[name], ref)
      }
      // every documented operation answers (no 404 from the router)
      for (const [path, ops] of Object.entries<any>(doc.paths)) {
        for (const method of Object.keys(ops)) {
          const concrete = path.replace("{id}", "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d")
          const r = yield* raw(url, { method: method.toUpperCase(), path: concrete, token: TOKEN.a, ...(method === "post" ? { body: "{}" } : {}) })
          assert.isTrue(r.status !== 404 || concrete.startsWith("/v1/events/7a9b"), `${method} ${path}: ${r.status}`)
          const declared = Object.keys(ops[method].responses)
          assert.include(declared, String(r.status), `${method} ${path} answered ${r.status}`)
        }
      }
      const health = yield* raw(url, { path: "/healthz" })
      assert.strictEqual(health.status, 200)
      assert.deepStrictEqual(health.json(), { status: "ok" })
      const unknown = yield* raw(url, { path: "/v2/whatever", token: TOKEN.a })
      assert.strictEqual(unknown.status, 404)
      assert.deepStrictEqual(unknown.json(), { detail: "Not Found" })
      // without the trailing slash the router serves the list too (FastAPI would redirect)
      const slashless = yield* raw(url, { path: "/v1/events?limit=1", token: TOKEN.a })
      assert.strictEqual(slashless.status, 200)
      assert.strictEqual(slashless.json().items.length, 1)
    }))
})
