import { type FastCheck, Schema } from "effect"
import * as Ids from "../Ids.js"
import { fromEpochMicros, Timestamp } from "../Timestamp.js"

const MIN_SECONDS = -631_152_000 // 1950-01-01
const MAX_SECONDS = 7_258_118_399 // 2199-12-31, epoch microseconds stay exact below 2^53

/** Dates Polar could send: microsecond precision, sometimes a whole second, sometimes a plain `Date`. */
const arbitraryDate = (fc: typeof FastCheck): FastCheck.Arbitrary<Date> =>
  fc.oneof(
    fc.tuple(
      fc.integer({ min: MIN_SECONDS, max: MAX_SECONDS }),
      fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 }))
    ).map(([s, us]) => fromEpochMicros(s * 1_000_000 + us)),
    fc.integer({ min: MIN_SECONDS, max: MAX_SECONDS }).chain((s) =>
      fc.integer({ min: 0, max: 999 }).map((ms) => new Date(s * 1000 + ms))
    )
  )

/** `Timestamp` whose arbitrary stays within years Polar's wire format can carry. */
export const EventTimestamp: Schema.Schema<Date, string> = Timestamp.annotations({
  arbitrary: () => arbitraryDate
})

/**
 * A branded id read from Polar's responses: any string is kept (the spec puts
 * no length limit on what Polar echoes back), typed as the brand.
 */
const wireString = <A extends string>(description: string): Schema.Schema<A, string> =>
  Schema.String.annotations({ description }) as unknown as Schema.Schema<A, string>

/** `external_customer_id` as Polar returns it. */
export const ExternalCustomerIdWire = wireString<Ids.ExternalCustomerId>(
  "ID of the customer in your system associated with the event."
)

/** `external_member_id` as Polar returns it. */
export const ExternalMemberIdWire = wireString<Ids.ExternalMemberId>(
  "ID of the member in your system within the customer's organization."
)

/** A nullable key that may also be absent: absent stays absent, null stays null. */
export const optionalKey = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.optionalWith(schema, { exact: true }).pipe(Schema.fromKey(key))

/** A required key renamed from its wire name. */
export const requiredKey = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

/**
 * A metadata object Polar builds from a Python TypedDict: the listed keys are
 * checked, any other key is kept verbatim (Polar adds keys over time).
 */
export const openStruct = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields, Schema.Record({ key: Schema.String, value: Schema.Unknown }))
