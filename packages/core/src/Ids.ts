/**
 * Branded identifiers for everything an event points at, so that a customer id
 * can never be passed where an event id is expected.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const uuid = <B extends string>(brand: B, description: string) =>
  Schema.UUID.pipe(
    Schema.brand(brand),
    Schema.annotations({ identifier: brand, description })
  )

const nonEmpty = <B extends string>(brand: B, description: string) =>
  Schema.NonEmptyString.pipe(
    Schema.brand(brand),
    Schema.annotations({ identifier: brand, description })
  )

/** The id Polar (or the store) gives an event: a UUID. @since 0.1.0 */
export const EventId = uuid("EventId", "The ID of an event (UUID).")
/** @since 0.1.0 */
export type EventId = typeof EventId.Type

/** The id of the organization that owns an event: a UUID. @since 0.1.0 */
export const OrganizationId = uuid("OrganizationId", "The ID of a Polar organization (UUID).")
/** @since 0.1.0 */
export type OrganizationId = typeof OrganizationId.Type

/** The id Polar gives a customer: a UUID. @since 0.1.0 */
export const CustomerId = uuid("CustomerId", "The ID of a Polar customer (UUID).")
/** @since 0.1.0 */
export type CustomerId = typeof CustomerId.Type

/** The id Polar gives a member of a team customer: a UUID. @since 0.1.0 */
export const MemberId = uuid("MemberId", "The ID of a member of a Polar customer (UUID).")
/** @since 0.1.0 */
export type MemberId = typeof MemberId.Type

/** The customer's id in your own system: any non-empty string. @since 0.1.0 */
export const ExternalCustomerId = nonEmpty("ExternalCustomerId", "The ID of the customer in your system.")
/** @since 0.1.0 */
export type ExternalCustomerId = typeof ExternalCustomerId.Type

/** The member's id in your own system: any non-empty string. @since 0.1.0 */
export const ExternalMemberId = nonEmpty("ExternalMemberId", "The ID of the member in your system.")
/** @since 0.1.0 */
export type ExternalMemberId = typeof ExternalMemberId.Type

/**
 * Your own id for an event: Polar's idempotency key. Two events of one
 * organization with the same external id are the same event.
 *
 * @since 0.1.0
 */
export const ExternalId = nonEmpty("ExternalId", "Your unique identifier for this event (the deduplication key).")
/** @since 0.1.0 */
export type ExternalId = typeof ExternalId.Type

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

/** True for a version-4 UUID, the only version Polar accepts in `customer_id` and `member_id` on ingest. @since 0.1.0 */
export const isUuidV4 = (s: string): boolean => UUID_V4.test(s)

/**
 * A fresh time-ordered UUID (version 7): a valid UUID whose leading bits are the
 * creation time, so ids made in sequence index like a sequence.
 *
 * @since 0.1.0
 */
export const makeUuidV7 = (now: number = Date.now()): string => {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  let ms = now
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  let hex = ""
  for (let i = 0; i < 16; i++) hex += HEX[bytes[i]!]
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
