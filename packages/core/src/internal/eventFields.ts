import { Schema } from "effect"
import { Customer } from "../Customer.js"
import * as Ids from "../Ids.js"
import { EventTimestamp, ExternalCustomerIdWire, ExternalMemberIdWire, optionalKey, requiredKey } from "./eventBase.js"

/** The fields every event has, user or system, in the spec's order. */
export const baseFields = {
  id: Ids.EventId,
  timestamp: EventTimestamp,
  organizationId: requiredKey(Ids.OrganizationId, "organization_id"),
  customerId: requiredKey(Schema.NullOr(Ids.CustomerId), "customer_id"),
  customer: Schema.NullOr(Customer),
  externalCustomerId: requiredKey(Schema.NullOr(ExternalCustomerIdWire), "external_customer_id"),
  memberId: optionalKey(Schema.NullOr(Ids.MemberId), "member_id"),
  externalMemberId: optionalKey(Schema.NullOr(ExternalMemberIdWire), "external_member_id"),
  childCount: optionalKey(Schema.Int, "child_count"),
  parentId: optionalKey(Schema.NullOr(Ids.EventId), "parent_id"),
  label: Schema.String
}

/** The fields of one system event: the base fields, `source: "system"`, its name and its metadata. */
export const systemEvent = <const N extends string, M extends Schema.Schema<any, any, never>>(
  name: N,
  metadata: M
) =>
  Schema.Struct({
    ...baseFields,
    source: Schema.Literal("system"),
    name: Schema.Literal(name),
    metadata
  })
