/**
 * Ingest: the events you send to `POST /v1/events/ingest`, Polar's rules for
 * them, and the answer.
 *
 * The schemas are the declared contract: their Type is the domain event
 * (camelCase, branded ids, `Date` timestamps) and their Encoded side is the
 * wire JSON (snake_case), lossless both ways. `validate` is the fast checker
 * for a whole batch: hand-written, it reports every problem at once in the
 * shape of Polar's 422 body and agrees with the schemas.
 *
 * Choices where Polar's behaviour is not a rule one would write down:
 * - An event with both `customer_id` and `external_customer_id` is an
 *   `EventCreateCustomer` and the external id is dropped, as Polar's smart
 *   union does. When the customer fields are invalid but the external ones
 *   are valid, it is an `EventCreateExternalCustomer` (again as Polar).
 * - Unknown keys are ignored, as on Polar (`member_id` on an external-customer
 *   event is dropped), unless `forbidExtra` is set.
 * - Error locations leave out the union branch name that pydantic adds
 *   (`["body","events",3,"customer_id"]`, not
 *   `["body","events",3,"EventCreateCustomer","customer_id"]`), and an event
 *   with invalid customer fields reports its own branch only, so one problem
 *   is one error. An event with neither id gets a `missing` error for both.
 * - Stricter than Polar: ids must be hyphenated UUIDs, `external_id`,
 *   `external_customer_id` and `external_member_id` must not be empty,
 *   `timestamp` must be an ISO-8601 string (no epoch numbers), and integers
 *   are not parsed from strings.
 * - `timestamp` stays absent when it was absent: the store stamps the time of
 *   insertion, as Polar does.
 * - A metadata value of the wrong kind (null, array, object) is one error of
 *   type `metadata_value_type`, where pydantic would list one error per member
 *   of the value union.
 *
 * Error types (pydantic's names): `missing`, `string_type`, `string_too_short`,
 * `string_too_long`, `string_pattern_mismatch`, `uuid_type`, `uuid_parsing`,
 * `uuid_version`, `datetime_type`, `datetime_from_date_parsing`,
 * `timezone_aware`, `value_error` (future timestamp, NUL character),
 * `organization_token`, `dict_type`, `list_type`, `model_attributes_type`,
 * `int_type`, `int_from_float`, `finite_number`, `decimal_type`,
 * `decimal_parsing`, `decimal_max_digits`, `decimal_max_places`,
 * `decimal_whole_digits`, `extra_forbidden`, and `metadata_value_type`.
 *
 * @since 0.1.0
 */
import type { FastCheck } from "effect"
import { type Brand, Duration, Either, Schema } from "effect"
import * as EventMetadata from "./EventMetadata.js"
import * as Ids from "./Ids.js"
import { checkBody, checkEvent, checkEvents, domainToWireKeys, isPlainValid, NAME_MAX, type Resolved } from "./internal/validate.js"
import { hasNul, lengthWithin } from "./internal/validateCommon.js"
import { Timestamp } from "./Timestamp.js"
import { type ErrorDetail, RequestValidationError } from "./ValidationError.js"

type Fc = typeof FastCheck

const noNul = (s: string): boolean => !hasNul(s)

const uuid4Arbitrary = () => (fc: Fc) => fc.uuid({ version: 4 }) as FastCheck.Arbitrary<never>

const uuid4 = {
  message: () => "UUID version 4 expected",
  jsonSchema: { format: "uuid4" },
  arbitrary: uuid4Arbitrary
}

const nul = { message: () => "Input must not contain a NUL character (\\u0000)." }

/** The organization id on ingest: a UUID v4. @since 0.1.0 */
export const OrganizationId = Ids.OrganizationId.pipe(Schema.filter((s) => Ids.isUuidV4(s), uuid4))
/** The customer id on ingest: a UUID v4 (Polar rejects other versions). @since 0.1.0 */
export const CustomerId = Ids.CustomerId.pipe(Schema.filter((s) => Ids.isUuidV4(s), uuid4))
/** The member id on ingest: a UUID v4. @since 0.1.0 */
export const MemberId = Ids.MemberId.pipe(Schema.filter((s) => Ids.isUuidV4(s), uuid4))
/** Your customer id: a non-empty string without NUL. @since 0.1.0 */
export const ExternalCustomerId = Ids.ExternalCustomerId.pipe(Schema.filter(noNul, nul))
/** Your member id: a non-empty string without NUL. @since 0.1.0 */
export const ExternalMemberId = Ids.ExternalMemberId.pipe(Schema.filter(noNul, nul))
/** Your event id, Polar's idempotency key: a non-empty string without NUL. @since 0.1.0 */
export const ExternalId = Ids.ExternalId.pipe(Schema.filter(noNul, nul))

