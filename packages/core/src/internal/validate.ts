import type { EventCreate } from "../EventCreate.js"
import { isUuidV4 } from "../Ids.js"
import { parse, toEpochMicros } from "../Timestamp.js"
import {
  checkString,
  checkUuid4,
  type Errors,
  hasNul,
  isRecord,
  type Loc,
  MSG,
  push
} from "./validateCommon.js"
import { checkMetadata, isPlainMetadata, isPlainObject } from "./validateMetadata.js"

/** @internal */
export const NAME_MAX = 128

/** @internal */
export interface Resolved {
  /** the latest accepted timestamp, epoch microseconds */
  readonly maxMicros: number
  readonly organizationToken: boolean
  readonly forbidExtra: boolean
  /** domain input: a `timestamp` may be a `Date` */
  readonly allowDate: boolean
  /** the caller lets the result share plain valid metadata with the input */
  readonly reuse: boolean
}

const COMMON_KEYS = ["timestamp", "name", "organization_id", "external_id", "parent_id", "metadata"]
const CUSTOMER_KEYS = new Set([...COMMON_KEYS, "customer_id", "member_id"])
const EXTERNAL_KEYS = new Set([...COMMON_KEYS, "external_customer_id", "external_member_id"])

const okString = (u: unknown, min: number, max: number): u is string =>
  typeof u === "string" && u.length >= min && u.length <= max && !hasNul(u)

const okOptionalUuid4 = (u: unknown): boolean =>
  u === undefined || u === null || (typeof u === "string" && isUuidV4(u))

const okOptionalNonEmpty = (u: unknown): boolean =>
  u === undefined || u === null || okString(u, 1, Infinity)

/**
 * Validates one wire event (`EventCreateCustomer | EventCreateExternalCustomer`)
 * at `[...prefix, i]` (or at `prefix` when `i` is undefined). Pushes every problem; returns the domain event when
 * there was none.
 *
 * @internal
 */
export const checkEvent = (
  errors: Errors,
  prefix: Loc,
  i: number | undefined,
  raw: unknown,
  o: Resolved
): EventCreate | undefined => {
  if (!isRecord(raw)) {
    push(errors, i === undefined ? prefix : [...prefix, i], "model_attributes_type", MSG.model_attributes_type, raw)
    return undefined
  }
  const at = (key: string): Loc => (i === undefined ? [...prefix, key] : [...prefix, i, key])
  const before = errors.length
  const out: Record<string, unknown> = {}

  const ts = raw.timestamp
  if (ts !== undefined) {
    let date: Date | undefined
    if (typeof ts === "string") {
      const r = parse(ts)
      if (r instanceof Date) date = r
      else push(errors, at("timestamp"), r.type, r.msg, ts)
    } else if (o.allowDate && ts instanceof Date && !Number.isNaN(ts.getTime())) {
      date = ts
    } else {
      push(errors, at("timestamp"), "datetime_type", MSG.datetime_type, ts)
    }
    if (date !== undefined) {
      if (toEpochMicros(date) > o.maxMicros) push(errors, at("timestamp"), "value_error", MSG.future, ts)
      else out.timestamp = date
    }
  }

  const name = raw.name
  if (name === undefined) push(errors, at("name"), "missing", MSG.missing, raw)
  else if (okString(name, 1, NAME_MAX) || checkString(errors, () => at("name"), name, 1, NAME_MAX)) out.name = name

  const org = raw.organization_id
  if (org === null) {
    out.organizationId = null
  } else if (org !== undefined) {
    if (typeof org === "string" && isUuidV4(org)) {
      if (o.organizationToken) push(errors, at("organization_id"), "organization_token", MSG.organization_token, org)
      else out.organizationId = org
    } else {
      checkUuid4(errors, () => at("organization_id"), org)
    }
  }

  const externalId = raw.external_id
  if (externalId === null) out.externalId = null
  else if (externalId !== undefined) {
    if (okString(externalId, 1, Infinity) || checkString(errors, () => at("external_id"), externalId, 1, Infinity)) {
      out.externalId = externalId
    }
  }

  const parentId = raw.parent_id
  if (parentId === null) out.parentId = null
  else if (parentId !== undefined) {
    if (okString(parentId, 0, Infinity) || checkString(errors, () => at("parent_id"), parentId, 0, Infinity)) {
      out.parentId = parentId
    }
  }

  const metadata = raw.metadata
  if (metadata !== undefined) {
    if (o.reuse && isPlainMetadata(metadata)) {
      out.metadata = metadata
    } else {
      const m = checkMetadata(errors, () => at("metadata"), metadata)
      if (m !== undefined) out.metadata = m
    }
  }

  const customerId = raw.customer_id
  const memberId = raw.member_id
  let keys: ReadonlySet<string> | undefined
  if (typeof customerId === "string" && isUuidV4(customerId) && okOptionalUuid4(memberId)) {
    out.customerId = customerId
    if (memberId !== undefined) out.memberId = memberId
    keys = CUSTOMER_KEYS
  } else {
    const externalCustomerId = raw.external_customer_id
    const externalMemberId = raw.external_member_id
    if (okString(externalCustomerId, 1, Infinity) && okOptionalNonEmpty(externalMemberId)) {
      out.externalCustomerId = externalCustomerId
      if (externalMemberId !== undefined) out.externalMemberId = externalMemberId
      keys = EXTERNAL_KEYS
    } else if (customerId !== undefined) {
      checkUuid4(errors, () => at("customer_id"), customerId)
      if (memberId !== undefined && memberId !== null) checkUuid4(errors, () => at("member_id"), memberId)
      keys = CUSTOMER_KEYS
    } else if (externalCustomerId !== undefined) {
      checkString(errors, () => at("external_customer_id"), externalCustomerId, 1, Infinity)
      if (externalMemberId !== undefined && externalMemberId !== null) {
        checkString(errors, () => at("external_member_id"), externalMemberId, 1, Infinity)
      }
      keys = EXTERNAL_KEYS
    } else {
      push(errors, at("customer_id"), "missing", MSG.missing, raw)
      push(errors, at("external_customer_id"), "missing", MSG.missing, raw)
    }
  }

  if (o.forbidExtra && keys !== undefined) {
    for (const key in raw) {
      if (!keys.has(key) && Object.prototype.hasOwnProperty.call(raw, key) && raw[key] !== undefined) {
        push(errors, at(key), "extra_forbidden", MSG.extra_forbidden, raw[key])
      }
    }
  }

  return errors.length === before ? (out as unknown as EventCreate) : undefined
}

