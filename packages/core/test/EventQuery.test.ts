import * as PolarSpec from "@polar-events/polar-spec"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import * as EventQuery from "../src/EventQuery.js"
import type { ErrorDetail } from "../src/ValidationError.js"
import { RequestValidationError } from "../src/ValidationError.js"

const readExample = (name: string): unknown => PolarSpec.example(name)

const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
const CUSTOMER_A = "7c3a2f1e-5b4d-4e8a-9c6b-2d1f0e9a8b7c"
const CUSTOMER_B = "0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d"

const decode = (qs: string) => EventQuery.decodeSearchParams(new URLSearchParams(qs))

const ok = (qs: string): EventQuery.ListEventsQuery => {
  const r = decode(qs)
  if (Either.isLeft(r)) assert.fail(r.left.message)
  return r.right
}

const errors = (qs: string): ReadonlyArray<ErrorDetail> => {
  const r = decode(qs)
  if (Either.isRight(r)) assert.fail(`expected a validation error for ${qs}`)
  assert.instanceOf(r.left, RequestValidationError)
  return r.left.detail
}

const locs = (details: ReadonlyArray<ErrorDetail>) => details.map((d) => [d.loc, d.type] as const)

describe("list pages", () => {
  it("the names-page example decodes with ListResource(EventName) and re-encodes deep-equal", () => {
    const json = readExample("list-event-names-page.example.json")
    const schema = EventQuery.ListResource(EventQuery.EventName)
    const page = Schema.decodeUnknownSync(schema)(json)
    assert.strictEqual(page.items.length, 2)
    assert.strictEqual(page.items[1]!.label, "Meter Credited")
    assert.instanceOf(page.items[0]!.firstSeen, Date)
    assert.strictEqual(page.items[0]!.lastSeen.toISOString(), "2026-08-21T14:03:12.481Z")
    assert.deepStrictEqual(page.pagination, { totalCount: 2, maxPage: 1 })
    assert.deepStrictEqual(Schema.encodeSync(schema)(page), json)
  })

  it("the events-page example's pagination decodes with ListResource", () => {
    const json = readExample("list-events-page.example.json") as { pagination: unknown }
    const page = Schema.decodeUnknownSync(EventQuery.ListResource(Schema.Unknown))(json)
    assert.deepStrictEqual(Schema.encodeSync(EventQuery.Pagination)(page.pagination), json.pagination)
  })

  it("CursorPagination and makePagination", () => {
    const schema = EventQuery.CursorListResource(Schema.Number)
    const wire = { items: [1, 2], pagination: { has_next_page: true } }
    const page = Schema.decodeUnknownSync(schema)(wire)
    assert.deepStrictEqual(page.pagination, { hasNextPage: true })
    assert.deepStrictEqual(Schema.encodeSync(schema)(page), wire)
    assert.deepStrictEqual(EventQuery.makePagination(21, 10), { totalCount: 21, maxPage: 3 })
    assert.deepStrictEqual(EventQuery.makePagination(0, 10), { totalCount: 0, maxPage: 0 })
  })

  it("EventName rejects a naive timestamp and an unknown source", () => {
    const base = { name: "x", label: "x", source: "user", occurrences: 1, first_seen: "2026-01-01T00:00:00Z", last_seen: "2026-01-01T00:00:00Z" }
    const decodeName = Schema.decodeUnknownEither(EventQuery.EventName)
    assert.isTrue(Either.isRight(decodeName(base)))
    assert.isTrue(Either.isLeft(decodeName({ ...base, first_seen: "2026-01-01T00:00:00" })))
    assert.isTrue(Either.isLeft(decodeName({ ...base, source: "robot" })))
  })
})

