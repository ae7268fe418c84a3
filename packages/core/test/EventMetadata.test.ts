import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import * as EventMetadata from "../src/EventMetadata.js"

describe("EventMetadata", () => {
  const input = Schema.decodeUnknownEither(EventMetadata.EventMetadataInput)
  const output = Schema.decodeUnknownEither(EventMetadata.EventMetadataOutput)

  it("accepts flat values with _cost and _llm", () => {
    const m = {
      model: "gpt-4.1-nano",
      requests: 1,
      latency_ms: 812.5,
      cached: false,
      _llm: { vendor: "openai", model: "gpt-4.1-nano", input_tokens: 58, output_tokens: 19, total_tokens: 77 },
      _cost: { amount: 0.0325, currency: "usd" }
    }
    assert.deepStrictEqual(Either.getOrThrow(input(m)), m)
  })

  it("rejects null, arrays, nested objects and empty or long strings on ingest", () => {
    for (const bad of [{ a: null }, { a: [1] }, { a: { b: 1 } }, { a: "" }, { a: "x".repeat(501) }, { a: "nul\u0000" }]) {
      assert.isTrue(Either.isLeft(input(bad)), JSON.stringify(bad))
    }
    assert.isTrue(Either.isRight(input({ a: "😀".repeat(500) })), "500 code points is within the limit")
  })

  it("rejects a __proto__ key, which an object cannot hold as data", () => {
    assert.isTrue(Either.isLeft(input(JSON.parse(`{"__proto__": 1, "a": 1}`))))
  })

  it("reads _cost.amount as a decimal string on output", () => {
    assert.isTrue(Either.isRight(output({ _cost: { amount: "0.0325", currency: "usd" } })))
    assert.isTrue(Either.isLeft(output({ _cost: { amount: "abc", currency: "usd" } })))
    assert.isTrue(Either.isLeft(output({ _cost: { amount: "123456", currency: "usd" } })))
    assert.isTrue(Either.isLeft(output({ _cost: { amount: 0.0325, currency: "usd" } })))
  })

  it("checks the cost amount's digits like Polar", () => {
    for (const ok of ["99999", "0.000000000001", "-5", "00012345.5", "1."]) assert.isTrue(EventMetadata.isCostAmount(ok), ok)
    for (const bad of ["100000", "0.0000000000001", "abc", ".", ""]) assert.isFalse(EventMetadata.isCostAmount(bad), bad)
  })

  it.prop(
    "random ingest metadata round-trips",
    [Arbitrary.make(EventMetadata.EventMetadataInput)],
    ([m]) => {
      const encoded = Schema.encodeSync(EventMetadata.EventMetadataInput)(m)
      assert.deepStrictEqual(Either.getOrThrow(input(encoded)), m)
    },
    { fastCheck: { numRuns: 200 } }
  )

  it("exports a FastCheck that generates valid output metadata", () => {
    const samples = FastCheck.sample(Arbitrary.make(EventMetadata.EventMetadataOutput), 50)
    for (const s of samples) assert.isTrue(Either.isRight(output(s)))
  })
})
