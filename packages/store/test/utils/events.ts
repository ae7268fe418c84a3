/**
 * Builders for test events: ingest payloads and domain events with chosen
 * ids and timestamps.
 */
import { Event, Timestamp } from "@polar-events/core"
import { Schema } from "effect"
import { randomUUID } from "node:crypto"
import type * as T from "../../src/internal/types.js"

/** A fresh organization id: every test works in its own organization. */
export const newOrg = (): string => randomUUID()

/** Epoch microseconds of an ISO text. */
export const us = (iso: string): number => {
  const r = Timestamp.parseEpochMicros(iso)
  if (typeof r !== "number") throw new Error(`bad timestamp ${iso}`)
  return r
}

/** A Date keeping microseconds. */
export const at = (iso: string): Date => Timestamp.fromEpochMicros(us(iso))

/** A Date `ms` milliseconds ago (whole milliseconds). */
export const ago = (ms: number): Date => Timestamp.fromEpochMicros((Date.now() - ms) * 1000)

/** A user event as it would come from Polar (for `insert`). */
export const userEvent = (
  organizationId: string,
  fields: {
    readonly id?: string
    readonly timestamp?: Date
    readonly name?: string
    readonly customerId?: string | null
    readonly externalCustomerId?: string | null
    readonly metadata?: Record<string, unknown>
    readonly parentId?: string | null
    readonly label?: string
  } = {}
): T.Event => {
  const name = fields.name ?? "api.call"
  const e: Record<string, unknown> = {
    id: fields.id ?? randomUUID(),
    timestamp: fields.timestamp ?? ago(60_000),
    organizationId,
    customerId: fields.customerId ?? null,
    customer: null,
    externalCustomerId: fields.externalCustomerId === undefined ? "customer-1" : fields.externalCustomerId,
    label: fields.label ?? name,
    name,
    source: "user",
    metadata: fields.metadata ?? {}
  }
  if (fields.parentId !== undefined) e.parentId = fields.parentId
  return e as T.Event
}

/** A system event (generic: any name) as it would come from Polar. */
export const systemEvent = (
  organizationId: string,
  fields: { readonly id?: string; readonly timestamp?: Date; readonly name?: string; readonly metadata?: Record<string, unknown> } = {}
): T.Event => {
  const name = fields.name ?? "meter.reset"
  return {
    id: fields.id ?? randomUUID(),
    timestamp: fields.timestamp ?? ago(60_000),
    organizationId,
    customerId: null,
    customer: null,
    externalCustomerId: "customer-1",
    label: name === "meter.reset" ? "Meter Reset" : name,
    name,
    source: "system",
    metadata: fields.metadata ?? { meter_id: "m-1" }
  } as unknown as T.Event
}

const encode = Schema.encodeSync(Event.Event)

/** The wire JSON of an event, for comparing events without caring how a `Date` was made. */
export const wire = (e: T.Event): unknown => JSON.parse(JSON.stringify(encode(e)))

/** Sorts ids the way the store orders events with equal timestamps. */
export const byPosition = (a: T.Event, b: T.Event): number => {
  const x = Timestamp.toEpochMicros(a.timestamp)
  const y = Timestamp.toEpochMicros(b.timestamp)
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
