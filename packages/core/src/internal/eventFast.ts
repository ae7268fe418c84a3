/**
 * The hand-written fast path of `Event`: checks and converts a wire event (or
 * a domain event, to encode it) in one pass, with the same result as the
 * structural schema. It answers `undefined` whenever it is not sure; the
 * caller then runs the structural schema, which also produces the error.
 */
import type { SchemaAST as AST } from "effect"
import { Customer } from "../Customer.js"
import { EventMetadataOutput } from "../EventMetadata.js"
import * as Ids from "../Ids.js"
import * as SystemEvent from "../SystemEvent.js"
import { format, parse } from "../Timestamp.js"
import { type Check, compile, FAIL, isPlainObject } from "./eventCompile.js"

const hasOwn = Object.prototype.hasOwnProperty

/** Effect's `Schema.UUID` pattern (`8-4-4-4-12` hex digits, any case). */
const isUuid = (u: unknown): u is string => typeof u === "string" && Ids.isUuid(u)

/** The organization id last seen valid (a page of events nearly always has one); starts as a valid UUID. */
let lastOrganizationId = "00000000-0000-0000-0000-000000000000"

const isOrganizationId = (u: unknown): u is string => {
  if (u === lastOrganizationId) return true
  if (!isUuid(u)) return false
  lastOrganizationId = u
  return true
}

const metadataAst = (name: SystemEvent.Name): AST.AST => SystemEvent.variants[name].fields.metadata.ast

const GENERIC_METADATA = SystemEvent.GenericSystemEvent.fields.metadata.ast

/** Compiled metadata checks, one per direction. */
const makeChecks = (isDecoding: boolean) => ({
  user: compile(EventMetadataOutput.ast, isDecoding),
  generic: compile(GENERIC_METADATA, isDecoding),
  system: new Map<string, Check>(SystemEvent.names.map((name) => [name, compile(metadataAst(name), isDecoding)])),
  customer: compile(Customer.ast, isDecoding)
})

let decodeChecks: ReturnType<typeof makeChecks> | undefined
let encodeChecks: ReturnType<typeof makeChecks> | undefined

/**
 * Decodes a wire event, or answers `undefined` (then the structural schema
 * decides). The result equals the structural schema's.
 */
export const decodeEvent = (u: unknown): unknown => {
  const checks = decodeChecks ??= makeChecks(true)
  if (!isPlainObject(u)) return undefined
  const id = u.id
  if (!isUuid(id)) return undefined
  const ts = u.timestamp
  if (typeof ts !== "string") return undefined
  const timestamp = parse(ts)
  if (!(timestamp instanceof Date)) return undefined
  const organizationId = u.organization_id
  if (!isOrganizationId(organizationId)) return undefined
  const customerId = u.customer_id
  if (customerId !== null && !isUuid(customerId)) return undefined
  let customer = u.customer
  if (customer !== null) {
    customer = checks.customer(customer)
    if (customer === FAIL) return undefined
  }
  const externalCustomerId = u.external_customer_id
  if (externalCustomerId !== null && typeof externalCustomerId !== "string") return undefined
  const label = u.label
  if (typeof label !== "string") return undefined
  const name = u.name
  if (typeof name !== "string") return undefined
  const source = u.source
  let meta: Check
  if (source === "user") meta = checks.user
  else if (source === "system") meta = checks.system.get(name) ?? checks.generic
  else return undefined
  const metadata = meta(u.metadata)
  if (metadata === FAIL) return undefined

  const memberId = u.member_id
  if (memberId === undefined ? hasOwn.call(u, "member_id") : memberId !== null && !isUuid(memberId)) return undefined
  const externalMemberId = u.external_member_id
  if (
    externalMemberId === undefined
      ? hasOwn.call(u, "external_member_id")
      : externalMemberId !== null && typeof externalMemberId !== "string"
  ) return undefined
  const childCount = u.child_count
  if (
    childCount === undefined
      ? hasOwn.call(u, "child_count")
      : typeof childCount !== "number" || !Number.isSafeInteger(childCount)
  ) return undefined
  const parentId = u.parent_id
  if (parentId === undefined ? hasOwn.call(u, "parent_id") : parentId !== null && !isUuid(parentId)) return undefined

  if (memberId !== undefined && externalMemberId !== undefined && childCount !== undefined && parentId !== undefined) {
    return {
      id,
      timestamp,
      organizationId,
      customerId,
      customer,
      externalCustomerId,
      memberId,
      externalMemberId,
      childCount,
      parentId,
      label,
      name,
      source,
      metadata
    }
  }
  const out: Record<string, unknown> = { id, timestamp, organizationId, customerId, customer, externalCustomerId }
  if (memberId !== undefined) out.memberId = memberId
  if (externalMemberId !== undefined) out.externalMemberId = externalMemberId
  if (childCount !== undefined) out.childCount = childCount
  if (parentId !== undefined) out.parentId = parentId
  out.label = label
  out.name = name
  out.source = source
  out.metadata = metadata
  return out
}

/**
 * Encodes a domain event to wire JSON, or answers `undefined` (then the
 * structural schema decides). The result equals the structural schema's.
 */
export const encodeEvent = (u: unknown): unknown => {
  const checks = encodeChecks ??= makeChecks(false)
  if (!isPlainObject(u)) return undefined
  const id = u.id
  if (!isUuid(id)) return undefined
  const ts = u.timestamp
  if (!(ts instanceof Date) || Number.isNaN(ts.getTime())) return undefined
  const organizationId = u.organizationId
  if (!isOrganizationId(organizationId)) return undefined
  const customerId = u.customerId
  if (customerId !== null && !isUuid(customerId)) return undefined
  let customer = u.customer
  if (customer !== null) {
    customer = checks.customer(customer)
    if (customer === FAIL) return undefined
  }
  const externalCustomerId = u.externalCustomerId
  if (externalCustomerId !== null && typeof externalCustomerId !== "string") return undefined
  const label = u.label
  if (typeof label !== "string") return undefined
  const name = u.name
  if (typeof name !== "string") return undefined
  const source = u.source
  let meta: Check
  if (source === "user") meta = checks.user
  else if (source === "system") meta = checks.system.get(name) ?? checks.generic
  else return undefined
  const metadata = meta(u.metadata)
  if (metadata === FAIL) return undefined

  const out: Record<string, unknown> = {
    id,
    timestamp: format(ts),
    organization_id: organizationId,
    customer_id: customerId,
    customer,
    external_customer_id: externalCustomerId
  }
  const memberId = u.memberId
  if (memberId !== undefined) {
    if (memberId !== null && !isUuid(memberId)) return undefined
    out.member_id = memberId
  } else if (hasOwn.call(u, "memberId")) return undefined
  const externalMemberId = u.externalMemberId
  if (externalMemberId !== undefined) {
    if (externalMemberId !== null && typeof externalMemberId !== "string") return undefined
    out.external_member_id = externalMemberId
  } else if (hasOwn.call(u, "externalMemberId")) return undefined
  const childCount = u.childCount
  if (childCount !== undefined) {
    if (typeof childCount !== "number" || !Number.isSafeInteger(childCount)) return undefined
    out.child_count = childCount
  } else if (hasOwn.call(u, "childCount")) return undefined
  const parentId = u.parentId
  if (parentId !== undefined) {
    if (parentId !== null && !isUuid(parentId)) return undefined
    out.parent_id = parentId
  } else if (hasOwn.call(u, "parentId")) return undefined
  out.label = label
  out.name = name
  out.source = source
  out.metadata = metadata
  return out
}