describe("decodeSearchParams", () => {
  it("no parameters is Polar's default listing", () => {
    assert.deepStrictEqual(ok(""), { sorting: ["-timestamp"], page: 1, limit: 10 })
    assert.deepStrictEqual(ok(""), EventQuery.ListEventsQuery.make({}))
  })

  it("repeated keys are lists; a single key is a one-element list", () => {
    const q = ok(`name=a&name=b&source=user&customer_id=${CUSTOMER_A}&customer_id=${CUSTOMER_B}&external_customer_id=x&organization_id=${ORG}`)
    assert.deepStrictEqual(q.name, ["a", "b"])
    assert.deepStrictEqual(q.source, ["user"])
    assert.deepStrictEqual<unknown>(q.customerId, [CUSTOMER_A, CUSTOMER_B])
    assert.deepStrictEqual(q.externalCustomerId, ["x"])
    assert.deepStrictEqual<unknown>(q.organizationId, [ORG])
  })

  it("metadata[key]=value is deepObject, values of one key grouped", () => {
    const q = ok("metadata[model]=gpt-4o&metadata[model]=claude&metadata[region]=eu&metadata=ignored")
    assert.deepStrictEqual(q.metadata, { model: ["gpt-4o", "claude"], region: ["eu"] })
    assert.deepStrictEqual(ok("metadata[__proto__]=x").metadata, Object.defineProperty({}, "__proto__", {
      value: ["x"],
      enumerable: true,
      writable: true,
      configurable: true
    }))
  })

  it("filter is a JSON string validated as a meter Filter", () => {
    const filter = { conjunction: "and", clauses: [{ property: "_llm.total_tokens", operator: "gt", value: 100 }] }
    const q = ok(new URLSearchParams({ filter: JSON.stringify(filter) }).toString())
    assert.deepStrictEqual<unknown>(q.filter, filter)
  })

  it("a filter that is not JSON is a 422 at [query, filter]", () => {
    const details = errors("filter=%7Bnope")
    assert.deepStrictEqual(locs(details), [[["query", "filter"], "json_invalid"]])
    assert.match(details[0]!.msg, /^Invalid JSON/)
  })

  it("a filter that is JSON but not a Filter names the field inside it", () => {
    const details = errors(new URLSearchParams({ filter: JSON.stringify({ conjunction: "nand", clauses: [{ property: "a", operator: "eq", value: 1.5 }] }) }).toString())
    assert.deepStrictEqual(locs(details), [
      [["query", "filter", "conjunction"], "enum"],
      [["query", "filter", "clauses", 0, "FilterClause", "value"], "int_from_float"]
    ])
  })

  it("timestamps need a zone; both are kept exactly", () => {
    const q = ok("start_timestamp=2026-03-29T02:30:00%2B02:00&end_timestamp=2026-03-30T00:00:00.123456Z")
    assert.strictEqual(q.startTimestamp!.toISOString(), "2026-03-29T00:30:00.000Z")
    assert.deepStrictEqual(EventQuery.encodeSearchParams(q).slice(0, 2), [
      ["start_timestamp", "2026-03-29T02:30:00+02:00"],
      ["end_timestamp", "2026-03-30T00:00:00.123456Z"]
    ])
    const details = errors("start_timestamp=2026-03-29T02:30:00&end_timestamp=yesterday")
    assert.deepStrictEqual(locs(details), [
      [["query", "start_timestamp"], "timezone_aware"],
      [["query", "end_timestamp"], "datetime_from_date_parsing"]
    ])
  })

  it("limit above 100 is silently 100; limit and page must be positive integers", () => {
    assert.strictEqual(ok("limit=500").limit, 100)
    assert.strictEqual(ok("limit=100000000000000000000000").limit, 100)
    assert.strictEqual(ok("limit=37&page=4").limit, 37)
    assert.strictEqual(ok("limit=37&page=4").page, 4)
    assert.deepStrictEqual(locs(errors("limit=0&page=0")), [
      [["query", "page"], "greater_than"],
      [["query", "limit"], "greater_than"]
    ])
    assert.deepStrictEqual(locs(errors("limit=ten")), [[["query", "limit"], "int_parsing"]])
    assert.deepStrictEqual(locs(errors("page=1.5")), [[["query", "page"], "int_parsing"]])
  })

  it("depth is 0..5", () => {
    assert.strictEqual(ok("depth=0").depth, 0)
    assert.strictEqual(ok("depth=5").depth, 5)
    const six = errors("depth=6")
    assert.deepStrictEqual(locs(six), [[["query", "depth"], "less_than_equal"]])
    assert.deepStrictEqual(six[0]!.ctx, { le: 5 })
    assert.deepStrictEqual(locs(errors("depth=-1")), [[["query", "depth"], "greater_than_equal"]])
  })

  it("sorting takes only the spec's values; several criteria are kept in order", () => {
    assert.deepStrictEqual(ok("sorting=timestamp").sorting, ["timestamp"])
    assert.deepStrictEqual(ok("sorting=timestamp&sorting=-timestamp").sorting, ["timestamp", "-timestamp"])
    assert.strictEqual(EventQuery.timestampOrder(ok("sorting=timestamp")), "asc")
    assert.strictEqual(EventQuery.timestampOrder(ok("")), "desc")
    const details = errors("sorting=-timestamp&sorting=name")
    assert.deepStrictEqual(locs(details), [[["query", "sorting", 1], "enum"]])
    assert.strictEqual(details[0]!.msg, "Input should be 'timestamp' or '-timestamp'")
  })

  it("source is user or system", () => {
    assert.deepStrictEqual(locs(errors("source=user&source=robot")), [[["query", "source", 1], "enum"]])
  })

  it("ids are version-4 UUIDs, read as pydantic reads them, written lowercase", () => {
    const upper = CUSTOMER_A.toUpperCase()
    const bare = CUSTOMER_B.replaceAll("-", "")
    const q = ok(`customer_id=${upper}&customer_id=${bare}&parent_id=%7B${CUSTOMER_A}%7D&meter_id=urn:uuid:${CUSTOMER_B}`)
    assert.deepStrictEqual<unknown>(q.customerId, [CUSTOMER_A, CUSTOMER_B])
    assert.strictEqual(q.parentId, CUSTOMER_A)
    assert.strictEqual(q.meterId, CUSTOMER_B)
    const details = errors(`customer_id=${CUSTOMER_A}&customer_id=6ba7b810-9dad-11d1-80b4-00c04fd430c8&organization_id=nope&parent_id=123`)
    assert.deepStrictEqual(locs(details), [
      [["query", "organization_id", 0], "uuid_parsing"],
      [["query", "customer_id", 1], "uuid_version"],
      [["query", "parent_id"], "uuid_parsing"]
    ])
    assert.deepStrictEqual(details[1]!.ctx, { expected_version: 4 })
  })

  it("parent_id takes any UUID version: a local store's event ids are v7", () => {
    const v7 = "01a21d75-c0e0-74ce-88c9-07dde8d518cd"
    assert.strictEqual(ok(`parent_id=${v7}`).parentId, v7)
  })

  it("query needs organization_id and at least 3 characters", () => {
    assert.strictEqual(ok(`query=gpt&organization_id=${ORG}`).query, "gpt")
    assert.deepStrictEqual(locs(errors("query=gpt")), [[["query", "query"], "query"]])
    assert.deepStrictEqual(locs(errors(`query=ab&organization_id=${ORG}`)), [[["query", "query"], "string_too_short"]])
  })

  it("a repeated scalar takes its last value; unknown parameters are ignored", () => {
    const q = ok("limit=5&limit=7&foo=bar&hierarchical=true&cursor=abc&cursor_pagination=yes")
    assert.strictEqual(q.limit, 7)
    assert.strictEqual(q.cursor, "abc")
    assert.strictEqual(q.cursorPagination, true)
    assert.isFalse("foo" in q)
    assert.deepStrictEqual(locs(errors("cursor_pagination=maybe")), [[["query", "cursor_pagination"], "bool_parsing"]])
  })

  it("every problem is reported at once, with a readable message", () => {
    const r = decode("limit=0&depth=9&source=x&filter=1")
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) {
      assert.strictEqual(r.left.detail.length, 4)
      assert.match(r.left.message, /query\.filter/)
      assert.match(r.left.message, /query\.limit/)
    }
  })
})

