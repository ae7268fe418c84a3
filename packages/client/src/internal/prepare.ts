import { EventCreate, Ids, Timestamp } from "@polar-events/core"
import { Either } from "effect"
import type * as Duration from "effect/Duration"
import * as ClientError from "../ClientError.js"

/** @internal */
export const INGEST = "/v1/events/ingest"

/**
 * One event ready to send: its wire JSON (with `external_id` set) and the
 * JSON's size in bytes. @internal
 */
export interface PreparedEvent {
  readonly externalId: string
  readonly json: string
  readonly bytes: number
}

/** A `PreparedEvent` whose size is measured when first asked for (the `Ingester` never asks). */
class Prepared implements PreparedEvent {
  private size = -1
  constructor(readonly externalId: string, readonly json: string) {}
  get bytes(): number {
    if (this.size < 0) this.size = Buffer.byteLength(this.json)
    return this.size
  }
}

/** @internal */
export interface PrepareOptions {
  readonly now?: Date | undefined
  readonly clockSkew?: Duration.DurationInput | undefined
  /** give an event without a timestamp the time of preparation */
  readonly stampTimestamp?: boolean | undefined
  /** make the external_id of an event that has none (default: a UUID v7) */
  readonly makeExternalId?: ((now: number) => string) | undefined
}

/** The wire object of a validated domain event, with its external_id. @internal */
export const toWire = (
  e: EventCreate.EventCreate,
  externalId: string,
  stamp: string | undefined,
  metadata: unknown = e.metadata
): Record<string, unknown> => {
  const w: Record<string, unknown> = { name: e.name, external_id: externalId }
  if (e.timestamp !== undefined) w.timestamp = Timestamp.format(e.timestamp)
  else if (stamp !== undefined) w.timestamp = stamp
  if (EventCreate.isCustomer(e)) {
    w.customer_id = e.customerId
    if (e.memberId !== undefined) w.member_id = e.memberId
  } else {
    w.external_customer_id = e.externalCustomerId
    if (e.externalMemberId !== undefined) w.external_member_id = e.externalMemberId
  }
  if (e.organizationId !== undefined) w.organization_id = e.organizationId
  if (e.parentId !== undefined) w.parent_id = e.parentId
  if (metadata !== undefined) w.metadata = metadata
  return w
}

let dateMs = -1
let date = new Date(0)

/** The current time, one `Date` per millisecond (validation only reads it). */
const currentDate = (): Date => {
  const ms = Date.now()
  if (ms !== dateMs) {
    dateMs = ms
    date = new Date(ms)
  }
  return date
}

let stampMs = -1
let stampText = ""

/** Polar's text for a time in epoch ms, cached for the current millisecond. */
const stampOf = (ms: number): string => {
  if (ms !== stampMs) {
    stampMs = ms
    stampText = Timestamp.formatEpochMicros(ms * 1000)
  }
  return stampText
}

/**
 * Validates events with core's rules and turns each into a `PreparedEvent`,
 * giving every event without an `external_id` a fresh UUID v7. @internal
 */
export const prepare = (
  events: ReadonlyArray<EventCreate.MakeInput>,
  options: PrepareOptions = {}
): Either.Either<Array<PreparedEvent>, ClientError.ValidationFailed> => {
  const now = options.now ?? currentDate()
  const valid = EventCreate.validateEvents(events, { now, clockSkew: options.clockSkew, reuse: true })
  if (Either.isLeft(valid)) {
    return Either.left(
      new ClientError.ValidationFailed({
        method: "POST",
        endpoint: INGEST,
        origin: "client",
        detail: valid.left.detail
      })
    )
  }
  const ms = now.getTime()
  const stamp = options.stampTimestamp === true ? stampOf(ms) : undefined
  const makeId = options.makeExternalId ?? Ids.makeUuidV7
  const list = valid.right
  const out: Array<PreparedEvent> = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!
    const externalId = e.externalId ?? makeId(ms)
    // the caller's metadata object, which validation found equal to its checked copy: JSON.stringify is much
    // faster on the object as built than on the copy
    const json = JSON.stringify(toWire(e, externalId, stamp, (events[i] as { metadata?: unknown }).metadata))
    out[i] = new Prepared(externalId, json)
  }
  return Either.right(out)
}
