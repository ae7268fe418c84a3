import * as PolarSpec from "@polar-events/polar-spec"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { EventCreate, Timestamp, ValidationError } from "../src/index.js"

const example = PolarSpec.example

const NOW = new Date("2026-09-01T00:00:00Z")
const CUSTOMER = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
const CUSTOMER_V1 = "992fae2a-2a17-1b7a-8d9e-e287cf90131b"
const MEMBER = "5b3a0c3e-8f4d-4c55-9d0a-2f6c9a0e1b77"
const ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"

const external = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: "api.call",
  external_customer_id: "usr_1",
  timestamp: "2026-08-21T14:03:12.481Z",
  ...extra
})
const customer = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: "api.call",
  customer_id: CUSTOMER,
  ...extra
})
const without = (o: Record<string, unknown>, key: string) => {
  const { [key]: _, ...rest } = o
  return rest
}

const validate = (body: unknown, options: EventCreate.ValidateOptions = {}) =>
  EventCreate.validate(body, { now: NOW, ...options })

const details = (body: unknown, options?: EventCreate.ValidateOptions): ReadonlyArray<ValidationError.ErrorDetail> => {
  const r = validate(body, options)
  if (Either.isRight(r)) assert.fail(`expected errors, got ${JSON.stringify(r.right)}`)
  return r.left.detail
}

const valid = (body: unknown, options?: EventCreate.ValidateOptions): ReadonlyArray<EventCreate.EventCreate> => {
  const r = validate(body, options)
  if (Either.isLeft(r)) assert.fail(r.left.message)
  return r.right
}

/** Exactly one error, at `["body", "events", 0, ...loc]`, of `type`. */
const rejects = (
  event: unknown,
  loc: ReadonlyArray<string | number>,
  type: string,
  options?: EventCreate.ValidateOptions
): ValidationError.ErrorDetail => {
  const d = details({ events: [event] }, options)
  assert.strictEqual(d.length, 1, JSON.stringify(d))
  assert.deepStrictEqual(d[0]!.loc, ["body", "events", 0, ...loc])
  assert.strictEqual(d[0]!.type, type)
  return d[0]!
}

const accepts = (event: unknown, options?: EventCreate.ValidateOptions): EventCreate.EventCreate =>
  valid({ events: [event] }, options)[0]!

describe("EventCreate examples", () => {
  it("ingest-request.example.json decodes via EventsIngest and re-encodes deep-equal", () => {
    const json = example("ingest-request.example.json")
    const decoded = Schema.decodeUnknownSync(EventCreate.EventsIngest)(json)
    assert.strictEqual(decoded.events.length, 3)
    const [root, child, upload] = decoded.events
    assert.strictEqual((root as EventCreate.EventCreateExternalCustomer).externalCustomerId, "usr_1337")
    assert.strictEqual(child!.parentId, "evt_01K0E6Y8W4H7D3F2A1B9C5M6N7")
    assert.strictEqual(child!.timestamp!.toISOString(), "2026-08-21T12:03:12.902Z")
    assert.strictEqual((upload as EventCreate.EventCreateCustomer).customerId, CUSTOMER)
    assert.isFalse("timestamp" in upload!)
    assert.deepStrictEqual(Schema.encodeSync(EventCreate.EventsIngest)(decoded), json)
    assert.strictEqual(
      (Schema.encodeSync(EventCreate.EventsIngest)(decoded).events[1] as { timestamp: string }).timestamp,
      "2026-08-21T14:03:12.902+02:00"
    )
  })

  it("ingest-request.example.json validates to the same domain events the schema decodes", () => {
    const json = example("ingest-request.example.json")
    assert.deepStrictEqual(valid(json), Schema.decodeUnknownSync(EventCreate.EventsIngest)(json).events)
  })

  it("ingest-response.example.json decodes via EventsIngestResponse and re-encodes deep-equal", () => {
    const json = example("ingest-response.example.json")
    const decoded = Schema.decodeUnknownSync(EventCreate.EventsIngestResponse)(json)
    assert.deepStrictEqual(decoded, { inserted: 2, duplicates: 1 })
    assert.deepStrictEqual(Schema.encodeSync(EventCreate.EventsIngestResponse)(decoded), json)
  })

  it("EventsIngestResponse defaults duplicates to 0", () => {
    assert.deepStrictEqual(Schema.decodeUnknownSync(EventCreate.EventsIngestResponse)({ inserted: 4 }), {
      inserted: 4,
      duplicates: 0
    })
  })

  it("error-422-ingest.example.json decodes with HTTPValidationError and re-encodes deep-equal", () => {
    const json = example("error-422-ingest.example.json")
    const decoded = Schema.decodeUnknownSync(ValidationError.HTTPValidationError)(json)
    assert.deepStrictEqual(Schema.encodeSync(ValidationError.HTTPValidationError)(decoded), json)
  })
})

