/**
 * Bad input gets Polar's status and body, and nothing is written: every case
 * counts both organizations' events before and after.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import {
  count,
  ingest,
  layerServer,
  ORG_A,
  ORG_B,
  raw,
  type RawResponse,
  type Running,
  Server,
  TOKEN,
  wireEvent
} from "./utils/harness.js"

const MiB = 1024 * 1024

/** Runs `f` and asserts that neither organization gained or lost an event. */
const nothingWritten = <A>(f: (server: Running) => Effect.Effect<A, unknown>) =>
  Effect.gen(function*() {
    const server = yield* Server
    const a = yield* count(server.store, ORG_A)
    const b = yield* count(server.store, ORG_B)
    const result = yield* f(server)
    assert.strictEqual(yield* count(server.store, ORG_A), a, "organization A's events changed")
    assert.strictEqual(yield* count(server.store, ORG_B), b, "organization B's events changed")
    return result
  })

const assertJson = (res: RawResponse, status: number) => {
  assert.strictEqual(res.status, status, res.text)
  assert.match(String(res.headers["content-type"]), /^application\/json/)
  assert.strictEqual(res.headers["cache-control"], "private, no-store")
  return res.json()
}

const assert422 = (res: RawResponse, expected: ReadonlyArray<{ loc: ReadonlyArray<string | number>; type: string }>) => {
  const body = assertJson(res, 422)
  assert.strictEqual(body.error, "RequestValidationError")
  assert.deepStrictEqual(
    body.detail.map((d: any) => ({ loc: d.loc, type: d.type })),
    expected.map((d) => ({ loc: d.loc, type: d.type }))
  )
  for (const d of body.detail) {
    assert.isString(d.msg)
    assert.isTrue(d.msg.length > 0)
  }
  return body
}

/** A JSON ingest body of exactly `size` bytes: valid events padded with trailing whitespace. */
const bodyOfSize = (size: number, events: number, offset: number): string => {
  const json = JSON.stringify({ events: Array.from({ length: events }, (_, i) => wireEvent(offset + i)) })
  if (json.length > size) throw new Error("events do not fit")
  return json + " ".repeat(size - json.length)
}

