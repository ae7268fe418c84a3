import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, FastCheck as fc, JSONSchema, ParseResult, Pretty, Schema } from "effect"
import * as Event from "../src/Event.js"
import type * as Ids from "../src/Ids.js"
import { decodeEvent, encodeEvent } from "../src/internal/eventFast.js"
import * as SystemEvent from "../src/SystemEvent.js"
import * as Timestamp from "../src/Timestamp.js"

const asJson = (u: unknown): any => JSON.parse(JSON.stringify(u))

/** True when `JSON.stringify` keeps every number of a value (no NaN, no infinities). */
const jsonSafe = (u: unknown): boolean =>
  typeof u === "number"
    ? Number.isFinite(u)
    : Array.isArray(u)
    ? u.every(jsonSafe)
    : typeof u === "object" && u !== null && !(u instanceof Date)
    ? Object.values(u).every(jsonSafe)
    : true

const structuralArb = Arbitrary.make(Event.EventStructural)
const encodeS = Schema.encodeSync(Event.EventStructural)
const decodeS = Schema.decodeUnknownEither(Event.EventStructural)
const encodeEitherS = Schema.encodeEither(Event.EventStructural)
const decodeE = Schema.decodeUnknownEither(Event.Event)
const encodeE = Schema.encodeEither(Event.Event)

const userWire = {
  id: "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01",
  timestamp: "2026-08-21T14:03:12.481923Z",
  organization_id: "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
  customer_id: null,
  customer: null,
  external_customer_id: "usr_1337",
  member_id: null,
  external_member_id: null,
  child_count: 1,
  parent_id: null,
  label: "llm.generation",
  name: "llm.generation",
  source: "user",
  metadata: {
    model: "gpt-4.1-nano",
    requests: 1,
    cached: false,
    latency_ms: 812.5,
    _llm: { vendor: "openai", model: "gpt-4.1-nano", input_tokens: 58, output_tokens: 19, total_tokens: 77 },
    _cost: { amount: "0.0325", currency: "usd" }
  }
}

const meterWire = {
  ...userWire,
  id: "c4d5e6f7-0819-4a2b-b3c4-d5e6f7081920",
  customer_id: "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
  external_customer_id: null,
  label: "Meter Credited",
  source: "system",
  name: "meter.credited",
  metadata: { meter_id: "5d3c0b6e-1f2a-4b8c-9d7e-0a1b2c3d4e5f", units: 100000, rollover: false }
}

const paths = (e: ParseResult.ParseError) => [
  ...new Set(ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => JSON.stringify(i.path)))
].map((p) => JSON.parse(p))

// ---------------------------------------------------------------------------
// mutations: change one place of an input, copying the objects on the way
// ---------------------------------------------------------------------------

const interesting = fc.constantFrom<unknown>(
  null,
  undefined,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  "",
  "x",
  "user",
  "system",
  "meter.credited",
  "benefit.granted",
  "member.created",
  "usd",
  "1.5",
  "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01",
  "3F1C2A6E-8B4D-4C1E-9A7F-2D5B6C8E9F01",
  "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f0g",
  "3f1c2a6e8b4d-4c1e-9a7f-2d5b6c8e9f01-",
  "2026-08-21T14:03:12.481Z",
  "2026-08-21T14:03:12Z",
  "2026-08-21T14:03:12.1234567891Z",
  "2026-08-21T14:03:12",
  "2026-02-30T00:00:00Z",
  "0099-12-31T23:59:59Z",
  "2026-08-21T14:03:12.481+02:00",
  "2026-08-21t14:03:12z",
  true,
  false,
  {},
  [],
  new Date(0),
  new Date(Number.NaN),
  { amount: "1", currency: "usd" },
  { vendor: "v", model: "m", input_tokens: 1, output_tokens: 1, total_tokens: 2 }
)