/** The parent event: its Polar id or its `external_id`. @since 0.1.0 */
export const ParentId = Schema.String.pipe(Schema.filter(noNul, nul)).annotations({
  description: "The ID of the parent event: a Polar event ID (UUID) or an external event ID."
})

/** An event name: 1 to 128 characters (code points), no NUL. @since 0.1.0 */
export const Name = Schema.String.pipe(
  Schema.filter((s) => lengthWithin(s, 1, NAME_MAX) && noNul(s), {
    message: () => `Expected 1 to ${NAME_MAX} characters without NUL`,
    jsonSchema: { minLength: 1, maxLength: NAME_MAX }
  })
).annotations({ description: "The name of the event." })

const EventTimestamp = Timestamp.annotations({
  description: "The timestamp of the event; must carry a zone offset and not be in the future.",
  arbitrary: () => (fc: Fc) =>
    fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
})

/** One flat metadata value on ingest (see `EventMetadata.MetadataValueInput`). @since 0.1.0 */
export const MetadataValue = EventMetadata.MetadataValueInput
/** One flat metadata value. @since 0.1.0 */
export type MetadataValue = EventMetadata.MetadataValue

/** `_cost` on ingest (see `EventMetadata.CostMetadataInput`). @since 0.1.0 */
export const CostMetadata = EventMetadata.CostMetadataInput
/** A `_cost` object on ingest. @since 0.1.0 */
export type CostMetadata = EventMetadata.CostMetadataInput

/** Event metadata on ingest (see `EventMetadata.EventMetadataInput`). @since 0.1.0 */
export const Metadata = EventMetadata.EventMetadataInput
/** Event metadata on ingest. @since 0.1.0 */
export type Metadata = EventMetadata.EventMetadataInput

const common = {
  timestamp: Schema.optionalWith(EventTimestamp, { exact: true }),
  name: Name,
  organizationId: Schema.optionalWith(Schema.NullOr(OrganizationId), { exact: true }).pipe(
    Schema.fromKey("organization_id")
  ),
  externalId: Schema.optionalWith(Schema.NullOr(ExternalId), { exact: true }).pipe(Schema.fromKey("external_id")),
  parentId: Schema.optionalWith(Schema.NullOr(ParentId), { exact: true }).pipe(Schema.fromKey("parent_id")),
  metadata: Schema.optionalWith(Metadata, { exact: true })
}

const EventCreateCustomer_ = Schema.Struct({
  ...common,
  customerId: Schema.propertySignature(CustomerId).pipe(Schema.fromKey("customer_id")),
  memberId: Schema.optionalWith(Schema.NullOr(MemberId), { exact: true }).pipe(Schema.fromKey("member_id"))
}).annotations({ identifier: "EventCreateCustomer" })

/** An event for a Polar customer, by `customer_id`. @since 0.1.0 */
export interface EventCreateCustomer extends Schema.Schema.Type<typeof EventCreateCustomer_> {}
/** The wire JSON of an `EventCreateCustomer`. @since 0.1.0 */
export interface EventCreateCustomerEncoded extends Schema.Schema.Encoded<typeof EventCreateCustomer_> {}
/** An event for a Polar customer, by `customer_id` (UUID v4). @since 0.1.0 */
export const EventCreateCustomer: Schema.Schema<EventCreateCustomer, EventCreateCustomerEncoded> = EventCreateCustomer_

const EventCreateExternalCustomer_ = Schema.Struct({
  ...common,
  externalCustomerId: Schema.propertySignature(ExternalCustomerId).pipe(Schema.fromKey("external_customer_id")),
  externalMemberId: Schema.optionalWith(Schema.NullOr(ExternalMemberId), { exact: true }).pipe(
    Schema.fromKey("external_member_id")
  )
}).annotations({ identifier: "EventCreateExternalCustomer" })

