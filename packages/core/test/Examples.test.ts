import * as PolarSpec from "@polar-events/polar-spec"
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as Event from "../src/Event.js"
import * as SystemEvent from "../src/SystemEvent.js"
import * as Timestamp from "../src/Timestamp.js"

// Polar's example payloads, vendored in spec/polar/examples.
const read = PolarSpec.example

/** Wire JSON as it would go over the network: what `JSON.stringify` keeps. */
const asJson = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

const asUser = (event: Event.Event): Event.UserEvent => {
  if (!Event.isUserEvent(event)) throw new Error(`expected a user event, got ${event.source} ${event.name}`)
  return event
}

const schemas = { Event: Event.Event, EventStructural: Event.EventStructural } as const

describe("Examples", () => {
  for (const [label, schema] of Object.entries(schemas)) {
    describe(label, () => {
      const decode = Schema.decodeUnknownSync(schema)
      const encode = Schema.encodeSync(schema)

      it("user-event.example.json: a UserEvent with its resolved customer, re-encoded as it came", () => {
        const input = read("user-event.example.json")
        const event = decode(input)
        assert.isTrue(Event.isUserEvent(event))
        assert.isTrue(Schema.is(Event.UserEvent)(event))
        assert.strictEqual(event.name, "llm.tool_call")
        assert.isNull(event.customerId)
        assert.strictEqual(event.externalCustomerId, "usr_1337")
        assert.strictEqual(event.parentId, "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01")
        assert.strictEqual(event.childCount, 0)
        assert.strictEqual(event.timestamp.toISOString(), "2026-08-21T12:03:12.902Z")
        assert.isNotNull(event.customer)
        assert.strictEqual(event.customer!.type, "individual")
        assert.strictEqual(event.customer!.externalId, "usr_1337")
        assert.strictEqual(Timestamp.toEpochMicros(event.customer!.createdAt), Date.UTC(2026, 6, 2, 9, 15, 44, 120) * 1000 + 331)
        assert.isNull(event.customer!.billingAddress)
        assert.deepStrictEqual(event.metadata, { tool: "web_search", duration_ns: 231000000 })
        assert.deepStrictEqual(asJson(encode(event)), input)
      })

      it("system-event-meter-credited.example.json: a MeterCreditEvent, microseconds kept", () => {
        const input = read("system-event-meter-credited.example.json")
        const event = decode(input)
        assert.isTrue(Schema.is(SystemEvent.MeterCreditEvent)(event))
        assert.isFalse(Schema.is(SystemEvent.GenericSystemEvent)(event))
        assert.strictEqual(event.label, SystemEvent.labelFor("meter.credited"))
        assert.deepStrictEqual(event.metadata, {
          meter_id: "5d3c0b6e-1f2a-4b8c-9d7e-0a1b2c3d4e5f",
          units: 100000,
          rollover: false
        })
        assert.strictEqual(Timestamp.toEpochMicros(event.timestamp), Date.UTC(2026, 7, 1, 0, 0, 5, 118) * 1000 + 204)
        assert.deepStrictEqual(asJson(encode(event)), input)
      })

      it("list-events-page.example.json: every item decodes and re-encodes as it came", () => {
        const page = read("list-events-page.example.json")
        assert.strictEqual(page.items.length, 2)
        const events = Schema.decodeUnknownSync(Schema.Array(schema))(page.items)
        const user = asUser(events[0])
        const granted = events[1]
        assert.deepStrictEqual(user.metadata._cost, { amount: "0.0325", currency: "usd" })
        assert.isNull(user.metadata._llm?.prompt)
        assert.strictEqual(user.metadata._llm?.total_tokens, 77)
        assert.strictEqual(user.childCount, 1)
        assert.isTrue(Schema.is(SystemEvent.BenefitGrantedEvent)(granted))
        assert.strictEqual(granted.label, "Benefit Granted")
        assert.strictEqual(granted.timestamp.toISOString(), "2026-08-20T08:41:00.000Z")
        assert.deepStrictEqual(asJson(Schema.encodeSync(Schema.Array(schema))(events)), page.items)
        // the fraction ".000000" is kept, although Polar would not print a zero fraction
        assert.strictEqual((asJson(encode(granted)) as { timestamp: string }).timestamp, "2026-08-20T08:41:00.000000Z")
      })
    })
  }

  it("Event and EventStructural give the same domain values for every example", () => {
    const inputs = [
      read("user-event.example.json"),
      read("system-event-meter-credited.example.json"),
      ...read("list-events-page.example.json").items
    ]
    for (const input of inputs) {
      const fast = Schema.decodeUnknownEither(Event.Event)(input)
      const slow = Schema.decodeUnknownEither(Event.EventStructural)(input)
      assert.isTrue(Either.isRight(fast) && Either.isRight(slow))
      assert.deepStrictEqual(Either.getOrThrow(fast), Either.getOrThrow(slow))
    }
  })
})