describe("encodeSearchParams", () => {
  it("writes Polar's encoding and leaves defaults out", () => {
    const q = EventQuery.ListEventsQuery.make({
      name: ["a", "b"],
      metadata: { model: ["x", "y"] },
      filter: { conjunction: "or", clauses: [] },
      depth: 2,
      limit: 50
    })
    assert.deepStrictEqual(EventQuery.encodeSearchParams(q), [
      ["filter", "{\"conjunction\":\"or\",\"clauses\":[]}"],
      ["name", "a"],
      ["name", "b"],
      ["depth", "2"],
      ["metadata[model]", "x"],
      ["metadata[model]", "y"],
      ["limit", "50"]
    ])
    assert.strictEqual(
      new URLSearchParams(EventQuery.encodeSearchParams(q)).toString(),
      "filter=%7B%22conjunction%22%3A%22or%22%2C%22clauses%22%3A%5B%5D%7D&name=a&name=b&depth=2&metadata%5Bmodel%5D=x&metadata%5Bmodel%5D=y&limit=50"
    )
    assert.deepStrictEqual(EventQuery.encodeSearchParams(EventQuery.ListEventsQuery.make({})), [])
  })
})

const validEventsQuery = Arbitrary.make(EventQuery.ListEventsQuery).filter(
  (q) => q.query === undefined || q.organizationId !== undefined
)