describe("EventCreate.validate: body", () => {
  it("a body that is not an object is reported at [body]", () => {
    const d = details([])
    assert.deepStrictEqual(d.map((x) => [x.loc, x.type]), [[["body"], "model_attributes_type"]])
  })

  it("a missing events key is reported at [body, events]", () => {
    const d = details({})
    assert.deepStrictEqual(d.map((x) => [x.loc, x.type]), [[["body", "events"], "missing"]])
  })

  it("events that are not a list are reported at [body, events]", () => {
    const d = details({ events: {} })
    assert.deepStrictEqual(d.map((x) => [x.loc, x.type]), [[["body", "events"], "list_type"]])
  })

  it("an event that is not an object is reported at its index", () => {
    rejects("x", [], "model_attributes_type")
  })

  it("an empty batch is valid", () => {
    assert.deepStrictEqual(valid({ events: [] }), [])
  })
})

describe("EventCreate.validate: name", () => {
  it("is required", () => {
    const d = rejects(without(external(), "name"), ["name"], "missing")
    assert.strictEqual(d.msg, "Field required")
  })

  it("must be a string", () => {
    rejects(external({ name: 42 }), ["name"], "string_type")
  })

  it("must not be empty", () => {
    const d = rejects(external({ name: "" }), ["name"], "string_too_short")
    assert.deepStrictEqual(d.ctx, { min_length: 1 })
  })

  it("has at most 128 characters", () => {
    assert.strictEqual(accepts(external({ name: "n".repeat(128) })).name, "n".repeat(128))
    const d = rejects(external({ name: "n".repeat(129) }), ["name"], "string_too_long")
    assert.deepStrictEqual(d.ctx, { max_length: 128 })
    assert.strictEqual(d.msg, "String should have at most 128 characters")
  })

  it("counts characters, not UTF-16 units", () => {
    accepts(external({ name: "😀".repeat(128) }))
    rejects(external({ name: "😀".repeat(129) }), ["name"], "string_too_long")
  })

  it("must not contain NUL", () => {
    const d = rejects(external({ name: "a\u0000b" }), ["name"], "value_error")
    assert.include(d.msg, "NUL")
  })
})

