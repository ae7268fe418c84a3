/**
 * Event metadata: flat key-value pairs (strings, integers, floats, booleans)
 * plus the two structured keys Polar understands, `_cost` and `_llm`.
 *
 * Metadata keys and values are user data, so they keep their wire spelling in
 * the domain (`_llm.input_tokens`, not `inputTokens`).
 *
 * @since 0.1.0
 */
import type { FastCheck } from "effect"
import { Schema, SchemaAST as AST } from "effect"
import { hasNul, isRecord, lengthWithin } from "./internal/validateCommon.js"
import { isCostAmount, isDecimalString, METADATA_STRING_MAX } from "./internal/validateMetadata.js"

type Fc = typeof FastCheck

/**
 * Polar's pattern for a cost amount written as a decimal string, as the spec
 * writes it (for JSON Schema). It is not anchored at the end, so the schemas
 * below check amounts with `isCostAmount`, which is exact.
 *
 * @since 0.1.0
 */
export const COST_AMOUNT_PATTERN = /^(?!^[-+.]*$)[+-]?0*(?:\d{0,5}|(?=[\d.]{1,18}0*$)\d{0,5}\.\d{0,12}0*$)/

/** Polar's pattern for a cost currency (only `usd` is supported). @since 0.1.0 */
export const COST_CURRENCY_PATTERN = /usd/

/**
 * True for a cost amount Polar accepts: a finite number or a decimal string
 * with at most 17 digits, 12 decimals and so 5 integer digits (cents).
 *
 * @since 0.1.0
 */
export { isCostAmount }

const noNul = { message: () => "Input must not contain a NUL character (\\u0000)." }

const Currency = Schema.String.pipe(Schema.pattern(COST_CURRENCY_PATTERN)).annotations({
  description: "The currency. Currently, only `usd` is supported.",
  arbitrary: () => (fc: Fc) => fc.constant("usd")
})

const amountStringArbitrary = () => (fc: Fc) =>
  fc.tuple(fc.integer({ min: -99_999, max: 99_999 }), fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }))
    .map(([n, frac]) => (frac === undefined ? `${n}` : `${n}.${frac}`))

const amountNumberArbitrary = () => (fc: Fc) =>
  fc.tuple(fc.integer({ min: -9_999_999, max: 9_999_999 }), fc.integer({ min: 0, max: 6 }))
    .map(([n, k]) => n / 10 ** k)
    .filter(isCostAmount)

const AmountString = Schema.String.pipe(
  Schema.filter((s) => isDecimalString(s) && isCostAmount(s), {
    message: () => "Expected a decimal with at most 5 integer digits and 12 decimals",
    jsonSchema: { pattern: COST_AMOUNT_PATTERN.source }
  })
).annotations({ description: "The amount in cents, as a decimal string.", arbitrary: amountStringArbitrary })

const AmountNumber = Schema.Number.pipe(
  Schema.filter(isCostAmount, { message: () => "Expected at most 5 integer digits and 12 decimals" })
).annotations({ arbitrary: amountNumberArbitrary })

/** `_cost` as sent on ingest: an amount in cents (number or decimal string) and a currency. @since 0.1.0 */
export const CostMetadataInput = Schema.Struct({
  amount: Schema.Union(AmountNumber, AmountString).annotations({ description: "The amount in cents." }),
  currency: Currency
}).annotations({ identifier: "CostMetadata-Input" })
/** @since 0.1.0 */
export type CostMetadataInput = typeof CostMetadataInput.Type

/** `_cost` as Polar returns it: the amount is always a decimal string. @since 0.1.0 */
export const CostMetadataOutput = Schema.Struct({
  amount: AmountString,
  currency: Currency
}).annotations({ identifier: "CostMetadata-Output" })
/** @since 0.1.0 */
export type CostMetadataOutput = typeof CostMetadataOutput.Type

/** `_llm`: token counts and the model of one LLM call. @since 0.1.0 */
export const LlmMetadata = Schema.Struct({
  vendor: Schema.String,
  model: Schema.String,
  prompt: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  response: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  input_tokens: Schema.Int,
  cached_input_tokens: Schema.optionalWith(Schema.Int, { exact: true }),
  output_tokens: Schema.Int,
  total_tokens: Schema.Int
}).annotations({ identifier: "LLMMetadata" })
/** @since 0.1.0 */
export type LlmMetadata = typeof LlmMetadata.Type

/**
 * A string metadata value on ingest: 1 to 500 characters (code points, as
 * Polar counts them), no NUL.
 *
 * @since 0.1.0
 */
export const MetadataStringInput = Schema.String.pipe(
  Schema.filter((s) => lengthWithin(s, 1, METADATA_STRING_MAX) && !hasNul(s), {
    message: () => `Expected 1 to ${METADATA_STRING_MAX} characters without NUL`,
    jsonSchema: { minLength: 1, maxLength: METADATA_STRING_MAX }
  })
)

/** One flat metadata value on ingest: a string of 1 to 500 characters, a finite number or a boolean. @since 0.1.0 */
export const MetadataValueInput = Schema.Union(
  MetadataStringInput,
  Schema.Int,
  Schema.Number.pipe(Schema.finite()),
  Schema.Boolean
)