describe("round trips", () => {
  it.prop("decode(encode(q)) equals q", [validEventsQuery], ([q]) => {
    const entries = EventQuery.encodeSearchParams(q)
    const back = EventQuery.decodeSearchParams(new URLSearchParams(new URLSearchParams(entries).toString()))
    if (Either.isLeft(back)) assert.fail(back.left.message)
    assert.deepStrictEqual(back.right, q)
  }, { fastCheck: { numRuns: 300 } })

  it.prop("encode(decode(x)) is stable", [
    validEventsQuery,
    fc.array(fc.tuple(
      fc.constantFrom("name", "limit", "page", "sorting", "source", "metadata[k]", "metadata[j]x", "depth", "zzz"),
      fc.constantFrom("a", "user", "7", "500", "timestamp", "-timestamp", "0", "5", "")
    ), { maxLength: 8 })
  ], ([q, noise]) => {
    const r = EventQuery.decodeSearchParams([...EventQuery.encodeSearchParams(q), ...noise])
    if (Either.isLeft(r)) return
    const once = EventQuery.encodeSearchParams(r.right)
    const twice = EventQuery.decodeSearchParams(once)
    if (Either.isLeft(twice)) assert.fail(twice.left.message)
    assert.deepStrictEqual(EventQuery.encodeSearchParams(twice.right), once)
    assert.deepStrictEqual(twice.right, r.right)
  })

  it("the JSON form refuses a __proto__ metadata key instead of dropping the filter", () => {
    const json = JSON.parse(`{"metadata":{"__proto__":["x"],"model":["a"]},"sorting":["timestamp"],"page":1,"limit":1}`)
    const result = Schema.decodeUnknownEither(EventQuery.ListEventsQuery)(json)
    if (Either.isRight(result)) assert.fail("a __proto__ metadata key was accepted")
    assert.include(result.left.message, "__proto__ is not allowed as a metadata key")
  })

  it.prop("the JSON form round-trips", [validEventsQuery], ([q]) => {
    const json = JSON.parse(JSON.stringify(Schema.encodeSync(EventQuery.ListEventsQuery)(q)))
    assert.deepStrictEqual(Schema.decodeUnknownSync(EventQuery.ListEventsQuery)(json), q)
  }, { fastCheck: { numRuns: 100 } })

  it.prop("names: decode(encode(q)) equals q", [EventQuery.ListEventNamesQuery], ([q]) => {
    const back = EventQuery.decodeNamesSearchParams(EventQuery.encodeNamesSearchParams(q))
    if (Either.isLeft(back)) assert.fail(back.left.message)
    assert.deepStrictEqual(back.right, q)
  })
})

describe("names query", () => {
  it("defaults to -last_seen and takes the names sort keys", () => {
    const d = (qs: string) => EventQuery.decodeNamesSearchParams(new URLSearchParams(qs))
    assert.deepStrictEqual(Either.getOrThrow(d("")), { sorting: ["-last_seen"], page: 1, limit: 10 })
    assert.deepStrictEqual(Either.getOrThrow(d("sorting=occurrences&sorting=-name&query=ll&limit=101")), {
      sorting: ["occurrences", "-name"],
      query: "ll",
      page: 1,
      limit: 100
    })
    const bad = d("sorting=timestamp")
    assert.isTrue(Either.isLeft(bad))
    if (Either.isLeft(bad)) {
      assert.deepStrictEqual(bad.left.detail[0]!.loc, ["query", "sorting", 0])
      assert.strictEqual(
        bad.left.detail[0]!.msg,
        "Input should be 'name', '-name', 'occurrences', '-occurrences', 'first_seen', '-first_seen', 'last_seen' or '-last_seen'"
      )
    }
  })
})
