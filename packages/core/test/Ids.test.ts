import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc, Schema } from "effect"
import * as Ids from "../src/Ids.js"

describe("Ids", () => {
  it("brands UUIDs and rejects non-UUIDs", () => {
    assert.isTrue(Either.isRight(Schema.decodeUnknownEither(Ids.EventId)("3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01")))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Ids.CustomerId)("not-a-uuid")))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Ids.ExternalCustomerId)("")))
  })

  it("keeps ids apart at compile time", () => {
    const customer = Schema.decodeSync(Ids.CustomerId)("992fae2a-2a17-4b7a-8d9e-e287cf90131b")
    const takesEvent = (id: Ids.EventId): string => id
    // @ts-expect-error a CustomerId is not an EventId
    takesEvent(customer)
    const takesExternal = (id: Ids.ExternalId): string => id
    // @ts-expect-error an ExternalCustomerId is not an ExternalId
    takesExternal(Schema.decodeSync(Ids.ExternalCustomerId)("usr_1"))
    // @ts-expect-error a plain string is not an OrganizationId
    const org: Ids.OrganizationId = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
    assert.isString(org)
  })

  it("tells UUID v4 from other versions", () => {
    assert.isTrue(Ids.isUuidV4("992fae2a-2a17-4b7a-8d9e-e287cf90131b"))
    assert.isFalse(Ids.isUuidV4("992fae2a-2a17-1b7a-8d9e-e287cf90131b"))
    assert.isFalse(Ids.isUuidV4(Ids.makeUuidV7()))
  })

  it("makes time-ordered UUID v7 ids", () => {
    const a = Ids.makeUuidV7(1_700_000_000_000)
    const b = Ids.makeUuidV7(1_700_000_000_001)
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.isTrue(a < b)
    assert.strictEqual(parseInt(a.replace(/-/g, "").slice(0, 12), 16), 1_700_000_000_000)
    assert.isTrue(Either.isRight(Schema.decodeUnknownEither(Ids.EventId)(a)))
  })
  it("makes UUID v7 ids as bytes, with the layout of makeUuidV7", () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
    const seen = new Set<string>()
    for (let i = 0; i < 2_000; i++) {
      const b = Ids.makeUuidV7Bytes(1_700_000_000_000 + i)
      assert.strictEqual(b.length, 16)
      const h = hex(b)
      const text = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
      assert.match(text, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.strictEqual(parseInt(h.slice(0, 12), 16), 1_700_000_000_000 + i)
      seen.add(h)
    }
    assert.strictEqual(seen.size, 2_000)
  })
  it("isUuid and isUuidV4 agree with the UUID patterns on near-UUID strings", () => {
    const ANY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
    const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i
    // UUIDs of every version, then one code unit replaced by hex, a hyphen, a letter or a non-ASCII unit
    const near = fc.tuple(fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] }), fc.nat(40), fc.constantFrom("", "A", "f", "-", "g", "\u0660", "\uff10", "x"), fc.boolean())
      .map(([u, i, c, upper]) => {
        const base = upper ? u.toUpperCase() : u
        return c === "" ? base : base.slice(0, i) + c + base.slice(i + 1)
      })
    fc.assert(fc.property(fc.oneof(near, fc.string()), (s) => {
      assert.strictEqual(Ids.isUuid(s), ANY.test(s), s)
      assert.strictEqual(Ids.isUuidV4(s), V4.test(s), s)
    }), { numRuns: 20_000 })
    assert.isTrue(Ids.isUuid(Ids.makeUuidV7()))
    assert.isFalse(Ids.isUuidV4(Ids.makeUuidV7()))
    assert.isTrue(Ids.isUuidV4("1dbfc517-0bbf-4301-9ba8-555ca42b9737"))
  })

  it("makes RFC 9562 version 7 ids that sort by time and do not repeat", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => Ids.makeUuidV7(1_700_000_000_000 + Math.floor(i / 100)))
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.strictEqual(new Set(ids).size, ids.length)
    assert.strictEqual(ids[0]!.slice(0, 14), "018bcfe5-6800-")
    const prefixes = ids.map((id) => id.slice(0, 14))
    assert.deepStrictEqual([...prefixes].sort(), prefixes)
  })
})
