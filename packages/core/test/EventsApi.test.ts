/**
 * The contract as a client uses it: its success and error schemas decode
 * Polar's own example payloads into core's types, each error is declared
 * with Polar's status, and its parameters take any query as it arrives.
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { assert, describe, it } from "@effect/vitest"
import * as PolarSpec from "@polar-events/polar-spec"
import { Schema } from "effect"
import { EventQuery, EventsApi, ValidationError } from "../src/index.js"

describe("EventsApi", () => {
  it("declares the four endpoints in one group, under Polar's operation ids", () => {
    const group = EventsApi.Api.groups.events
    assert.deepStrictEqual(Object.keys(group.endpoints).sort(), ["get", "ingest", "list", "names"])
    const routes = Object.values(group.endpoints).map((e) => `${e.method} ${e.path}`).sort()
    assert.deepStrictEqual(routes, ["GET /v1/events/", "GET /v1/events/:id", "GET /v1/events/names", "POST /v1/events/ingest"])
  })

  it("success schemas decode Polar's example responses into core's types", () => {
    const page = Schema.decodeUnknownSync(EventsApi.EventsPage)(PolarSpec.example("list-events-page"))
    assert.isAbove(page.items.length, 0)
    assert.instanceOf(page.items[0]!.timestamp, Date)
    assert.isTrue("totalCount" in page.pagination)

    const names = Schema.decodeUnknownSync(EventsApi.NamesPage)(PolarSpec.example("list-event-names-page"))
    assert.instanceOf(names.items[0]!.lastSeen, Date)

    const ingested = Schema.decodeUnknownSync(EventsApi.IngestResponse)(PolarSpec.example("ingest-response"))
    assert.isNumber(ingested.inserted)

    const cursor = Schema.decodeUnknownSync(EventsApi.EventsPage)({
      items: [PolarSpec.example("user-event")],
      pagination: { has_next_page: true, next_cursor: "abc" }
    })
    assert.deepStrictEqual(cursor.pagination, { hasNextPage: true, nextCursor: "abc" })
  })

  it("error schemas decode Polar's error bodies, each at its status", () => {
    const invalid = Schema.decodeUnknownSync(EventsApi.ValidationFailed)(PolarSpec.example("error-422-ingest"))
    assert.instanceOf(invalid, ValidationError.RequestValidationError)
    assert.isAbove(invalid.detail.length, 0)
    assert.deepStrictEqual(
      Schema.encodeSync(EventsApi.ValidationFailed)(invalid),
      ValidationError.toHTTP(invalid)
    )
    const notFound = Schema.decodeUnknownSync(EventsApi.ResourceNotFound)(PolarSpec.example("error-404-get"))
    assert.strictEqual(notFound.error, "ResourceNotFound")

    const statuses = [
      [EventsApi.ValidationFailed, 422],
      [EventsApi.Unauthorized, 401],
      [EventsApi.InvalidToken, 401],
      [EventsApi.InsufficientScope, 403],
      [EventsApi.ResourceNotFound, 404],
      [EventsApi.LengthRequired, 411],
      [EventsApi.RequestBodyTooLarge, 413],
      [EventsApi.URITooLong, 414],
      [EventsApi.RateLimited, 429],
      [EventsApi.InternalServerError, 500]
    ] as const
    for (const [schema, status] of statuses) assert.strictEqual(HttpApiSchema.getStatusError(schema), status)
  })

  it("parameters take any query as it arrives, so the handler (not HttpApi) answers Polar's 422", () => {
    const query = {
      limit: "not a number",
      source: ["user", "nonsense"],
      sorting: "-timestamp",
      "metadata[plan]": ["pro", "team"],
      unknown: "kept"
    }
    assert.deepStrictEqual(Schema.decodeUnknownSync(EventsApi.ListParams)(query), query)
    assert.deepStrictEqual(Schema.decodeUnknownSync(EventsApi.NamesParams)({ page: "0" }), { page: "0" })
    assert.deepStrictEqual(Schema.decodeUnknownSync(EventsApi.GetPath)({ id: "not-a-uuid" }), { id: "not-a-uuid" })
  })

  it("listParams writes a query as Polar reads it, repeated keys in order", () => {
    const query = EventQuery.ListEventsQuery.make({
      name: ["b", "a"],
      metadata: { plan: ["pro"] },
      sorting: ["-timestamp"],
      page: 2,
      limit: 10
    })
    const params = EventsApi.listParams(query)
    assert.deepStrictEqual(params.name, ["b", "a"])
    assert.deepStrictEqual(params["metadata[plan]"], ["pro"])
    assert.deepStrictEqual(params.page, ["2"])
  })
})
