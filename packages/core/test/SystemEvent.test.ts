import * as PolarSpec from "@polar-events/polar-spec"
import { assert, describe, it } from "@effect/vitest"
import { Either, ParseResult, Schema, SchemaAST } from "effect"
import * as Event from "../src/Event.js"
import * as SystemEvent from "../src/SystemEvent.js"

interface JsonSchema {
  readonly $ref?: string
  readonly type?: string
  readonly const?: unknown
  readonly enum?: ReadonlyArray<unknown>
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly properties?: Record<string, JsonSchema>
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: JsonSchema | boolean
}

const spec = PolarSpec.openapi()
const schemas: Record<string, JsonSchema> = spec.components.schemas
const deref = (s: JsonSchema): JsonSchema => s.$ref === undefined ? s : schemas[s.$ref.split("/").pop()!]

/** Every system event of the spec: name, schema name and metadata schema, from `SystemEvent.oneOf`. */
const specEvents = schemas.SystemEvent.oneOf!.map((ref) => {
  const schema = deref(ref)
  return {
    name: schema.properties!.name.const as string,
    title: ref.$ref!.split("/").pop()!,
    metadata: deref(schema.properties!.metadata)
  }
})

/**
 * A value the spec accepts for a schema: with `full`, every optional key and
 * a non-null branch; without, only the required keys and null where allowed.
 */
const sample = (s: JsonSchema, full: boolean): unknown => {
  s = deref(s)
  if (s.anyOf !== undefined) {
    const nonNull = s.anyOf.find((x) => x.type !== "null")!
    return !full && s.anyOf.some((x) => x.type === "null") ? null : sample(nonNull, full)
  }
  if (s.const !== undefined) return s.const
  if (s.enum !== undefined) return s.enum[s.enum.length - 1]
  switch (s.type) {
    case "string":
      return "3b0c5b6e-1f2a-4b8c-9d7e-0a1b2c3d4e5f"
    case "integer":
      return 42
    case "number":
      return 1.25
    case "boolean":
      return true
    case "object": {
      const out: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(s.properties ?? {})) {
        if (full || s.required?.includes(key)) out[key] = sample(value, full)
      }
      if (full && typeof s.additionalProperties === "object") out.extra_key = sample(s.additionalProperties, full)
      return out
    }
  }
  throw new Error(`no sample for ${JSON.stringify(s)}`)
}

const base = {
  id: "c4d5e6f7-0819-4a2b-b3c4-d5e6f7081920",
  timestamp: "2026-08-01T00:00:05.118204Z",
  organization_id: "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
  customer_id: "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
  customer: null,
  external_customer_id: null,
  member_id: null,
  external_member_id: null,
  child_count: 0,
  parent_id: null
}

const wire = (name: string, metadata: unknown) => ({
  ...base,
  label: SystemEvent.labelFor(name),
  source: "system",
  name,
  metadata
})

const decode = Schema.decodeUnknownEither(Event.Event)
const encode = Schema.encodeSync(Event.Event)
const asJson = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

/** The distinct paths of an error (a union reports each of its members at the same path). */
const paths = (e: ParseResult.ParseError) => [
  ...new Set(ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => JSON.stringify(i.path)))
].map((p) => JSON.parse(p))

/** A variant's schema, seen as a plain schema (the record of 35 literal-typed structs is too precise for `Schema.is`). */
const variantOf = (name: string): Schema.Schema<unknown, unknown> =>
  SystemEvent.variants[name as SystemEvent.Name] as unknown as Schema.Schema<unknown, unknown>

const metadataAst = (name: SystemEvent.Name): SchemaAST.TypeLiteral => {
  const ast = SystemEvent.variants[name].fields.metadata.ast
  if (!SchemaAST.isTypeLiteral(ast)) throw new Error(`${name}: metadata is not a struct`)
  return ast
}