describe("EventCreate.validate: customer", () => {
  it("an event with neither customer_id nor external_customer_id gets an error for both branches", () => {
    const d = details({ events: [{ name: "x" }] })
    assert.deepStrictEqual(d.map((x) => [x.loc, x.type]), [
      [["body", "events", 0, "customer_id"], "missing"],
      [["body", "events", 0, "external_customer_id"], "missing"]
    ])
  })

  it("customer_id must be a UUID", () => {
    rejects(customer({ customer_id: "cus_123" }), ["customer_id"], "uuid_parsing")
  })

  it("customer_id must be a UUID version 4", () => {
    const d = rejects(customer({ customer_id: CUSTOMER_V1 }), ["customer_id"], "uuid_version")
    assert.deepStrictEqual(d.ctx, { expected_version: 4 })
    assert.strictEqual(d.input, CUSTOMER_V1)
  })

  it("customer_id must be a string", () => {
    rejects(customer({ customer_id: 7 }), ["customer_id"], "uuid_type")
  })

  it("a valid customer_id makes an EventCreateCustomer with a branded id", () => {
    const e = accepts(customer())
    assert.isTrue(EventCreate.isCustomer(e))
    assert.strictEqual((e as EventCreate.EventCreateCustomer).customerId, CUSTOMER)
  })

  it("with both ids the event is an EventCreateCustomer and external_customer_id is dropped (as Polar)", () => {
    const e = accepts(customer({ external_customer_id: "usr_1" }))
    assert.isTrue(EventCreate.isCustomer(e))
    assert.isFalse("externalCustomerId" in e)
  })

  it("with an invalid customer_id but a valid external_customer_id the event is external (as Polar)", () => {
    const e = accepts(customer({ customer_id: "nope", external_customer_id: "usr_1" }))
    assert.isFalse(EventCreate.isCustomer(e))
    assert.strictEqual((e as EventCreate.EventCreateExternalCustomer).externalCustomerId, "usr_1")
    assert.isFalse("customerId" in e)
  })

  it("external_customer_id must be a string", () => {
    rejects(external({ external_customer_id: 12 }), ["external_customer_id"], "string_type")
  })

  it("external_customer_id must not be empty", () => {
    rejects(external({ external_customer_id: "" }), ["external_customer_id"], "string_too_short")
  })

  it("external_customer_id must not contain NUL", () => {
    rejects(external({ external_customer_id: "u\u0000" }), ["external_customer_id"], "value_error")
  })
})

describe("EventCreate.validate: members", () => {
  it("member_id (with customer_id) may be a UUID v4 or null", () => {
    assert.strictEqual((accepts(customer({ member_id: MEMBER })) as EventCreate.EventCreateCustomer).memberId, MEMBER)
    assert.isNull((accepts(customer({ member_id: null })) as EventCreate.EventCreateCustomer).memberId)
    assert.isFalse("memberId" in accepts(customer()))
  })

  it("member_id must be a UUID v4", () => {
    rejects(customer({ member_id: CUSTOMER_V1 }), ["member_id"], "uuid_version")
    rejects(customer({ member_id: "m_1" }), ["member_id"], "uuid_parsing")
  })

  it("member_id on an external-customer event is ignored, as Polar ignores unknown keys", () => {
    const e = accepts(external({ member_id: MEMBER }))
    assert.isFalse("memberId" in e)
  })

  it("member_id on an external-customer event is extra_forbidden when forbidExtra is set", () => {
    rejects(external({ member_id: MEMBER }), ["member_id"], "extra_forbidden", { forbidExtra: true })
  })

  it("external_member_id (with external_customer_id) may be a string or null", () => {
    const e = accepts(external({ external_member_id: "mem_1" })) as EventCreate.EventCreateExternalCustomer
    assert.strictEqual(e.externalMemberId, "mem_1")
    assert.isNull((accepts(external({ external_member_id: null })) as EventCreate.EventCreateExternalCustomer).externalMemberId)
  })

  it("external_member_id must not be empty", () => {
    rejects(external({ external_member_id: "" }), ["external_member_id"], "string_too_short")
  })

  it("external_member_id on a customer event is ignored, or extra_forbidden with forbidExtra", () => {
    assert.isFalse("externalMemberId" in accepts(customer({ external_member_id: "mem_1" })))
    rejects(customer({ external_member_id: "mem_1" }), ["external_member_id"], "extra_forbidden", { forbidExtra: true })
  })
})

