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

/** 0 for an ASCII hex digit, 1 for any other UTF-16 code unit. */
const NOT_HEX = new Uint8Array(65536).fill(1)
for (const c of "0123456789abcdefABCDEF") NOT_HEX[c.charCodeAt(0)] = 0

/**
 * True for a hyphenated UUID of any version, in any case (`8-4-4-4-12` hex
 * digits: Effect's `Schema.UUID` pattern), checked without a regular expression.
 *
 * @since 0.1.0
 */
export const isUuid = (s: string): boolean => {
  if (
    s.length !== 36 ||
    s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45
  ) return false
  let bad = 0
  for (let i = 0; i < 8; i++) bad |= NOT_HEX[s.charCodeAt(i)]!
  for (let i = 9; i < 13; i++) bad |= NOT_HEX[s.charCodeAt(i)]!
  for (let i = 14; i < 18; i++) bad |= NOT_HEX[s.charCodeAt(i)]!
  for (let i = 19; i < 23; i++) bad |= NOT_HEX[s.charCodeAt(i)]!
  for (let i = 24; i < 36; i++) bad |= NOT_HEX[s.charCodeAt(i)]!
  return bad === 0
}

/** True for a version-4 UUID, the only version Polar accepts in `customer_id` and `member_id` on ingest. @since 0.1.0 */
export const isUuidV4 = (s: string): boolean => {
  if (!isUuid(s)) return false
  const variant = s.charCodeAt(19) | 0x20
  return s.charCodeAt(14) === 52 /* 4 */ && (variant === 56 || variant === 57 || variant === 97 || variant === 98) /* 8 9 a b */
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const POOL_SIZE = 16 * 1024
const pool = new Uint8Array(POOL_SIZE)
let offset = POOL_SIZE
let prefixMs = -1
let prefixText = ""

/**
 * A fresh time-ordered UUID (version 7, RFC 9562): 48 bits of Unix
 * milliseconds, then 74 random bits, so ids made in sequence sort and index
 * like a sequence. Random bytes come from a pool refilled by the CSPRNG, not
 * one call per id.
 *
 * @since 0.1.0
 */
export const makeUuidV7 = (now: number = Date.now()): string => {
  if (offset + 10 > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool)
    offset = 0
  }
  const r = offset
  offset += 10
  return (
    timePrefix(Math.floor(now)) +
    HEX[0x70 | (pool[r]! & 0x0f)]! + HEX[pool[r + 1]!]! + "-" +
    HEX[0x80 | (pool[r + 2]! & 0x3f)]! + HEX[pool[r + 3]!]! + "-" +
    HEX[pool[r + 4]!]! + HEX[pool[r + 5]!]! + HEX[pool[r + 6]!]! + HEX[pool[r + 7]!]! + HEX[pool[r + 8]!]! +
    HEX[pool[r + 9]!]!
  )
}

const SLAB_SIZE = 16 * 512
let slab = new Uint8Array(0)
let slabOffset = 0

/**
 * `makeUuidV7`'s id as its 16 bytes, for stores that keep ids as blobs. The
 * bytes are a view into a shared 8 KiB slab (like Node's pooled buffers), so
 * a hot loop allocates no buffer per id; treat them as read-only.
 *
 * @since 0.1.0
 */
export const makeUuidV7Bytes = (now: number = Date.now()): Uint8Array => {
  if (offset + 10 > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool)
    offset = 0
  }
  if (slabOffset + 16 > slab.length) {
    slab = new Uint8Array(SLAB_SIZE)
    slabOffset = 0
  }
  const r = offset
  offset += 10
  const b = slab.subarray(slabOffset, slabOffset + 16)
  slabOffset += 16
  const ms = Math.floor(now)
  const high = Math.floor(ms / 4294967296)
  const low = ms >>> 0
  b[0] = high >>> 8
  b[1] = high
  b[2] = low >>> 24
  b[3] = low >>> 16
  b[4] = low >>> 8
  b[5] = low
  b[6] = 0x70 | (pool[r]! & 0x0f)
  b[7] = pool[r + 1]!
  b[8] = 0x80 | (pool[r + 2]! & 0x3f)
  for (let i = 3; i < 10; i++) b[6 + i] = pool[r + i]!
  return b
}

/** `tttttttt-tttt-`: the 48-bit millisecond timestamp, the same for every id of one millisecond. */
const timePrefix = (ms: number): string => {
  if (ms !== prefixMs) {
    prefixMs = ms
    const high = Math.floor(ms / 0x1000000)
    const low = ms % 0x1000000
    prefixText = HEX[(high >>> 16) & 0xff]! + HEX[(high >>> 8) & 0xff]! + HEX[high & 0xff]! +
      HEX[(low >>> 16) & 0xff]! + "-" + HEX[(low >>> 8) & 0xff]! + HEX[low & 0xff]! + "-"
  }
  return prefixText
}