/** One flat metadata value as Polar returns it. @since 0.1.0 */
export const MetadataValueOutput = Schema.Union(Schema.String, Schema.Int, Schema.Number, Schema.Boolean)

/** A flat metadata value. @since 0.1.0 */
export type MetadataValue = string | number | boolean

/**
 * A metadata key other than the two structured ones: the index signature
 * must skip `_cost` and `_llm`, whose objects are checked by their own schema.
 */
const FlatKey = Schema.String.pipe(
  Schema.filter((k) => k !== "_cost" && k !== "_llm", { jsonSchema: {} })
)

/**
 * A flat key on ingest: also not `__proto__`, which a JavaScript object
 * cannot hold as an ordinary key, so it would be silently lost.
 */
const FlatKeyInput = FlatKey.pipe(
  Schema.filter((k) => k !== "__proto__", { message: () => "Metadata key __proto__ is not allowed." })
)

/**
 * The JSON Schema of a metadata object (a surrogate, for documentation
 * only): `_cost` and `_llm` by reference, and the flat values as
 * `additionalProperties`, which is what the refined key (any key but the two
 * declared ones) means; Effect would spell that key as `patternProperties`.
 */
const documentedAs = <C, CI>(cost: Schema.Schema<C, CI>, value: Schema.Schema.Any) => ({
  [AST.SurrogateAnnotationId]: Schema.Struct(
    {
      _cost: Schema.optionalWith(cost, { exact: true }),
      _llm: Schema.optionalWith(LlmMetadata, { exact: true })
    },
    Schema.Record({ key: Schema.String, value })
  ).ast
})

/**
 * Rejects an own `__proto__` key (which `JSON.parse` can produce) before the
 * struct is read: the struct would otherwise drop it without a word.
 */
const NoProtoKey = Schema.declare(
  (u): u is object => typeof u === "object" && u !== null && !Object.prototype.hasOwnProperty.call(u, "__proto__"),
  { message: () => "Metadata key __proto__ is not allowed.", jsonSchema: { type: "object" } }
)

const hasNulDeep = (m: Record<string, unknown>): boolean => {
  for (const key in m) {
    if (hasNul(key)) return true
    const v = m[key]
    if (typeof v === "string") {
      if (hasNul(v)) return true
    } else if (isRecord(v)) {
      for (const inner in v) {
        const w = v[inner]
        if (typeof w === "string" && hasNul(w)) return true
      }
    }
  }
  return false
}

/**
 * Metadata as sent on ingest. Unlike a schema-derived type, the index
 * signature admits the `_cost` and `_llm` objects, so a literal with `_cost`
 * type-checks.
 *
 * @since 0.1.0
 */
export interface EventMetadataInput {
  readonly _cost?: CostMetadataInput
  readonly _llm?: LlmMetadata
  readonly [key: string]: MetadataValue | CostMetadataInput | LlmMetadata
}

/**
 * Metadata as sent on ingest (Polar's `EventMetadataInput`): flat values plus
 * the optional `_cost` and `_llm` objects; no null, no arrays, no other nested
 * objects, no NUL in any key or string.
 *
 * @since 0.1.0
 */
export const EventMetadataInput: Schema.Schema<EventMetadataInput> = Schema.compose(
  NoProtoKey,
  Schema.Struct(
    {
      _cost: Schema.optionalWith(CostMetadataInput, { exact: true }),
      _llm: Schema.optionalWith(LlmMetadata, { exact: true })
    },
    Schema.Record({ key: FlatKeyInput, value: MetadataValueInput })
  ).pipe(Schema.filter((m) => !hasNulDeep(m), noNul)),
  { strict: false }
).annotations({
  identifier: "EventMetadataInput",
  ...documentedAs(CostMetadataInput, MetadataValueInput)
}) as Schema.Schema<any> as Schema.Schema<EventMetadataInput>

/**
 * Metadata of a user event as Polar returns it. The index signature admits
 * the `_cost` and `_llm` objects, as for `EventMetadataInput`.
 *
 * @since 0.1.0
 */
export interface EventMetadataOutput {
  readonly _cost?: CostMetadataOutput
  readonly _llm?: LlmMetadata
  readonly [key: string]: MetadataValue | CostMetadataOutput | LlmMetadata
}

/**
 * Metadata of a user event as Polar returns it (`EventMetadataOutput`): flat
 * values plus `_cost` (amount as a decimal string) and `_llm`.
 *
 * @since 0.1.0
 */
export const EventMetadataOutput: Schema.Schema<EventMetadataOutput> = Schema.Struct(
  {
    _cost: Schema.optionalWith(CostMetadataOutput, { exact: true }),
    _llm: Schema.optionalWith(LlmMetadata, { exact: true })
  },
  Schema.Record({ key: FlatKey, value: MetadataValueOutput })
).annotations({
  identifier: "EventMetadataOutput",
  ...documentedAs(CostMetadataOutput, MetadataValueOutput)
}) as Schema.Schema<any> as Schema.Schema<EventMetadataOutput>