/**
 * True when a domain event is, beyond doubt, one that `checkEvent` accepts
 * and copies unchanged (with `allowDate`): a plain object with a `name`, a
 * `Date` `timestamp` no later than `maxMicros`, an `externalId`, exactly one
 * of `customerId` and `externalCustomerId`, and plain `metadata`, each key
 * set. Checked without copying; false for anything else (null, undefined,
 * members, organization or parent ids, text timestamps, wire keys), which
 * then takes the full check.
 *
 * @internal
 */
export const isPlainValid = (raw: unknown, maxMicros: number): boolean => {
  if (!isPlainObject(raw)) return false
  let named = false
  let customers = 0
  for (const key in raw) {
    const v = raw[key]
    switch (key) {
      case "name":
        if (!okString(v, 1, NAME_MAX)) return false
        named = true
        break
      case "timestamp":
        if (!(v instanceof Date) || !(toEpochMicros(v) <= maxMicros)) return false
        break
      case "externalId":
        if (!okString(v, 1, Infinity)) return false
        break
      case "customerId":
        if (typeof v !== "string" || !isUuidV4(v)) return false
        customers++
        break
      case "externalCustomerId":
        if (!okString(v, 1, Infinity)) return false
        customers++
        break
      case "metadata":
        if (!isPlainMetadata(v)) return false
        break
      default:
        return false
    }
  }
  return named && customers === 1
}

/** @internal */
export const checkEvents = (
  errors: Errors,
  prefix: Loc,
  events: ReadonlyArray<unknown>,
  o: Resolved
): Array<EventCreate> => {
  const out: Array<EventCreate> = new Array(events.length)
  for (let i = 0; i < events.length; i++) {
    const e = checkEvent(errors, prefix, i, events[i], o)
    if (e !== undefined) out[i] = e
  }
  return out
}

const BODY: Loc = ["body"]
const BODY_EVENTS: Loc = ["body", "events"]

/**
 * Validates an ingest body `{events: [...]}`.
 *
 * @internal
 */
export const checkBody = (errors: Errors, body: unknown, o: Resolved): Array<EventCreate> => {
  if (!isRecord(body)) {
    push(errors, BODY, "model_attributes_type", MSG.model_attributes_type, body)
    return []
  }
  const events = body.events
  if (events === undefined) {
    push(errors, BODY_EVENTS, "missing", MSG.missing, body)
    return []
  }
  if (!Array.isArray(events)) {
    push(errors, BODY_EVENTS, "list_type", MSG.list_type, events)
    return []
  }
  return checkEvents(errors, BODY_EVENTS, events, o)
}

/** The wire name of each domain key that differs (no prototype: a key like `constructor` is not renamed). */
const TO_WIRE: Readonly<Record<string, string | undefined>> = Object.assign(Object.create(null), {
  organizationId: "organization_id",
  externalId: "external_id",
  parentId: "parent_id",
  customerId: "customer_id",
  memberId: "member_id",
  externalCustomerId: "external_customer_id",
  externalMemberId: "external_member_id"
})

/**
 * Renames the keys of a domain event (camelCase) to the wire's, leaving the
 * values alone (a `Date` timestamp stays a `Date`), so that the wire validator
 * can check it and report wire locations.
 *
 * @internal
 */
export const domainToWireKeys = (e: unknown): unknown => {
  if (!isRecord(e)) return e
  let renamed = false
  for (const key in e) {
    if (TO_WIRE[key] !== undefined && Object.prototype.hasOwnProperty.call(e, key)) {
      renamed = true
      break
    }
  }
  // a wire event (what a server parses) is checked as it is
  if (!renamed) return e
  const out: Record<string, unknown> = {}
  for (const key in e) {
    if (Object.prototype.hasOwnProperty.call(e, key)) out[TO_WIRE[key] ?? key] = e[key]
  }
  return out
}
