import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, ParseResult, Schema } from "effect"
import * as Customer from "../src/Customer.js"
import * as Timestamp from "../src/Timestamp.js"

const asJson = (u: unknown): any => JSON.parse(JSON.stringify(u))

const team = {
  id: "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
  created_at: "2026-07-02T09:15:44.120331Z",
  modified_at: null,
  metadata: { plan: "pro", seats: 12, beta: true, ratio: 0.5 },
  external_id: "org_42",
  email_verified: false,
  type: "team",
  name: "Acme",
  billing_name: "Acme GmbH",
  billing_address: {
    line1: "Hauptstr. 1",
    line2: null,
    postal_code: "10115",
    city: "Berlin",
    state: null,
    country: "DE"
  },
  tax_id: ["DE123456789", "eu_vat"],
  locale: "de",
  organization_id: "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
  default_payment_method_id: null,
  deleted_at: "2026-08-01T10:00:02+02:00",
  first_user_event_at: null,
  avatar_url: null
}

const individual = {
  id: "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
  created_at: "2026-07-02T09:15:44.120331Z",
  modified_at: "2026-08-01T10:00:02.004512Z",
  metadata: {},
  email: "customer@example.com",
  email_verified: true,
  type: "individual",
  name: null,
  billing_name: null,
  billing_address: { country: "US" },
  tax_id: null,
  organization_id: "1dbfc517-0bbf-4301-9ba8-555ca42b9737",
  deleted_at: null,
  first_user_event_at: "2026-07-02T09:20:01Z",
  avatar_url: "https://www.gravatar.com/avatar/xxx?d=404"
}

const decode = Schema.decodeUnknownEither(Customer.Customer)
const encode = Schema.encodeSync(Customer.Customer)

const paths = (e: ParseResult.ParseError) => [
  ...new Set(ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => JSON.stringify(i.path)))
].map((p) => JSON.parse(p))

describe("Customer", () => {
  it("decodes a team customer to camelCase and writes it back unchanged", () => {
    const c = Either.getOrThrow(decode(team))
    assert.strictEqual(c.type, "team")
    assert.isTrue(Schema.is(Customer.CustomerTeam)(c))
    assert.isFalse("email" in c)
    assert.deepStrictEqual(c.taxId, ["DE123456789", "eu_vat"])
    assert.strictEqual(c.billingAddress?.postalCode, "10115")
    assert.strictEqual(c.deletedAt?.toISOString(), "2026-08-01T08:00:02.000Z")
    assert.strictEqual(Timestamp.toEpochMicros(c.createdAt) % 1000, 331)
    assert.deepStrictEqual(c.metadata, team.metadata)
    assert.deepStrictEqual(asJson(encode(c)), team)
  })

  it("keeps optional keys of an individual absent", () => {
    const c = Either.getOrThrow(decode(individual))
    assert.isTrue(Schema.is(Customer.CustomerIndividual)(c))
    assert.isFalse("externalId" in c || "locale" in c || "defaultPaymentMethodId" in c)
    assert.deepStrictEqual(c.billingAddress, { country: "US" })
    assert.deepStrictEqual(asJson(encode(c)), individual)
  })

  it("keeps a country or tax id format newer than this library", () => {
    const input = { ...team, billing_address: { ...team.billing_address, country: "XX" }, tax_id: ["DE1", "xx_new"] }
    const c = Either.getOrThrow(decode(input))
    assert.deepStrictEqual(asJson(encode(c)), input)
  })

  it("names the field of a bad country, tax id format or type", () => {
    for (
      const [input, path] of [
        [{ ...team, billing_address: { ...team.billing_address, country: 7 } }, ["billing_address", "country"]],
        [{ ...team, tax_id: ["DE1", 5] }, ["tax_id", 1]],
        [{ ...individual, email: null }, ["email"]],
        [{ ...team, type: "company" }, ["type"]]
      ] as const
    ) {
      const r = decode(input)
      assert.isTrue(Either.isLeft(r), JSON.stringify(path))
      if (Either.isLeft(r)) assert.deepInclude(paths(r.left), [...path])
    }
  })

  it.prop("random customers go to wire JSON and back unchanged", [
    Arbitrary.make(Customer.Customer).filter((c) => Object.values(c.metadata).every((v) => typeof v !== "number" || Number.isFinite(v)))
  ], ([customer]) => {
    const wire = asJson(encode(customer))
    const again = Either.getOrThrow(decode(wire))
    assert.deepStrictEqual(asJson(encode(again)), wire)
  }, { fastCheck: { numRuns: 200 } })
})