interface Mutation {
  readonly picks: ReadonlyArray<number>
  readonly kind: "set" | "delete" | "add"
  readonly value: unknown
  readonly key: string
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom("set", "set", "delete", "add"),
  value: fc.oneof(interesting, fc.jsonValue({ maxDepth: 2 })),
  key: fc.oneof(fc.constantFrom("_cost", "_llm", "member_id", "source", "name", "extra"), fc.string({ maxLength: 5 }))
})

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Date)

const define = (o: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })

const mutate = (input: unknown, m: Mutation): unknown => {
  if (!isObject(input)) return input
  const out = { ...input }
  const keys = Object.keys(out)
  const [pick, ...rest] = m.picks
  const key = keys.length === 0 ? m.key : keys[pick % keys.length]
  if (rest.length > 0 && isObject(out[key])) return define(out, key, mutate(out[key], { ...m, picks: rest }))
  switch (m.kind) {
    case "set":
      return define(out, key, m.value)
    case "delete":
      delete out[key]
      return out
    case "add":
      return define(out, m.key, m.value)
  }
}

/**
 * An own `__proto__` key (JSON.parse makes one): Effect's passes handle it in
 * ways the fast path does not copy, so it leaves such input to Effect.
 */
const hasProtoKey = (u: unknown): boolean =>
  typeof u === "object" && u !== null &&
  (Object.prototype.hasOwnProperty.call(u, "__proto__") || Object.values(u).some(hasProtoKey))

/**
 * The fast path and the structural schema give the same answer, and so does
 * the public `Event`. For JSON-like input the fast path must also accept all
 * that the structural schema accepts (`complete`); for other input it may
 * leave the answer to the structural schema.
 */
/**
 * The structural schema's own answer, or `undefined` when it throws: Effect's
 * unions read discriminators with `String()`, which throws on JSON such as
 * `{"toString": 1}`. The public `Event` must then reject the input, not throw.
 */
const attempt = <A>(f: () => Either.Either<A, unknown>): Either.Either<A, unknown> | undefined => {
  try {
    return f()
  } catch (e) {
    if (e instanceof TypeError) return undefined
    throw e
  }
}

const agreeOnDecode = (input: unknown, complete = !hasProtoKey(input)) => {
  const fast = decodeEvent(input)
  const slow = attempt(() => decodeS(input))
  if (slow === undefined) {
    assert.isUndefined(fast, "the fast path accepted what the structural schema throws on")
    assert.strictEqual(decodeE(input)._tag, "Left", "the public schema rejects what the structural one throws on")
    return
  }
  if (Either.isRight(slow)) {
    if (complete) assert.isDefined(fast, "the fast path rejected what the structural schema accepts")
    if (fast !== undefined) assert.deepStrictEqual(fast, slow.right)
    if (fast !== undefined) assert.deepStrictEqual(encodeS(fast as Event.Event), encodeS(slow.right))
  } else {
    assert.isUndefined(fast, "the fast path accepted what the structural schema rejects")
  }
  const pub = decodeE(input)
  assert.strictEqual(pub._tag, slow._tag)
  if (Either.isRight(pub) && Either.isRight(slow)) assert.deepStrictEqual(pub.right, slow.right)
}

const agreeOnEncode = (value: unknown, complete = !hasProtoKey(value)) => {
  const fast = encodeEvent(value)
  const slow = attempt(() => encodeEitherS(value as Event.Event))
  if (slow === undefined) {
    assert.isUndefined(fast, "the fast encoder accepted what the structural schema throws on")
    assert.strictEqual(encodeE(value as Event.Event)._tag, "Left", "the public schema rejects what the structural one throws on")
    return
  }
  if (Either.isRight(slow)) {
    if (complete) assert.isDefined(fast, "the fast encoder rejected what the structural schema accepts")
    if (fast !== undefined) assert.deepStrictEqual(fast, slow.right)
  } else {
    assert.isUndefined(fast, "the fast encoder accepted what the structural schema rejects")
  }
  const pub = encodeE(value as Event.Event)
  assert.strictEqual(pub._tag, slow._tag)
  if (Either.isRight(pub) && Either.isRight(slow)) assert.deepStrictEqual(pub.right, slow.right)
}