/** An event for a customer known by your own id. @since 0.1.0 */
export interface EventCreateExternalCustomer extends Schema.Schema.Type<typeof EventCreateExternalCustomer_> {}
/** The wire JSON of an `EventCreateExternalCustomer`. @since 0.1.0 */
export interface EventCreateExternalCustomerEncoded extends Schema.Schema.Encoded<typeof EventCreateExternalCustomer_> {}
/**
 * An event for a customer known by your own id (`external_customer_id`); the
 * customer need not exist yet in Polar.
 *
 * @since 0.1.0
 */
export const EventCreateExternalCustomer: Schema.Schema<
  EventCreateExternalCustomer,
  EventCreateExternalCustomerEncoded
> = EventCreateExternalCustomer_

/** One event to ingest. @since 0.1.0 */
export type EventCreate = EventCreateCustomer | EventCreateExternalCustomer
/** The wire JSON of one event to ingest. @since 0.1.0 */
export type EventCreateEncoded = EventCreateCustomerEncoded | EventCreateExternalCustomerEncoded
/**
 * One event to ingest: `EventCreateCustomer` when it has a valid
 * `customer_id`, else `EventCreateExternalCustomer`.
 *
 * @since 0.1.0
 */
export const EventCreate: Schema.Schema<EventCreate, EventCreateEncoded> = Schema.Union(
  EventCreateCustomer,
  EventCreateExternalCustomer
)

/**
 * An event that passed Polar's ingest rules: what `validate`,
 * `validateEvents` and `make` return, and what a store's `ingest` takes, so
 * that a batch is checked once, where it enters the program (a server's
 * request, a CLI's input, an application's call), and never again.
 *
 * @since 0.1.0
 */
export type Checked = EventCreate & Brand.Brand<"@polar-events/core/EventCreate/Checked">

/** True for an event addressed by Polar customer id. @since 0.1.0 */
export const isCustomer = (event: EventCreate): event is EventCreateCustomer => "customerId" in event

const EventsIngest_ = Schema.Struct({
  events: Schema.Array(EventCreate).annotations({ description: "List of events to ingest." })
}).annotations({ identifier: "EventsIngest" })
/** The body of `POST /v1/events/ingest`. @since 0.1.0 */
export interface EventsIngest extends Schema.Schema.Type<typeof EventsIngest_> {}
/** The wire JSON of an ingest body. @since 0.1.0 */
export interface EventsIngestEncoded extends Schema.Schema.Encoded<typeof EventsIngest_> {}
/** The body of `POST /v1/events/ingest`: `{events: [...]}`. @since 0.1.0 */
export const EventsIngest: Schema.Schema<EventsIngest, EventsIngestEncoded> = EventsIngest_

const EventsIngestResponse_ = Schema.Struct({
  inserted: Schema.Int.annotations({ description: "Number of events inserted." }),
  duplicates: Schema.optionalWith(Schema.Int, { default: () => 0 }).annotations({
    description: "Number of duplicate events skipped."
  })
}).annotations({ identifier: "EventsIngestResponse" })
/** The answer to an ingest. @since 0.1.0 */
export interface EventsIngestResponse extends Schema.Schema.Type<typeof EventsIngestResponse_> {}
/** The wire JSON of the answer to an ingest. @since 0.1.0 */
export interface EventsIngestResponseEncoded extends Schema.Schema.Encoded<typeof EventsIngestResponse_> {}
/**
 * The answer to an ingest: how many events were inserted and how many were
 * skipped as duplicates of an earlier `external_id` (`duplicates` defaults to 0).
 *
 * @since 0.1.0
 */
export const EventsIngestResponse: Schema.Schema<EventsIngestResponse, EventsIngestResponseEncoded> =
  EventsIngestResponse_

/**
 * How to validate.
 * - `now`: the current time (default: the clock when called).
 * - `clockSkew`: how far into the future a timestamp may be (default 0, as Polar).
 * - `organizationToken`: the request uses an organization token, so
 *   `organization_id` must be absent or null (default true).
 * - `forbidExtra`: report unknown keys of an event as `extra_forbidden`
 *   instead of ignoring them as Polar does (default false).
 *
 * @since 0.1.0
 */