describe("SystemEvent", () => {
  it("names are exactly the system event names of the spec, in its order", () => {
    assert.strictEqual(specEvents.length, 35)
    assert.deepStrictEqual([...SystemEvent.names], specEvents.map((e) => e.name))
  })

  it("every name has a label in Polar's style", () => {
    for (const name of SystemEvent.names) {
      const label = SystemEvent.labels[name]
      assert.match(label, /^[A-Z][a-z]+( [A-Z][a-z]+)+$/, name)
      assert.strictEqual(SystemEvent.labelFor(name), label)
    }
    assert.strictEqual(SystemEvent.labels["meter.credited"], "Meter Credited")
    assert.strictEqual(SystemEvent.labels["subscription.past_due"], "Subscription Past Due")
    assert.strictEqual(SystemEvent.labelFor("member.created"), "member.created")
  })

  it("each variant is named after its spec schema", () => {
    for (const { name, title } of specEvents) {
      assert.strictEqual(SchemaAST.getIdentifierAnnotation(SystemEvent.variants[name as SystemEvent.Name].ast).pipe(
        (o) => o._tag === "Some" ? o.value : undefined
      ), title)
    }
  })

  it("each metadata schema has the spec's keys, required where the spec requires them", () => {
    for (const { metadata, name } of specEvents) {
      const ast = metadataAst(name as SystemEvent.Name)
      const ours = Object.fromEntries(ast.propertySignatures.map((ps) => [ps.name, !ps.isOptional]))
      const theirs = Object.fromEntries(
        Object.keys(metadata.properties!).map((key) => [key, metadata.required?.includes(key) ?? false])
      )
      assert.deepStrictEqual(ours, theirs, name)
      assert.strictEqual(ast.indexSignatures.length, 1, `${name}: metadata keeps unknown keys`)
    }
  })

  for (const { name, title } of specEvents) {
    it(`${name} decodes to ${title}, with only the required keys and with all of them`, () => {
      const variant = variantOf(name)
      const metadataSchema = specEvents.find((e) => e.name === name)!.metadata
      for (const full of [false, true]) {
        const input = wire(name, sample(metadataSchema, full))
        const event = Either.getOrThrow(decode(input))
        assert.isTrue(Schema.is(variant)(event), `${name} full=${full}`)
        assert.isFalse(Schema.is(SystemEvent.GenericSystemEvent)(event))
        assert.isTrue(Event.isSystemEvent(event) && SystemEvent.isKnown(event))
        for (const other of SystemEvent.names) {
          if (other !== name) assert.isFalse(Schema.is(variantOf(other))(event), `${name} is not ${other}`)
        }
        assert.deepStrictEqual(asJson(encode(event)), input)
      }
    })

    it(`${name} fails on a missing or mistyped metadata key, naming it`, () => {
      const metadataSchema = specEvents.find((e) => e.name === name)!.metadata
      const full = sample(metadataSchema, true) as Record<string, unknown>
      for (const key of Object.keys(metadataSchema.properties!)) {
        const mistyped = decode(wire(name, { ...full, [key]: [] }))
        assert.isTrue(Either.isLeft(mistyped), `${name}.${key} = []`)
        if (Either.isLeft(mistyped)) assert.deepStrictEqual(paths(mistyped.left), [["metadata", key]])
        if (metadataSchema.required?.includes(key)) {
          const { [key]: _, ...rest } = full
          const missing = decode(wire(name, rest))
          assert.isTrue(Either.isLeft(missing), `${name} without ${key}`)
          if (Either.isLeft(missing)) assert.deepStrictEqual(paths(missing.left), [["metadata", key]])
        }
      }
    })
  }

  it("keeps metadata keys Polar adds later", () => {
    const input = wire("subscription.updated", {
      subscription_id: "sub_1",
      proration_behavior: "invoice",
      requested_proration_behavior: "prorate",
      changes: { seats: [1, 2] }
    })
    const event = Either.getOrThrow(decode(input))
    assert.isTrue(Schema.is(SystemEvent.SubscriptionUpdatedEvent)(event))
    assert.strictEqual(event.metadata.requested_proration_behavior, "prorate")
    assert.deepStrictEqual(asJson(encode(event)), input)
  })

  it("an unknown system name decodes to GenericSystemEvent, metadata as it came", () => {
    const input = wire("subscription.units_updated", {
      subscription_id: "sub_1",
      old_units: 3,
      new_units: null,
      nested: { list: [1, "two", { three: true }] }
    })
    const event = Either.getOrThrow(decode(input))
    assert.isTrue(Schema.is(SystemEvent.GenericSystemEvent)(event))
    assert.isTrue(Event.isSystemEvent(event) && !SystemEvent.isKnown(event))
    assert.strictEqual(event.name, "subscription.units_updated")
    assert.deepStrictEqual(event.metadata, input.metadata)
    assert.deepStrictEqual(asJson(encode(event)), input)
  })

  it("a benefit type or proration behavior newer than this library still decodes", () => {
    for (
      const input of [
        wire("benefit.granted", { benefit_id: "b", benefit_grant_id: "g", benefit_type: "brand_new_kind" }),
        wire("subscription.seats_updated", {
          subscription_id: "s",
          old_seats: 1,
          new_seats: 2,
          proration_behavior: "something_new"
        })
      ]
    ) {
      const event = Either.getOrThrow(decode(input))
      assert.isTrue(SystemEvent.isKnown(event as SystemEvent.SystemEvent))
      assert.deepStrictEqual(asJson(encode(event)), input)
    }
  })

  it("a known name with wrong metadata fails instead of passing as generic", () => {
    const r = decode(wire("meter.credited", { meter_id: "m", units: "100", rollover: false }))
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) {
      assert.deepStrictEqual(paths(r.left), [["metadata", "units"]])
      assert.include(r.left.message, "MeterCreditEvent")
    }
    const generic = Schema.decodeUnknownEither(SystemEvent.GenericSystemEvent)(wire("meter.credited", {}))
    assert.isTrue(Either.isLeft(generic))
  })

  it("a list page mixing user, known system and unknown system events decodes", () => {
    const items = [
      {
        ...base,
        customer_id: null,
        external_customer_id: "usr_1",
        label: "llm.generation",
        name: "llm.generation",
        source: "user",
        metadata: { model: "gpt-4.1-nano", _cost: { amount: "0.0325", currency: "usd" } }
      },
      wire("order.paid", { order_id: "ord_1", amount: 1200, currency: "usd" }),
      wire("member.created", { member_id: "mem_1" }),
      wire("benefit.revoked", { benefit_id: "b", benefit_grant_id: "g", benefit_type: "license_keys" })
    ]
    const page = { items, pagination: { total_count: 4, max_page: 1 } }
    const Page = Schema.Struct({
      items: Schema.Array(Event.Event),
      pagination: Schema.Struct({ total_count: Schema.Int, max_page: Schema.Int })
    })
    const decoded = Schema.decodeUnknownSync(Page)(page)
    assert.deepStrictEqual(decoded.items.map((e) => [e.source, e.name]), [
      ["user", "llm.generation"],
      ["system", "order.paid"],
      ["system", "member.created"],
      ["system", "benefit.revoked"]
    ])
    assert.isTrue(Schema.is(SystemEvent.OrderPaidEvent)(decoded.items[1]))
    assert.isTrue(Schema.is(SystemEvent.GenericSystemEvent)(decoded.items[2]))
    assert.isTrue(Schema.is(SystemEvent.BenefitRevokedEvent)(decoded.items[3]))
    assert.deepStrictEqual(asJson(Schema.encodeSync(Page)(decoded)), page)
  })

  it("SystemEvent alone decodes system events and rejects user ones", () => {
    const ok = Schema.decodeUnknownEither(SystemEvent.SystemEvent)(wire("meter.reset", { meter_id: "m" }))
    assert.isTrue(Either.isRight(ok) && Schema.is(SystemEvent.MeterResetEvent)(ok.right))
    const user = Schema.decodeUnknownEither(SystemEvent.SystemEvent)({ ...wire("x", {}), source: "user" })
    assert.isTrue(Either.isLeft(user))
  })
})