describe("EventCreate.validate: timestamp", () => {
  it("must carry a zone offset", () => {
    const d = rejects(external({ timestamp: "2026-08-21T14:03:12" }), ["timestamp"], "timezone_aware")
    assert.strictEqual(d.input, "2026-08-21T14:03:12")
  })

  it("must be a date-time", () => {
    rejects(external({ timestamp: "yesterday" }), ["timestamp"], "datetime_from_date_parsing")
    rejects(external({ timestamp: "2026-02-30T00:00:00Z" }), ["timestamp"], "datetime_from_date_parsing")
  })

  it("must be a string", () => {
    rejects(external({ timestamp: 1_700_000_000 }), ["timestamp"], "datetime_type")
  })

  it("must not be in the future", () => {
    const d = rejects(external({ timestamp: "2026-09-01T00:00:00.000001Z" }), ["timestamp"], "value_error")
    assert.strictEqual(d.msg, "Value error, Timestamp must be in the past.")
    accepts(external({ timestamp: "2026-09-01T00:00:00Z" }))
    accepts(external({ timestamp: "2026-09-01T02:00:00+02:00" }))
    rejects(external({ timestamp: "2026-09-01T01:00:00-01:00" }), ["timestamp"], "value_error")
  })

  it("may be in the future by at most clockSkew", () => {
    const ahead = external({ timestamp: "2026-09-01T00:00:30Z" })
    accepts(ahead, { clockSkew: "1 minute" })
    rejects(ahead, ["timestamp"], "value_error", { clockSkew: "10 seconds" })
  })

  it("is checked against the current clock by default", () => {
    const future = new Date(Date.now() + 3_600_000).toISOString()
    const d = EventCreate.validate({ events: [external({ timestamp: future })] })
    assert.isTrue(Either.isLeft(d))
    assert.isTrue(Either.isRight(EventCreate.validate({ events: [external()] })))
  })

  it("stays absent when absent (the store stamps the insertion time)", () => {
    assert.isFalse("timestamp" in accepts(without(external(), "timestamp")))
  })

  it("keeps its offset and fraction: the decoded Date re-encodes to the exact text", () => {
    const text = "2026-08-21T14:03:12.123456+02:00"
    const e = accepts(external({ timestamp: text }))
    assert.strictEqual(Timestamp.format(e.timestamp!), text)
    assert.strictEqual(Timestamp.toEpochMicros(e.timestamp!), Date.UTC(2026, 7, 21, 12, 3, 12) * 1000 + 123456)
  })

  it("accepts the forms Timestamp accepts beyond the common one", () => {
    const e = accepts(external({ timestamp: "2026-08-21 14:03+0200" }))
    assert.strictEqual(e.timestamp!.toISOString(), "2026-08-21T12:03:00.000Z")
  })
})

describe("EventCreate.validate: organization_id", () => {
  it("must be absent or null with an organization token (the default)", () => {
    const d = rejects(external({ organization_id: ORG }), ["organization_id"], "organization_token")
    assert.strictEqual(d.msg, "Setting organization_id is disallowed when using an organization token.")
    assert.isNull(accepts(external({ organization_id: null })).organizationId)
    assert.isFalse("organizationId" in accepts(external()))
  })

  it("is kept when the caller does not use an organization token", () => {
    assert.strictEqual(accepts(external({ organization_id: ORG }), { organizationToken: false }).organizationId, ORG)
  })

  it("must be a UUID v4", () => {
    rejects(external({ organization_id: "org_1" }), ["organization_id"], "uuid_parsing", { organizationToken: false })
    rejects(external({ organization_id: CUSTOMER_V1 }), ["organization_id"], "uuid_version", {
      organizationToken: false
    })
  })
})