export interface ValidateOptions {
  readonly now?: Date | undefined
  readonly clockSkew?: Duration.DurationInput | undefined
  readonly organizationToken?: boolean | undefined
  readonly forbidExtra?: boolean | undefined
}

const resolve = (options: ValidateEventsOptions | undefined, allowDate: boolean): Resolved => {
  const now = options?.now === undefined ? Date.now() : options.now.getTime()
  const skew = options?.clockSkew === undefined ? 0 : Duration.toMillis(Duration.decode(options.clockSkew))
  return {
    maxMicros: (now + skew) * 1000,
    organizationToken: options?.organizationToken ?? true,
    forbidExtra: options?.forbidExtra ?? false,
    allowDate,
    reuse: options?.reuse === true
  }
}

const finish = <A>(errors: ReadonlyArray<ErrorDetail>, value: A): Either.Either<A, RequestValidationError> =>
  errors.length === 0 ? Either.right(value) : Either.left(new RequestValidationError({ detail: errors }))

/**
 * Validates an ingest body (`{events: [...]}`, parsed JSON) with Polar's
 * rules and returns the domain events, ids branded. Every problem is
 * reported in one `RequestValidationError`, each at its location
 * (`["body", "events", 3, "metadata", "tokens"]`).
 *
 * @since 0.1.0
 */
export const validate = (
  body: unknown,
  options?: ValidateOptions
): Either.Either<ReadonlyArray<Checked>, RequestValidationError> => {
  const errors: Array<ErrorDetail> = []
  const events = checkBody(errors, body, resolve(options, false))
  return finish(errors, events as ReadonlyArray<unknown> as ReadonlyArray<Checked>)
}

/**
 * Options of `validateEvents`. With `reuse`, events that are already plain,
 * valid domain events (literals of strings, numbers, booleans and `Date`s,
 * the common `_llm` and `_cost` shapes) are returned as they are instead of
 * as checked copies, which is several times faster; other events (wire
 * events, say) keep plain valid metadata as it is. For a caller that does
 * not change the events afterwards (it encodes them at once, or parsed them
 * itself): the result shares their objects with the input.
 *
 * @since 0.1.0
 */
export interface ValidateEventsOptions extends ValidateOptions {
  readonly reuse?: boolean | undefined
}

/**
 * Validates events built in code (domain, camelCase, `Date` timestamps; wire
 * snake_case objects are accepted too) with the same rules as `validate`.
 * Locations use the wire names, as the server would report them:
 * `["body", "events", i, "customer_id"]`.
 *
 * @since 0.1.0
 */
export const validateEvents = (
  events: ReadonlyArray<EventCreate | unknown>,
  options?: ValidateEventsOptions
): Either.Either<ReadonlyArray<Checked>, RequestValidationError> => {
  const o = resolve(options, true)
  if (options?.reuse === true && events.every((e) => isPlainValid(e, o.maxMicros))) {
    return Either.right(events as ReadonlyArray<unknown> as ReadonlyArray<Checked>)
  }
  const errors: Array<ErrorDetail> = []
  const out = checkEvents(errors, ["body", "events"], events.map(domainToWireKeys), o)
  return finish(errors, out as ReadonlyArray<unknown> as ReadonlyArray<Checked>)
}

interface MakeCommon {
  readonly name: string
  readonly timestamp?: Date
  readonly organizationId?: string | null
  readonly externalId?: string | null
  readonly parentId?: string | null
  readonly metadata?: Metadata
}

/**
 * What `make` takes: a domain event with plain strings for ids.
 *
 * @since 0.1.0
 */
export type MakeInput =
  | (MakeCommon & { readonly customerId: string; readonly memberId?: string | null })
  | (MakeCommon & { readonly externalCustomerId: string; readonly externalMemberId?: string | null })

/**
 * Builds one event from plain values, checking it with the same rules as
 * `validate` (locations are relative to the event: `["customer_id"]`).
 *
 * @since 0.1.0
 */
export const make = (input: MakeInput, options?: ValidateOptions): Either.Either<Checked, RequestValidationError> => {
  const errors: Array<ErrorDetail> = []
  const event = checkEvent(errors, [], undefined, domainToWireKeys(input), resolve(options, true))
  return errors.length === 0 ? Either.right(event as unknown as Checked) : Either.left(new RequestValidationError({ detail: errors }))
}
