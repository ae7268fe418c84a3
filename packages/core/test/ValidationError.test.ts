import * as PolarSpec from "@polar-events/polar-spec"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { ValidationError } from "../src/index.js"

const example = (name: string): unknown => PolarSpec.example(name)

describe("ValidationError", () => {
  it("error-422-ingest.example.json decodes as HTTPValidationError and re-encodes deep-equal", () => {
    const json = example("error-422-ingest.example.json")
    const decoded = Schema.decodeUnknownSync(ValidationError.HTTPValidationError)(json)
    assert.strictEqual(decoded.error, "PolarRequestValidationError")
    assert.deepStrictEqual(decoded.detail[0]!.loc, ["body", "events", 2, "customer_id"])
    assert.strictEqual(decoded.detail[0]!.type, "customer_id")
    assert.deepStrictEqual(Schema.encodeSync(ValidationError.HTTPValidationError)(decoded), json)
  })

  it("a body without the top-level error key (the spec's shape) decodes and stays without it", () => {
    const json = { detail: [{ loc: ["query", "limit"], msg: "Input should be a valid integer", type: "int_type" }] }
    const decoded = Schema.decodeUnknownSync(ValidationError.HTTPValidationError)(json)
    assert.isFalse("error" in decoded)
    assert.deepStrictEqual(Schema.encodeSync(ValidationError.HTTPValidationError)(decoded), json)
  })

  it("ErrorDetail keeps ctx and input, and rejects a detail without type", () => {
    const detail = { loc: ["body", "events", 0, "name"], msg: "m", type: "string_too_long", input: "x", ctx: { max_length: 128 } }
    assert.deepStrictEqual(Schema.decodeUnknownSync(ValidationError.ErrorDetail)(detail), detail)
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(ValidationError.ErrorDetail)({ loc: [], msg: "m" })))
  })

  it("RequestValidationError's message names each location, and stops after five", () => {
    const detail = Array.from({ length: 7 }, (_, i) =>
      ValidationError.makeDetail(["body", "events", i, "name"], "missing", "Field required"))
    const error = ValidationError.make(detail)
    assert.strictEqual(error._tag, "RequestValidationError")
    assert.include(error.message, "7 validation errors")
    assert.include(error.message, "body.events[0].name: Field required [missing]")
    assert.include(error.message, "body.events[4].name")
    assert.notInclude(error.message, "body.events[5].name")
    assert.include(error.message, "and 2 more")
  })

  it("makeDetail leaves input out when it is undefined", () => {
    assert.deepStrictEqual(ValidationError.makeDetail(["query", "x"], "missing", "Field required"), {
      loc: ["query", "x"],
      msg: "Field required",
      type: "missing"
    })
  })

  it("toHTTP and fromHTTP convert between the error and the 422 body", () => {
    const error = ValidationError.make([ValidationError.makeDetail(["query", "limit"], "int_type", "m", "x")])
    const body = ValidationError.toHTTP(error)
    assert.deepStrictEqual(body, { error: "RequestValidationError", detail: error.detail })
    assert.deepStrictEqual(ValidationError.fromHTTP(body).detail, error.detail)
    assert.strictEqual(ValidationError.toHTTP(error, "PolarRequestValidationError").error, "PolarRequestValidationError")
  })

  it.effect("RequestValidationError is a yieldable, catchable tagged error that round-trips as a Schema", () =>
    Effect.gen(function*() {
      const error = ValidationError.make([ValidationError.makeDetail(["body"], "missing", "Field required")])
      const caught = yield* Effect.fail(error).pipe(
        Effect.catchTag("RequestValidationError", (e) => Effect.succeed(e.detail.length))
      )
      assert.strictEqual(caught, 1)
      const encoded = Schema.encodeSync(ValidationError.RequestValidationError)(error)
      assert.deepStrictEqual(encoded, { _tag: "RequestValidationError", detail: error.detail })
      const back = Schema.decodeUnknownSync(ValidationError.RequestValidationError)(encoded)
      assert.instanceOf(back, ValidationError.RequestValidationError)
    }))

  it("formatLoc renders keys and indices", () => {
    assert.strictEqual(ValidationError.formatLoc(["body", "events", 3, "metadata", "tokens"]), "body.events[3].metadata.tokens")
    assert.strictEqual(ValidationError.formatLoc([]), "")
  })
})