describe("EventCreate.validate: external_id and parent_id", () => {
  it("external_id may be a string or null", () => {
    assert.strictEqual(accepts(external({ external_id: "evt_1" })).externalId, "evt_1")
    assert.isNull(accepts(external({ external_id: null })).externalId)
  })

  it("external_id must not be empty", () => {
    rejects(external({ external_id: "" }), ["external_id"], "string_too_short")
  })

  it("external_id must be a string", () => {
    rejects(external({ external_id: 5 }), ["external_id"], "string_type")
  })

  it("external_id must not contain NUL", () => {
    rejects(external({ external_id: "\u0000" }), ["external_id"], "value_error")
  })

  it("parent_id may be a Polar id, an external id or null", () => {
    assert.strictEqual(accepts(external({ parent_id: "evt_0" })).parentId, "evt_0")
    assert.strictEqual(accepts(external({ parent_id: CUSTOMER })).parentId, CUSTOMER)
    assert.isNull(accepts(external({ parent_id: null })).parentId)
  })

  it("parent_id must be a string", () => {
    rejects(external({ parent_id: 1 }), ["parent_id"], "string_type")
  })
})

describe("EventCreate.validate: metadata", () => {
  it("takes strings, integers, floats and booleans", () => {
    const metadata = { s: "x", i: 3, f: 0.5, b: false, n: -2 }
    assert.deepStrictEqual(accepts(external({ metadata })).metadata, metadata)
  })

  it("stays absent when absent", () => {
    assert.isFalse("metadata" in accepts(external()))
  })

  it("must be an object", () => {
    rejects(external({ metadata: [] }), ["metadata"], "dict_type")
    rejects(external({ metadata: null }), ["metadata"], "dict_type")
    rejects(external({ metadata: "k=v" }), ["metadata"], "dict_type")
  })

  it("rejects null values", () => {
    rejects(external({ metadata: { tokens: null } }), ["metadata", "tokens"], "metadata_value_type")
  })

  it("rejects arrays", () => {
    rejects(external({ metadata: { tags: ["a"] } }), ["metadata", "tags"], "metadata_value_type")
  })

  it("rejects nested objects other than _cost and _llm", () => {
    rejects(external({ metadata: { user: { id: 1 } } }), ["metadata", "user"], "metadata_value_type")
  })

  it("rejects an empty string", () => {
    rejects(external({ metadata: { s: "" } }), ["metadata", "s"], "string_too_short")
  })

  it("takes strings of up to 500 characters", () => {
    accepts(external({ metadata: { s: "x".repeat(500) } }))
    accepts(external({ metadata: { s: "😀".repeat(500) } }))
    const d = rejects(external({ metadata: { s: "x".repeat(501) } }), ["metadata", "s"], "string_too_long")
    assert.deepStrictEqual(d.ctx, { max_length: 500 })
  })

  it("rejects NUL in a value or a key", () => {
    rejects(external({ metadata: { s: "a\u0000" } }), ["metadata", "s"], "value_error")
    rejects(external({ metadata: { "k\u0000": 1 } }), ["metadata", "k\u0000"], "value_error")
  })

  it("rejects a __proto__ key, which would otherwise be lost", () => {
    const metadata = JSON.parse(`{"__proto__": 1, "ok": 2}`)
    rejects(external({ metadata }), ["metadata", "__proto__"], "value_error")
  })

  it("rejects numbers that are not finite (possible in events built in code)", () => {
    const r = EventCreate.validateEvents([{ name: "x", externalCustomerId: "u", metadata: { f: Number.NaN } }], {
      now: NOW
    })
    assert.isTrue(Either.isLeft(r))
    const d = Either.isLeft(r) ? r.left.detail : []
    assert.deepStrictEqual(d.map((x) => [x.loc, x.type]), [[["body", "events", 0, "metadata", "f"], "finite_number"]])
  })
})