describe("Event", () => {
  describe("round trip", () => {
    it.prop(
      "random events go to wire JSON and back unchanged",
      [structuralArb.filter((e) => jsonSafe(encodeS(e)))],
      ([event]) => {
        const wire = asJson(encodeS(event))
        for (const schema of [Event.Event, Event.EventStructural]) {
          const decoded = Schema.decodeUnknownSync(schema)(wire)
          assert.deepStrictEqual(asJson(Schema.encodeSync(schema)(decoded)), wire)
        }
      },
      { fastCheck: { numRuns: 300 } }
    )

    it("keeps absent optional keys absent and null ones null", () => {
      const { child_count: _, external_member_id: __, member_id: ___, parent_id: ____, ...bare } = userWire
      const decoded = Either.getOrThrow(decodeE(bare))
      assert.isFalse("memberId" in decoded || "childCount" in decoded || "parentId" in decoded)
      assert.isFalse("externalMemberId" in decoded)
      assert.deepStrictEqual(asJson(Either.getOrThrow(encodeE(decoded))), bare)
      const full = Either.getOrThrow(decodeE(userWire))
      assert.isNull(full.memberId)
      assert.strictEqual(full.childCount, 1)
      assert.deepStrictEqual(asJson(Either.getOrThrow(encodeE(full))), userWire)
    })

    it.effect("decodes and encodes as Effects", () =>
      Effect.gen(function*() {
        const event = yield* Schema.decodeUnknown(Event.Event)(userWire)
        assert.strictEqual(event.organizationId, userWire.organization_id)
        const wire = yield* Schema.encode(Event.Event)(event)
        assert.deepStrictEqual(asJson(wire), userWire)
        const error = yield* Effect.flip(Schema.decodeUnknown(Event.Event)({ ...userWire, label: null }))
        assert.deepStrictEqual(paths(error), [["label"]])
      }))

    it("accepts any string Polar echoes as an external id, the empty one included", () => {
      const decoded = Either.getOrThrow(decodeE({ ...userWire, external_customer_id: "", external_member_id: "" }))
      assert.strictEqual(decoded.externalCustomerId, "")
      assert.strictEqual(decoded.externalMemberId, "")
    })

    it("keeps microseconds and the exact timestamp text", () => {
      const decoded = Either.getOrThrow(decodeE({ ...userWire, timestamp: "2026-08-21T16:03:12.481923+02:00" }))
      assert.strictEqual(Timestamp.toEpochMicros(decoded.timestamp), Date.UTC(2026, 7, 21, 14, 3, 12, 481) * 1000 + 923)
      assert.strictEqual(Either.getOrThrow(encodeE(decoded)).timestamp, "2026-08-21T16:03:12.481923+02:00")
    })

    it("writes an event made in code the way Polar does", () => {
      const event: Event.UserEvent = {
        ...Either.getOrThrow(decodeE(userWire)) as Event.UserEvent,
        timestamp: new Date("2026-01-01T00:00:00.120Z"),
        metadata: { tokens: 3 }
      }
      const wire = Either.getOrThrow(encodeE(event))
      assert.strictEqual(wire.timestamp, "2026-01-01T00:00:00.120000Z")
      assert.deepStrictEqual(wire.metadata, { tokens: 3 })
    })
  })

  describe("fast path", () => {
    it.prop(
      "decodes random wire events exactly as the structural schema",
      [structuralArb],
      ([event]) => agreeOnDecode(asJson(encodeS(event))),
      { fastCheck: { numRuns: 300 } }
    )

    it.prop(
      "agrees with the structural schema on mutated wire events",
      [structuralArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 })],
      ([event, mutations]) => agreeOnDecode(mutations.reduce(mutate, encodeS(event))),
      { fastCheck: { numRuns: 1500 } }
    )

    it.prop(
      "agrees with the structural schema on mutated known events",
      [fc.constantFrom<unknown>(userWire, meterWire), fc.array(mutationArb, { minLength: 1, maxLength: 2 })],
      ([input, mutations]) => agreeOnDecode(mutations.reduce(mutate, input)),
      { fastCheck: { numRuns: 1500 } }
    )

    it.prop(
      "encodes random domain events exactly as the structural schema, valid or not",
      [structuralArb, fc.array(mutationArb, { maxLength: 2 })],
      ([event, mutations]) => agreeOnEncode(mutations.reduce(mutate, event)),
      { fastCheck: { numRuns: 1000 } }
    )

    it("agrees on inputs that are not plain JSON objects", () => {
      class Wire {
        constructor(readonly fields: Record<string, unknown>) {
          Object.assign(this, fields)
        }
      }
      for (const input of [null, undefined, 1, "event", [], [userWire], Object.create(null)]) {
        agreeOnDecode(input, false)
        agreeOnEncode(input, false)
      }
      agreeOnDecode(Object.assign(Object.create(null), userWire))
      const proto = JSON.parse(`{"__proto__": {"model": "m"}, "tokens": 1}`)
      agreeOnDecode({ ...userWire, metadata: proto })
      agreeOnDecode({ ...meterWire, metadata: { ...meterWire.metadata, ...JSON.parse(`{"__proto__": 1}`) } })
      agreeOnDecode(new Wire(userWire), false)
      assert.isTrue(Either.isRight(decodeE(new Wire(userWire))))
    })
  })

  describe("errors", () => {
    it("rejects a source or name that String() cannot read, naming the field, instead of throwing", () => {
      // JSON can say {"toString": 1}; Effect's union lookup calls String() on discriminators
      const unreadable = JSON.parse(`{"toString": 1}`)
      const issues = (input: unknown) => {
        const decoded = decodeE(input)
        assert.isTrue(Either.isLeft(decoded))
        return ParseResult.ArrayFormatter.formatErrorSync((decoded as Either.Left<ParseResult.ParseError, unknown>).left)
      }
      assert.deepStrictEqual(issues({ ...userWire, source: unreadable }).map((i) => i.path), [["source"]])
      assert.deepStrictEqual(issues({ ...meterWire, name: unreadable }).map((i) => i.path), [["name"]])
      const encoded = encodeE({ ...decodeE(userWire).pipe(Either.getOrThrow), source: unreadable } as unknown as Event.Event)
      assert.isTrue(Either.isLeft(encoded))
    })

    it("names the field of a bad user event", () => {
      const r = decodeE({ ...userWire, external_member_id: 3 })
      assert.isTrue(Either.isLeft(r))
      if (Either.isLeft(r)) {
        assert.deepStrictEqual(paths(r.left), [["external_member_id"]])
        assert.include(r.left.message, "UserEvent")
      }
    })

    it("names the index and field inside a list", () => {
      const r = Schema.decodeUnknownEither(Schema.Array(Event.Event))([
        userWire,
        { ...meterWire, metadata: { ...meterWire.metadata, units: 1.5 } }
      ])
      assert.isTrue(Either.isLeft(r))
      if (Either.isLeft(r)) assert.deepStrictEqual(paths(r.left), [[1, "metadata", "units"]])
    })

    it("rejects a bad source, a naive timestamp and a non-UUID id", () => {
      for (
        const [input, path] of [
          [{ ...userWire, source: "admin" }, ["source"]],
          [{ ...userWire, timestamp: "2026-08-21T14:03:12" }, ["timestamp"]],
          [{ ...userWire, id: "evt_1" }, ["id"]],
          [{ ...userWire, organization_id: "" }, ["organization_id"]],
          [{ ...userWire, metadata: { ...userWire.metadata, nested: { a: 1 } } }, ["metadata", "nested"]],
          [{ ...userWire, metadata: { ...userWire.metadata, _cost: { amount: "1e3", currency: "usd" } } }, [
            "metadata",
            "_cost",
            "amount"
          ]]
        ] as const
      ) {
        const r = decodeE(input)
        assert.isTrue(Either.isLeft(r), JSON.stringify(path))
        if (Either.isLeft(r)) assert.deepInclude(paths(r.left), [...path])
      }
    })

    it("fails to encode an invalid date, naming the field", () => {
      const event = { ...Either.getOrThrow(decodeE(userWire)), timestamp: new Date(Number.NaN) }
      const r = encodeE(event)
      assert.isTrue(Either.isLeft(r))
      if (Either.isLeft(r)) assert.deepStrictEqual(paths(r.left), [["timestamp"]])
    })

    it("honours parse options the fast path does not implement", () => {
      const extra = { ...userWire, ingested_at: "2026-08-21T14:03:12Z" }
      assert.isTrue(Either.isRight(decodeE(extra)))
      const strict = Schema.decodeUnknownEither(Event.Event, { onExcessProperty: "error" })(extra)
      assert.isTrue(Either.isLeft(strict))
      if (Either.isLeft(strict)) assert.deepStrictEqual(paths(strict.left), [["ingested_at"]])
      const ordered = Schema.decodeUnknownSync(Event.Event, { propertyOrder: "original" })(userWire)
      assert.deepStrictEqual(ordered, Either.getOrThrow(decodeE(userWire)))
    })
  })

  describe("schema", () => {
    it("is, validate and equivalence use the domain side", () => {
      const decoded = Either.getOrThrow(decodeE(meterWire))
      assert.isTrue(Schema.is(Event.Event)(decoded))
      assert.isFalse(Schema.is(Event.Event)(meterWire))
      assert.isFalse(Schema.is(Event.Event)({ ...decoded, name: "benefit.granted" }))
      const eq = Schema.equivalence(Event.Event)
      assert.isTrue(eq(decoded, Either.getOrThrow(decodeE(meterWire))))
      assert.isFalse(eq(decoded, { ...decoded, label: "other" }))
      assert.isTrue(Either.isRight(Schema.validateEither(Event.Event)(decoded)))
    })

    it("has the JSON Schema of the wire format", () => {
      const doc = JSONSchema.make(Event.Event) as any
      assert.deepStrictEqual(doc, JSONSchema.make(Event.EventStructural))
      assert.containsAllKeys(doc.$defs, ["Event", "UserEvent", "MeterCreditEvent", "GenericSystemEvent", "Customer"])
      assert.includeMembers(doc.$defs.UserEvent.required, ["id", "organization_id", "customer_id", "metadata"])
      assert.deepStrictEqual(doc.$defs.GenericSystemEvent.properties.name, { $ref: "#/$defs/UnknownSystemEventName" })
      assert.deepStrictEqual(doc.$defs.UnknownSystemEventName.not.enum, [...SystemEvent.names])
    })

    it("pretty-prints the domain value", () => {
      const text = Pretty.make(Event.Event)(Either.getOrThrow(decodeE(userWire)))
      assert.include(text, "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01")
      assert.include(text, "organizationId")
    })

    it("keeps event ids and customer ids apart at compile time", () => {
      const event = Either.getOrThrow(decodeE(meterWire))
      const parentOf = (id: Ids.EventId): Ids.EventId => id
      assert.strictEqual(parentOf(event.id), event.id)
      const customerId = event.customerId!
      // @ts-expect-error a CustomerId is not an EventId
      parentOf(customerId)
      // @ts-expect-error an OrganizationId is not an EventId
      parentOf(event.organizationId)
      // @ts-expect-error a plain string is not an EventId
      const child: Event.Event = { ...event, parentId: "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01" }
      assert.isString(child.parentId)
    })
  })
})
