import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { EventMetadataOutput } from "../src/EventMetadata.js"
import { compile, FAIL } from "../src/internal/eventCompile.js"
import * as SystemEvent from "../src/SystemEvent.js"
import { Timestamp } from "../src/Timestamp.js"

/** Schemas of the shapes the compiler handles itself or hands to Effect. */
const cases = {
  scalars: Schema.Union(Schema.String, Schema.Int, Schema.Boolean, Schema.Literal(null, 1.5)),
  openStruct: Schema.Struct(
    { a: Schema.Int, b: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }) },
    Schema.Record({ key: Schema.String, value: Schema.Unknown })
  ),
  closedStruct: Schema.Struct({
    a: Schema.optional(Schema.Number),
    nested: Schema.NullOr(Schema.Struct({ x: Schema.String.pipe(Schema.minLength(2)) }))
  }),
  keyFilter: Schema.Struct(
    { _special: Schema.optionalWith(Schema.Struct({ n: Schema.Int }), { exact: true }) },
    Schema.Record({ key: Schema.String.pipe(Schema.filter((k) => k !== "_special")), value: Schema.String })
  ),
  transforming: Schema.Struct({ at: Timestamp, n: Schema.NumberFromString, tags: Schema.Array(Schema.String) }),
  refinedTransformation: Schema.Struct({ at: Timestamp }).pipe(
    Schema.filter((s) => s.at.getTime() > 0, { arbitrary: () => (fcm) => fcm.constant({ at: new Date(1) }) })
  ),
  unionOfStructs: Schema.Union(
    Schema.Struct({ kind: Schema.Literal("a"), x: Schema.Int }),
    Schema.Struct({ kind: Schema.Literal("b"), x: Schema.String })
  ),
  userMetadata: EventMetadataOutput,
  customerUpdated: SystemEvent.CustomerUpdatedMetadata
} as const

const noise = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom<unknown>({ a: 1 }, { a: 1.5 }, { a: 1, b: null, c: [1] }, { _special: { n: 1 }, k: "v" }, { _special: "x" }, {
    nested: { x: "ab" }
  }, { at: "2026-01-01T00:00:00Z", n: "1", tags: [] }, { kind: "b", x: "s" }, { kind: "a", x: "s" })
)

describe("eventCompile", () => {
  for (const [name, schema] of Object.entries(cases)) {
    const s = schema as unknown as Schema.Schema<unknown, unknown>
    const decode = compile(s.ast, true)
    const encode = compile(s.ast, false)
    const decodeE = Schema.decodeUnknownEither(s)
    const encodeE = Schema.encodeUnknownEither(s)
    const agree = (check: typeof decode, reference: typeof decodeE, input: unknown) => {
      const ours = check(input)
      const theirs = reference(input)
      if (Either.isRight(theirs)) {
        if (ours !== FAIL) assert.deepStrictEqual(ours, theirs.right)
      } else {
        assert.strictEqual(ours, FAIL)
      }
    }

    it.prop(`${name}: same result as Effect on valid and random input`, [Arbitrary.make(s), noise], ([value, junk]) => {
      const encoded = Either.getOrUndefined(encodeE(value))
      agree(decode, decodeE, encoded)
      agree(decode, decodeE, junk)
      agree(encode, encodeE, value)
      agree(encode, encodeE, junk)
      // input Effect accepts is answered by the compiled check itself
      if (Either.isRight(decodeE(encoded)) && !JSON.stringify(encoded ?? null).includes("__proto__")) {
        assert.notStrictEqual(decode(encoded), FAIL, name)
      }
    }, { fastCheck: { numRuns: 200 } })
  }
})