describe("EventCreate.validate: _cost", () => {
  const cost = (c: unknown) => external({ metadata: { _cost: c } })

  it("takes an amount as a number or a decimal string, in usd", () => {
    assert.deepStrictEqual(accepts(cost({ amount: 0.0325, currency: "usd" })).metadata, {
      _cost: { amount: 0.0325, currency: "usd" }
    })
    accepts(cost({ amount: "0.0325", currency: "usd" }))
    accepts(cost({ amount: "99999.999999999999", currency: "usd" }))
    accepts(cost({ amount: "-00012345.500000", currency: "usd" }))
    accepts(cost({ amount: 99999, currency: "usd" }))
  })

  it("must be an object", () => {
    rejects(cost(3), ["metadata", "_cost"], "dict_type")
  })

  it("needs an amount and a currency", () => {
    rejects(cost({ currency: "usd" }), ["metadata", "_cost", "amount"], "missing")
    rejects(cost({ amount: 1 }), ["metadata", "_cost", "currency"], "missing")
  })

  it("amount has at most 5 integer digits", () => {
    const d = rejects(cost({ amount: 100000, currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_whole_digits")
    assert.deepStrictEqual(d.ctx, { whole_digits: 5 })
    rejects(cost({ amount: "123456.5", currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_whole_digits")
  })

  it("amount has at most 12 decimal places", () => {
    rejects(cost({ amount: "0.0000000000001", currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_max_places")
    rejects(cost({ amount: 0.1 + 0.2, currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_max_places")
  })

  it("amount has at most 17 digits in total", () => {
    rejects(cost({ amount: 1e20, currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_max_digits")
  })

  it("amount must be a decimal", () => {
    rejects(cost({ amount: "ten", currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_parsing")
    rejects(cost({ amount: "1e3", currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_parsing")
    rejects(cost({ amount: true, currency: "usd" }), ["metadata", "_cost", "amount"], "decimal_type")
  })

  it("currency must match usd", () => {
    const d = rejects(cost({ amount: 1, currency: "eur" }), ["metadata", "_cost", "currency"], "string_pattern_mismatch")
    assert.deepStrictEqual(d.ctx, { pattern: "usd" })
  })
})

describe("EventCreate.validate: _llm", () => {
  const llm = (extra: Record<string, unknown> = {}) =>
    external({
      metadata: {
        _llm: { vendor: "openai", model: "gpt-4.1-nano", input_tokens: 58, output_tokens: 19, total_tokens: 77, ...extra }
      }
    })

  it("takes vendor, model and token counts, with optional prompt, response and cached tokens", () => {
    accepts(llm())
    accepts(llm({ prompt: null, response: "ok", cached_input_tokens: 0 }))
  })

  it("needs every required key", () => {
    const event = external({ metadata: { _llm: { vendor: "openai", model: "m", input_tokens: 1, output_tokens: 1 } } })
    rejects(event, ["metadata", "_llm", "total_tokens"], "missing")
  })

  it("token counts are integers", () => {
    rejects(llm({ input_tokens: 1.5 }), ["metadata", "_llm", "input_tokens"], "int_from_float")
    rejects(llm({ output_tokens: "19" }), ["metadata", "_llm", "output_tokens"], "int_type")
    rejects(llm({ cached_input_tokens: null }), ["metadata", "_llm", "cached_input_tokens"], "int_type")
  })

  it("vendor and model are strings; prompt and response are strings or null", () => {
    rejects(llm({ vendor: 1 }), ["metadata", "_llm", "vendor"], "string_type")
    rejects(llm({ prompt: 1 }), ["metadata", "_llm", "prompt"], "string_type")
    rejects(llm({ response: "a\u0000" }), ["metadata", "_llm", "response"], "value_error")
  })

  it("must be an object", () => {
    rejects(external({ metadata: { _llm: "gpt" } }), ["metadata", "_llm"], "dict_type")
  })
})

describe("EventCreate.validate: batches", () => {
  it("a batch with 3 bad events among 10 reports exactly 3 errors, at the bad indices", () => {
    const events: Array<unknown> = Array.from({ length: 10 }, (_, i) => external({ external_id: `evt_${i}` }))
    events[2] = external({ name: "" })
    events[5] = customer({ customer_id: CUSTOMER_V1 })
    events[9] = external({ metadata: { tokens: null } })
    const d = details({ events })
    assert.deepStrictEqual(d.map((x) => x.loc), [
      ["body", "events", 2, "name"],
      ["body", "events", 5, "customer_id"],
      ["body", "events", 9, "metadata", "tokens"]
    ])
    assert.deepStrictEqual(d.map((x) => x.type), ["string_too_short", "uuid_version", "metadata_value_type"])
  })

  it("reports every problem of one event at once, in field order", () => {
    const d = details({
      events: [{ timestamp: "2026-01-01T00:00:00", name: "", organization_id: ORG, customer_id: "x", metadata: { a: [] } }]
    })
    assert.deepStrictEqual(d.map((x) => [x.loc.slice(3), x.type]), [
      [["timestamp"], "timezone_aware"],
      [["name"], "string_too_short"],
      [["organization_id"], "organization_token"],
      [["metadata", "a"], "metadata_value_type"],
      [["customer_id"], "uuid_parsing"]
    ])
  })

  it("the error converts to Polar's 422 body, which decodes with HTTPValidationError", () => {
    const r = validate({ events: [external({ name: "" })] })
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) {
      const body = JSON.parse(JSON.stringify(ValidationError.toHTTP(r.left)))
      const decoded = Schema.decodeUnknownSync(ValidationError.HTTPValidationError)(body)
      assert.deepStrictEqual(decoded.detail[0]!.loc, ["body", "events", 0, "name"])
      assert.include(r.left.message, "body.events[0].name")
    }
  })

  it("forbidExtra reports unknown keys of an event", () => {
    rejects(external({ colour: "red" }), ["colour"], "extra_forbidden", { forbidExtra: true })
    assert.isFalse("colour" in accepts(external({ colour: "red" })))
  })

  it.effect("the result is usable directly in Effect code", () =>
    Effect.gen(function*() {
      const events = yield* validate({ events: [external()] })
      assert.strictEqual(events.length, 1)
      const error = yield* Effect.flip(validate({ events: [external({ name: "" })] }))
      assert.strictEqual(error._tag, "RequestValidationError")
    }))
})

describe("EventCreate.validateEvents", () => {
  it("validates domain events built in code and reports wire locations", () => {
    const events = [
      { name: "ok", externalCustomerId: "usr_1", timestamp: new Date("2026-08-01T00:00:00Z") },
      { name: "bad", customerId: CUSTOMER_V1, memberId: "x" },
      { name: "late", externalCustomerId: "usr_2", timestamp: new Date("2027-01-01T00:00:00Z") }
    ]
    const r = EventCreate.validateEvents(events, { now: NOW })
    assert.isTrue(Either.isLeft(r))
    const d = Either.isLeft(r) ? r.left.detail : []
    assert.deepStrictEqual(d.map((x) => [x.loc, x.type]), [
      [["body", "events", 1, "customer_id"], "uuid_version"],
      [["body", "events", 1, "member_id"], "uuid_parsing"],
      [["body", "events", 2, "timestamp"], "value_error"]
    ])
  })

  it("returns the events when valid, keeping Date timestamps", () => {
    const at = new Date("2026-08-01T00:00:00Z")
    const r = EventCreate.validateEvents([{ name: "ok", customerId: CUSTOMER, timestamp: at, metadata: { k: 1 } }], {
      now: NOW
    })
    assert.isTrue(Either.isRight(r))
    if (Either.isRight(r)) {
      assert.deepStrictEqual(r.right[0], { name: "ok", customerId: CUSTOMER, timestamp: at, metadata: { k: 1 } } as any)
    }
  })

  it("rejects an invalid Date", () => {
    const r = EventCreate.validateEvents([{ name: "x", customerId: CUSTOMER, timestamp: new Date(Number.NaN) }])
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) assert.strictEqual(r.left.detail[0]!.type, "datetime_type")
  })

  it("with reuse, returns plain valid events as they are and copies or rejects the rest as without it", () => {
    const at = new Date("2026-08-01T00:00:00Z")
    const plain = {
      name: "llm",
      externalCustomerId: "usr_1",
      timestamp: at,
      externalId: "e-1",
      metadata: {
        k: "v",
        n: 1.5,
        b: true,
        _llm: { vendor: "openai", model: "m", input_tokens: 1, output_tokens: 2, total_tokens: 3 },
        _cost: { amount: 0.0325, currency: "usd" }
      }
    }
    const reused = EventCreate.validateEvents([plain], { now: NOW, reuse: true })
    assert.isTrue(Either.isRight(reused) && reused.right[0] === (plain as unknown))
    // what the fast check leaves to the full one: a copy, or the same errors
    const others: ReadonlyArray<unknown> = [
      { ...plain, parentId: "p" },
      { ...plain, metadata: { ...plain.metadata, _llm: { ...plain.metadata._llm, extra: 1 } } },
      { ...plain, externalId: undefined },
      { name: "x", customerId: CUSTOMER, externalCustomerId: "both" }
    ]
    for (const e of others) {
      const r = EventCreate.validateEvents([e], { now: NOW, reuse: true })
      assert.deepStrictEqual(r, EventCreate.validateEvents([e], { now: NOW }))
      assert.isTrue(Either.isRight(r) && r.right[0] !== e)
    }
    const bad: ReadonlyArray<unknown> = [
      { ...plain, name: "a\u0000b" },
      { ...plain, timestamp: new Date("2027-01-01T00:00:00Z") },
      { ...plain, metadata: { ...plain.metadata, s: "" } },
      { ...plain, metadata: { ...plain.metadata, _cost: { amount: 0.0325, currency: "eur" } } },
      { ...plain, metadata: { ...plain.metadata, _llm: { ...plain.metadata._llm, input_tokens: 1.5 } } }
    ]
    // a wire event is converted, but its plain metadata is shared instead of copied
    const wire = { name: "w", external_customer_id: "usr_1", metadata: { k: "v", n: 2 } }
    const shared = Either.getOrThrow(EventCreate.validateEvents([wire], { now: NOW, reuse: true }))[0]!
    const copied = Either.getOrThrow(EventCreate.validateEvents([wire], { now: NOW }))[0]!
    assert.isTrue(shared.metadata === wire.metadata && copied.metadata !== wire.metadata)
    assert.deepStrictEqual(shared, copied)
    for (const e of bad) {
      const r = EventCreate.validateEvents([plain, e], { now: NOW, reuse: true })
      assert.isTrue(Either.isLeft(r))
      assert.deepStrictEqual(r, EventCreate.validateEvents([plain, e], { now: NOW }))
    }
  })

  it("validates what the schema decoded (a round trip through validateEvents is the identity)", () => {
    const decoded = Schema.decodeUnknownSync(EventCreate.EventsIngest)(example("ingest-request.example.json"))
    const r = EventCreate.validateEvents(decoded.events)
    assert.isTrue(Either.isRight(r))
    if (Either.isRight(r)) assert.deepStrictEqual(r.right, decoded.events)
  })
})

describe("EventCreate.make", () => {
  it("builds an event from plain values, branding its ids", () => {
    const r = EventCreate.make({ name: "api.call", customerId: CUSTOMER, metadata: { n: 1 } })
    assert.isTrue(Either.isRight(r))
    if (Either.isRight(r)) assert.deepStrictEqual(r.right, { name: "api.call", customerId: CUSTOMER, metadata: { n: 1 } } as any)
  })

  it("reports problems relative to the event", () => {
    const r = EventCreate.make({ name: "", externalCustomerId: "" })
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) {
      assert.deepStrictEqual(r.left.detail.map((d) => [d.loc, d.type]), [
        [["name"], "string_too_short"],
        [["external_customer_id"], "string_too_short"]
      ])
    }
  })
})