layer(layerServer(), { excludeTestServices: true })("bad input", (it) => {
  it.effect("malformed JSON: 422 json_invalid at the position Python reports, with its message", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, number, string]> = [
          ['{"events": [', 12, "Expecting value"],
          ['{"events": [}]}', 12, "Expecting value"],
          ["{'events': []}", 1, "Expecting property name enclosed in double quotes"],
          ["not json", 0, "Expecting value"],
          ['{"events": [1,]}', 14, "Expecting value"],
          ['{"events": []}x', 14, "Extra data"],
          ['{"events": [1 2]}', 14, "Expecting ',' delimiter"],
          ['{"events" []}', 10, "Expecting ':' delimiter"],
          ['{"events": ["abc', 12, "Unterminated string starting at"],
          ['{"events": ["a\\qb"]}', 14, "Invalid \\escape"],
          ['["a\\u12x4"]', 4, "Invalid \\uXXXX escape"],
          ['["a\nb"]', 3, "Invalid control character at"],
          ['{"a":1,}', 7, "Expecting property name enclosed in double quotes"],
          ['{"a":1', 6, "Expecting ',' delimiter"],
          ["  ", 2, "Expecting value"],
          ["01", 1, "Extra data"]
        ]
        for (const [text, pos, message] of cases) {
          const body = assert422(yield* ingest(url, TOKEN.a, text), [{ loc: ["body", pos], type: "json_invalid" }])
          assert.strictEqual(body.detail[0].msg, "JSON decode error")
          assert.deepStrictEqual(body.detail[0].input, {})
          assert.deepStrictEqual(body.detail[0].ctx, { error: message }, text)
        }
      })
    ))

  it.effect("wrong types: every problem at its location, for the whole batch", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        assert422(yield* ingest(url, TOKEN.a, []), [{ loc: ["body"], type: "model_attributes_type" }])
        assert422(yield* ingest(url, TOKEN.a, {}), [{ loc: ["body", "events"], type: "missing" }])
        assert422(yield* ingest(url, TOKEN.a, { events: "x" }), [{ loc: ["body", "events"], type: "list_type" }])
        assert422(yield* ingest(url, TOKEN.a, "null"), [{ loc: ["body"], type: "model_attributes_type" }])
        const batch = {
          events: [
            wireEvent(1),
            { ...wireEvent(2), name: 5 },
            wireEvent(3),
            { ...wireEvent(4), external_customer_id: ["x"] },
            { ...wireEvent(5), metadata: { nested: { a: 1 } } },
            { ...wireEvent(6), timestamp: "2026-01-01T00:00:00" },
            { ...wireEvent(7), timestamp: "2999-01-01T00:00:00Z" },
            { ...wireEvent(8), customer_id: "not-a-uuid", external_customer_id: undefined },
            { ...wireEvent(9), organization_id: ORG_A },
            { ...wireEvent(10), metadata: { empty: "" } },
            7,
            { ...wireEvent(12), timestamp: "'; DROP TABLE pe_events; --" },
            { ...wireEvent(13), customer_id: `' OR '1'='1`, external_customer_id: undefined },
            { ...wireEvent(14), name: "x".repeat(129) }
          ]
        }
        const body = yield* ingest(url, TOKEN.a, batch)
        const json = assertJson(body, 422)
        const located = json.detail.map((d: any) => `${d.loc.join(".")} ${d.type}`)
        for (
          const expected of [
            "body.events.1.name string_type",
            "body.events.3.external_customer_id string_type",
            "body.events.5.timestamp timezone_aware",
            "body.events.6.timestamp value_error",
            "body.events.8.organization_id organization_token",
            "body.events.10 model_attributes_type",
            "body.events.13.name string_too_long"
          ]
        ) assert.include(located, expected)
        assert.isTrue(located.some((l: string) => l.startsWith("body.events.4.metadata")), located.join("\n"))
        assert.isTrue(located.some((l: string) => l.startsWith("body.events.7.customer_id")), located.join("\n"))
        assert.isTrue(located.some((l: string) => l.startsWith("body.events.9.metadata.empty")), located.join("\n"))
        assert.isTrue(located.some((l: string) => l.startsWith("body.events.11.timestamp")), located.join("\n"))
        assert.isTrue(located.some((l: string) => l.startsWith("body.events.12.customer_id")), located.join("\n"))
        for (const i of [0, 2]) assert.isFalse(located.some((l: string) => l.startsWith(`body.events.${i}.`)))
      })
    ))

  it.effect("invalid UTF-8: 400 as FastAPI answers", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const bytes = Buffer.concat([Buffer.from('{"events": [{"name": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')])
        const res = yield* raw(url, {
          method: "POST",
          path: "/v1/events/ingest",
          token: TOKEN.a,
          headers: { "content-type": "application/json" },
          body: bytes
        })
        assert.deepStrictEqual(assertJson(res, 400), { detail: "There was an error parsing the body" })
      })
    ))

  it.effect("an empty body is a missing body", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const res = yield* ingest(url, TOKEN.a, "")
        const body = assert422(res, [{ loc: ["body"], type: "missing" }])
        assert.strictEqual(body.detail[0].input, null)
      })
    ))

  it.effect("a body of 10 MiB + 1 byte: 413 before reading it; exactly 10 MiB is accepted", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      yield* nothingWritten(() =>
        Effect.gen(function*() {
          const res = yield* ingest(url, TOKEN.a, bodyOfSize(10 * MiB + 1, 1000, 100_000))
          const body = assertJson(res, 413)
          assert.strictEqual(body.error, "RequestBodyTooLarge")
          assert.isString(body.detail)
        })
      )
      const before = yield* count(store, ORG_A)
      const res = yield* ingest(url, TOKEN.a, bodyOfSize(10 * MiB, 1000, 200_000))
      assert.deepStrictEqual(assertJson(res, 200), { inserted: 1000, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), before + 1000)
    }))

  it.effect("a chunked body (no Content-Length): 411", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const res = yield* raw(url, {
          method: "POST",
          path: "/v1/events/ingest",
          token: TOKEN.a,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ events: [wireEvent(300_000)] }),
          chunked: true
        })
        const body = assertJson(res, 411)
        assert.strictEqual(body.error, "LengthRequired")
        const empty = yield* raw(url, {
          method: "POST",
          path: "/v1/events/ingest",
          token: TOKEN.a,
          headers: { "transfer-encoding": "chunked" },
          body: "",
          chunked: true
        })
        assert.strictEqual(assertJson(empty, 411).error, "LengthRequired")
      })
    ))

  it.effect("a wrong Content-Type: the body is not JSON to Polar (422 at body, the raw text as input)", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const text = JSON.stringify({ events: [wireEvent(400_000)] })
        for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]) {
          const body = assert422(yield* ingest(url, TOKEN.a, text, { "content-type": type }), [{
            loc: ["body"],
            type: "model_attributes_type"
          }])
          assert.strictEqual(body.detail[0].input, text)
        }
      })
    ))

  it.effect("a missing Content-Type, or a +json one: parsed as JSON, as FastAPI does", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const before = yield* count(store, ORG_A)
      const missing = yield* raw(url, {
        method: "POST",
        path: "/v1/events/ingest",
        token: TOKEN.a,
        body: JSON.stringify({ events: [wireEvent(500_000)] })
      })
      assert.deepStrictEqual(assertJson(missing, 200), { inserted: 1, duplicates: 0 })
      const vendor = yield* ingest(url, TOKEN.a, { events: [wireEvent(500_001)] }, {
        "content-type": "application/vnd.polar+json; charset=utf-8"
      })
      assert.deepStrictEqual(assertJson(vendor, 200), { inserted: 1, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), before + 2)
    }))

  it.effect("a huge query string: 414 above the limit, 431 above Node's header limit, fine below", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const long = yield* raw(url, { path: `/v1/events/?name=${"x".repeat(20 * 1024)}`, token: TOKEN.a })
        const body = assertJson(long, 414)
        assert.strictEqual(body.error, "URITooLong")
        const huge = yield* raw(url, { path: `/v1/events/?name=${"x".repeat(100 * 1024)}`, token: TOKEN.a })
        assert.strictEqual(huge.status, 431)
        const names = Array.from({ length: 1500 }, (_, i) => `name=n${i}`).join("&")
        assert.isTrue(names.length > 12 * 1024 && names.length < 16 * 1024)
        const many = yield* raw(url, { path: `/v1/events/?${names}`, token: TOKEN.a })
        assert.deepStrictEqual(assertJson(many, 200), { items: [], pagination: { total_count: 0, max_page: 0 } })
        const namesLong = yield* raw(url, { path: `/v1/events/names?query=${"q".repeat(20 * 1024)}`, token: TOKEN.a })
        assert.strictEqual(assertJson(namesLong, 414).error, "URITooLong")
      })
    ))

  it.effect("wrong query types: 422 at the parameter", () =>
    nothingWritten(({ url }) =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, ReadonlyArray<{ loc: ReadonlyArray<string | number>; type: string }>]> = [
          ["limit=abc", [{ loc: ["query", "limit"], type: "int_parsing" }]],
          ["page=0", [{ loc: ["query", "page"], type: "greater_than" }]],
          ["start_timestamp=2026-01-01T00:00:00", [{ loc: ["query", "start_timestamp"], type: "timezone_aware" }]],
          ["source=bogus", [{ loc: ["query", "source", 0], type: "enum" }]],
          ["customer_id=%27%20OR%201%3D1%20--", [{ loc: ["query", "customer_id", 0], type: "uuid_parsing" }]],
          ["sorting=%27%3B%20DROP%20TABLE%20events%3B", [{ loc: ["query", "sorting", 0], type: "enum" }]],
          ["depth=9", [{ loc: ["query", "depth"], type: "less_than_equal" }]]
        ]
        for (const [query, expected] of cases) {
          assert422(yield* raw(url, { path: `/v1/events/?${query}`, token: TOKEN.a }), expected)
        }
        const filter = yield* raw(url, { path: `/v1/events/?filter=${encodeURIComponent("{not json")}`, token: TOKEN.a })
        const body = assertJson(filter, 422)
        assert.deepStrictEqual(body.detail[0].loc.slice(0, 2), ["query", "filter"])
        assert422(yield* raw(url, { path: "/v1/events/names?limit=-1", token: TOKEN.a }), [{
          loc: ["query", "limit"],
          type: "greater_than"
        }])
        const id = yield* raw(url, { path: `/v1/events/${encodeURIComponent("' OR 1=1 --")}`, token: TOKEN.a })
        assert422(id, [{ loc: ["path", "id"], type: "uuid_parsing" }])
      })
    ))
})
