/**
 * Events Polar creates itself (`source: "system"`): one schema per name in
 * Polar's spec, each with its own metadata, plus `GenericSystemEvent` for a
 * name this library does not know yet, so that a new name on Polar's side
 * never fails a list (the official SDK does, polar issue #10173).
 *
 * Metadata keys keep their wire spelling. Metadata objects are open: keys
 * Polar adds later are kept as they are.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { openEnum } from "./internal/openEnum.js"
import { openStruct } from "./internal/eventBase.js"
import { baseFields, systemEvent } from "./internal/eventFields.js"

const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const NullableString = Schema.NullOr(Schema.String)

// ---------------------------------------------------------------------------
// metadata
// ---------------------------------------------------------------------------

/** The kinds of benefit Polar grants (`BenefitType`); a kind added later decodes as its string. @since 0.1.0 */
export const BenefitType = openEnum(
  "custom",
  "discord",
  "github_repository",
  "downloadables",
  "license_keys",
  "meter_credit",
  "feature_flag",
  "slack_shared_channel"
).annotations({ identifier: "BenefitType" })
/** @since 0.1.0 */
export type BenefitType = typeof BenefitType.Type

/** How a subscription change is billed (`SubscriptionProrationBehavior`). @since 0.1.0 */
export const SubscriptionProrationBehavior = openEnum("invoice", "prorate", "next_period", "reset")
  .annotations({ identifier: "SubscriptionProrationBehavior" })
/** @since 0.1.0 */
export type SubscriptionProrationBehavior = typeof SubscriptionProrationBehavior.Type

/** `meter.credited`: units added to a customer meter. @since 0.1.0 */
export const MeterCreditedMetadata = openStruct({
  meter_id: Schema.String,
  units: Schema.Int,
  rollover: Schema.Boolean
}).annotations({ identifier: "MeterCreditedMetadata" })
/** @since 0.1.0 */
export interface MeterCreditedMetadata extends Schema.Schema.Type<typeof MeterCreditedMetadata> {}

/** `meter.reset`: the meter that was reset. @since 0.1.0 */
export const MeterResetMetadata = openStruct({
  meter_id: Schema.String
}).annotations({ identifier: "MeterResetMetadata" })
/** @since 0.1.0 */
export interface MeterResetMetadata extends Schema.Schema.Type<typeof MeterResetMetadata> {}

/** `benefit.*`: the benefit grant an event is about. @since 0.1.0 */
export const BenefitGrantMetadata = openStruct({
  benefit_id: Schema.String,
  benefit_grant_id: Schema.String,
  benefit_type: BenefitType,
  member_id: opt(Schema.String)
}).annotations({ identifier: "BenefitGrantMetadata" })
/** @since 0.1.0 */
export interface BenefitGrantMetadata extends Schema.Schema.Type<typeof BenefitGrantMetadata> {}

/** `subscription.created`. @since 0.1.0 */
export const SubscriptionCreatedMetadata = openStruct({
  subscription_id: Schema.String,
  product_id: Schema.String,
  amount: Schema.Int,
  currency: Schema.String,
  recurring_interval: Schema.String,
  recurring_interval_count: Schema.Int,
  started_at: Schema.String
}).annotations({ identifier: "SubscriptionCreatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionCreatedMetadata extends Schema.Schema.Type<typeof SubscriptionCreatedMetadata> {}

/** `subscription.updated`: only the fields that changed. @since 0.1.0 */
export const SubscriptionUpdatedMetadata = openStruct({
  product_id: opt(Schema.String),
  proration_behavior: opt(SubscriptionProrationBehavior),
  discount_id: opt(NullableString),
  trial_end: opt(Schema.String),
  seats: opt(Schema.Int),
  billing_period_end: opt(Schema.String),
  subscription_id: Schema.String
}).annotations({ identifier: "SubscriptionUpdatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionUpdatedMetadata extends Schema.Schema.Type<typeof SubscriptionUpdatedMetadata> {}

const subscriptionStateFields = {
  subscription_id: Schema.String,
  product_id: opt(Schema.String),
  amount: opt(Schema.Int),
  currency: opt(Schema.String),
  recurring_interval: opt(Schema.String),
  recurring_interval_count: opt(Schema.Int)
}

/** `subscription.cycled`. @since 0.1.0 */
export const SubscriptionCycledMetadata = openStruct(subscriptionStateFields)
  .annotations({ identifier: "SubscriptionCycledMetadata" })
/** @since 0.1.0 */
export interface SubscriptionCycledMetadata extends Schema.Schema.Type<typeof SubscriptionCycledMetadata> {}

/** `subscription.canceled`. @since 0.1.0 */
export const SubscriptionCanceledMetadata = openStruct({
  subscription_id: Schema.String,
  product_id: opt(Schema.String),
  amount: Schema.Int,
  currency: Schema.String,
  recurring_interval: Schema.String,
  recurring_interval_count: Schema.Int,
  customer_cancellation_reason: opt(Schema.String),
  customer_cancellation_comment: opt(Schema.String),
  canceled_at: Schema.String,
  ends_at: opt(Schema.String),
  cancel_at_period_end: opt(Schema.Boolean)
}).annotations({ identifier: "SubscriptionCanceledMetadata" })
/** @since 0.1.0 */
export interface SubscriptionCanceledMetadata extends Schema.Schema.Type<typeof SubscriptionCanceledMetadata> {}

/** `subscription.revoked`. @since 0.1.0 */
export const SubscriptionRevokedMetadata = openStruct(subscriptionStateFields)
  .annotations({ identifier: "SubscriptionRevokedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionRevokedMetadata extends Schema.Schema.Type<typeof SubscriptionRevokedMetadata> {}

/** `subscription.past_due`. @since 0.1.0 */
export const SubscriptionPastDueMetadata = openStruct({
  subscription_id: Schema.String,
  product_id: opt(Schema.String),
  past_due_at: Schema.String,
  amount: opt(Schema.Int),
  currency: opt(Schema.String),
  recurring_interval: opt(Schema.String),
  recurring_interval_count: opt(Schema.Int)
}).annotations({ identifier: "SubscriptionPastDueMetadata" })
/** @since 0.1.0 */
export interface SubscriptionPastDueMetadata extends Schema.Schema.Type<typeof SubscriptionPastDueMetadata> {}

/** `subscription.reactivated`. @since 0.1.0 */
export const SubscriptionReactivatedMetadata = openStruct(subscriptionStateFields)
  .annotations({ identifier: "SubscriptionReactivatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionReactivatedMetadata
  extends Schema.Schema.Type<typeof SubscriptionReactivatedMetadata>
{}

/** `subscription.reinstated`. @since 0.1.0 */
export const SubscriptionReinstatedMetadata = openStruct(subscriptionStateFields)
  .annotations({ identifier: "SubscriptionReinstatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionReinstatedMetadata extends Schema.Schema.Type<typeof SubscriptionReinstatedMetadata> {}

/** `subscription.paused`. @since 0.1.0 */
export const SubscriptionPausedMetadata = openStruct({
  ...subscriptionStateFields,
  paused_at: Schema.String,
  resumes_at: opt(Schema.String)
}).annotations({ identifier: "SubscriptionPausedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionPausedMetadata extends Schema.Schema.Type<typeof SubscriptionPausedMetadata> {}

/** `subscription.resumed`. @since 0.1.0 */
export const SubscriptionResumedMetadata = openStruct(subscriptionStateFields)
  .annotations({ identifier: "SubscriptionResumedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionResumedMetadata extends Schema.Schema.Type<typeof SubscriptionResumedMetadata> {}

/** `subscription.uncanceled`. @since 0.1.0 */
export const SubscriptionUncanceledMetadata = openStruct({
  subscription_id: Schema.String,
  product_id: Schema.String,
  amount: Schema.Int,
  currency: Schema.String,
  recurring_interval: Schema.String,
  recurring_interval_count: Schema.Int
}).annotations({ identifier: "SubscriptionUncanceledMetadata" })
/** @since 0.1.0 */
export interface SubscriptionUncanceledMetadata extends Schema.Schema.Type<typeof SubscriptionUncanceledMetadata> {}

/** `subscription.product_updated`. @since 0.1.0 */
export const SubscriptionProductUpdatedMetadata = openStruct({
  subscription_id: Schema.String,
  old_product_id: Schema.String,
  new_product_id: Schema.String
}).annotations({ identifier: "SubscriptionProductUpdatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionProductUpdatedMetadata
  extends Schema.Schema.Type<typeof SubscriptionProductUpdatedMetadata>
{}

/** `subscription.seats_updated`. @since 0.1.0 */
export const SubscriptionSeatsUpdatedMetadata = openStruct({
  subscription_id: Schema.String,
  old_seats: Schema.Int,
  new_seats: Schema.Int,
  proration_behavior: Schema.String
}).annotations({ identifier: "SubscriptionSeatsUpdatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionSeatsUpdatedMetadata
  extends Schema.Schema.Type<typeof SubscriptionSeatsUpdatedMetadata>
{}

/** `subscription.billing_period_updated`. @since 0.1.0 */
export const SubscriptionBillingPeriodUpdatedMetadata = openStruct({
  subscription_id: Schema.String,
  old_period_end: Schema.String,
  new_period_end: Schema.String
}).annotations({ identifier: "SubscriptionBillingPeriodUpdatedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionBillingPeriodUpdatedMetadata
  extends Schema.Schema.Type<typeof SubscriptionBillingPeriodUpdatedMetadata>
{}

/** `subscription.update_cleared`. @since 0.1.0 */
export const SubscriptionUpdateClearedMetadata = openStruct({
  subscription_id: Schema.String
}).annotations({ identifier: "SubscriptionUpdateClearedMetadata" })
/** @since 0.1.0 */
export interface SubscriptionUpdateClearedMetadata
  extends Schema.Schema.Type<typeof SubscriptionUpdateClearedMetadata>
{}

/** `order.paid`. @since 0.1.0 */
export const OrderPaidMetadata = openStruct({
  order_id: Schema.String,
  product_id: opt(Schema.String),
  billing_type: opt(Schema.String),
  amount: Schema.Int,
  currency: opt(Schema.String),
  net_amount: opt(Schema.Int),
  tax_amount: opt(Schema.Int),
  applied_balance_amount: opt(Schema.Int),
  discount_amount: opt(Schema.Int),
  discount_id: opt(Schema.String),
  platform_fee: opt(Schema.Int),
  subscription_id: opt(Schema.String),
  recurring_interval: opt(Schema.String),
  recurring_interval_count: opt(Schema.Int)
}).annotations({ identifier: "OrderPaidMetadata" })
/** @since 0.1.0 */
export interface OrderPaidMetadata extends Schema.Schema.Type<typeof OrderPaidMetadata> {}

/** `order.refunded`. @since 0.1.0 */
export const OrderRefundedMetadata = openStruct({
  order_id: Schema.String,
  refunded_amount: Schema.Int,
  currency: Schema.String
}).annotations({ identifier: "OrderRefundedMetadata" })
/** @since 0.1.0 */
export interface OrderRefundedMetadata extends Schema.Schema.Type<typeof OrderRefundedMetadata> {}

const orderAmountFields = {
  order_id: Schema.String,
  amount: Schema.Int,
  currency: Schema.String
}

/** `order.voided`. @since 0.1.0 */
export const OrderVoidedMetadata = openStruct(orderAmountFields).annotations({ identifier: "OrderVoidedMetadata" })
/** @since 0.1.0 */
export interface OrderVoidedMetadata extends Schema.Schema.Type<typeof OrderVoidedMetadata> {}

/** `order.unvoided`. @since 0.1.0 */
export const OrderUnvoidedMetadata = openStruct(orderAmountFields).annotations({ identifier: "OrderUnvoidedMetadata" })
/** @since 0.1.0 */
export interface OrderUnvoidedMetadata extends Schema.Schema.Type<typeof OrderUnvoidedMetadata> {}

/** `checkout.created`. @since 0.1.0 */
export const CheckoutCreatedMetadata = openStruct({
  checkout_id: Schema.String,
  checkout_status: Schema.String,
  product_id: opt(Schema.String)
}).annotations({ identifier: "CheckoutCreatedMetadata" })
/** @since 0.1.0 */
export interface CheckoutCreatedMetadata extends Schema.Schema.Type<typeof CheckoutCreatedMetadata> {}

const customerFields = {
  customer_id: Schema.String,
  customer_email: NullableString,
  customer_name: NullableString,
  customer_external_id: NullableString
}

/** `customer.created`. @since 0.1.0 */
export const CustomerCreatedMetadata = openStruct(customerFields).annotations({ identifier: "CustomerCreatedMetadata" })
/** @since 0.1.0 */
export interface CustomerCreatedMetadata extends Schema.Schema.Type<typeof CustomerCreatedMetadata> {}

/** An address as stored in `customer.updated` (`AddressDict`). @since 0.1.0 */
export const AddressDict = openStruct({
  line1: opt(Schema.String),
  line2: opt(Schema.String),
  postal_code: opt(Schema.String),
  city: opt(Schema.String),
  state: opt(Schema.String),
  country: Schema.String
}).annotations({ identifier: "AddressDict" })
/** @since 0.1.0 */
export interface AddressDict extends Schema.Schema.Type<typeof AddressDict> {}

/** What changed in `customer.updated` (`CustomerUpdatedFields`). @since 0.1.0 */
export const CustomerUpdatedFields = openStruct({
  name: opt(NullableString),
  billing_name: opt(NullableString),
  email: opt(NullableString),
  billing_address: opt(Schema.NullOr(AddressDict)),
  tax_id: opt(NullableString),
  metadata: opt(Schema.NullOr(Schema.Record({
    key: Schema.String,
    value: Schema.Union(Schema.String, Schema.Int, Schema.Boolean)
  })))
}).annotations({ identifier: "CustomerUpdatedFields" })
/** @since 0.1.0 */
export interface CustomerUpdatedFields extends Schema.Schema.Type<typeof CustomerUpdatedFields> {}

/** `customer.updated`. @since 0.1.0 */
export const CustomerUpdatedMetadata = openStruct({
  ...customerFields,
  updated_fields: CustomerUpdatedFields
}).annotations({ identifier: "CustomerUpdatedMetadata" })
/** @since 0.1.0 */
export interface CustomerUpdatedMetadata extends Schema.Schema.Type<typeof CustomerUpdatedMetadata> {}

/** `customer.deleted`. @since 0.1.0 */
export const CustomerDeletedMetadata = openStruct(customerFields).annotations({ identifier: "CustomerDeletedMetadata" })
/** @since 0.1.0 */
export interface CustomerDeletedMetadata extends Schema.Schema.Type<typeof CustomerDeletedMetadata> {}

const taxFields = {
  tax_state: opt(NullableString),
  tax_country: opt(NullableString)
}

/** `balance.order`. @since 0.1.0 */
export const BalanceOrderMetadata = openStruct({
  transaction_id: Schema.String,
  order_id: Schema.String,
  product_id: opt(Schema.String),
  subscription_id: opt(Schema.String),
  amount: Schema.Int,
  net_amount: opt(Schema.Int),
  currency: Schema.String,
  presentment_amount: Schema.Int,
  presentment_currency: Schema.String,
  tax_amount: Schema.Int,
  ...taxFields,
  fee: Schema.Int,
  exchange_rate: opt(Schema.Number)
}).annotations({ identifier: "BalanceOrderMetadata" })
/** @since 0.1.0 */
export interface BalanceOrderMetadata extends Schema.Schema.Type<typeof BalanceOrderMetadata> {}

/** `balance.credit_order`. @since 0.1.0 */
export const BalanceCreditOrderMetadata = openStruct({
  order_id: Schema.String,
  product_id: opt(Schema.String),
  subscription_id: opt(Schema.String),
  amount: Schema.Int,
  currency: Schema.String,
  tax_amount: Schema.Int,
  ...taxFields,
  fee: Schema.Int,
  exchange_rate: opt(Schema.Number)
}).annotations({ identifier: "BalanceCreditOrderMetadata" })
/** @since 0.1.0 */
export interface BalanceCreditOrderMetadata extends Schema.Schema.Type<typeof BalanceCreditOrderMetadata> {}

const balanceReversalFields = {
  order_id: opt(Schema.String),
  order_created_at: opt(Schema.String),
  product_id: opt(Schema.String),
  subscription_id: opt(Schema.String),
  amount: Schema.Int,
  currency: Schema.String,
  presentment_amount: Schema.Int,
  presentment_currency: Schema.String
}

/** `balance.refund` and `balance.refund_reversal`. @since 0.1.0 */
export const BalanceRefundMetadata = openStruct({
  transaction_id: Schema.String,
  refund_id: Schema.String,
  ...balanceReversalFields,
  refundable_amount: opt(Schema.Int),
  tax_amount: Schema.Int,
  ...taxFields,
  fee: Schema.Int,
  exchange_rate: opt(Schema.Number)
}).annotations({ identifier: "BalanceRefundMetadata" })
/** @since 0.1.0 */
export interface BalanceRefundMetadata extends Schema.Schema.Type<typeof BalanceRefundMetadata> {}

/** `balance.dispute` and `balance.dispute_reversal`. @since 0.1.0 */
export const BalanceDisputeMetadata = openStruct({
  transaction_id: Schema.String,
  dispute_id: Schema.String,
  ...balanceReversalFields,
  tax_amount: Schema.Int,
  ...taxFields,
  fee: Schema.Int,
  exchange_rate: opt(Schema.Number)
}).annotations({ identifier: "BalanceDisputeMetadata" })
/** @since 0.1.0 */
export interface BalanceDisputeMetadata extends Schema.Schema.Type<typeof BalanceDisputeMetadata> {}

// ---------------------------------------------------------------------------
// events
// ---------------------------------------------------------------------------

const describe = <S extends Schema.Schema.Any>(schema: S, identifier: string, description: string) =>
  schema.annotations({ identifier, description }) as S

/** `meter.credited`. @since 0.1.0 */
export const MeterCreditEvent = describe(
  systemEvent("meter.credited", MeterCreditedMetadata),
  "MeterCreditEvent",
  "An event created by Polar when credits are added to a customer meter."
)
/** @since 0.1.0 */
export interface MeterCreditEvent extends Schema.Schema.Type<typeof MeterCreditEvent> {}

/** `meter.reset`. @since 0.1.0 */
export const MeterResetEvent = describe(
  systemEvent("meter.reset", MeterResetMetadata),
  "MeterResetEvent",
  "An event created by Polar when a customer meter is reset."
)
/** @since 0.1.0 */
export interface MeterResetEvent extends Schema.Schema.Type<typeof MeterResetEvent> {}

/** `benefit.granted`. @since 0.1.0 */
export const BenefitGrantedEvent = describe(
  systemEvent("benefit.granted", BenefitGrantMetadata),
  "BenefitGrantedEvent",
  "An event created by Polar when a benefit is granted to a customer."
)
/** @since 0.1.0 */
export interface BenefitGrantedEvent extends Schema.Schema.Type<typeof BenefitGrantedEvent> {}

/** `benefit.cycled`. @since 0.1.0 */
export const BenefitCycledEvent = describe(
  systemEvent("benefit.cycled", BenefitGrantMetadata),
  "BenefitCycledEvent",
  "An event created by Polar when a benefit is cycled."
)
/** @since 0.1.0 */
export interface BenefitCycledEvent extends Schema.Schema.Type<typeof BenefitCycledEvent> {}

/** `benefit.updated`. @since 0.1.0 */
export const BenefitUpdatedEvent = describe(
  systemEvent("benefit.updated", BenefitGrantMetadata),
  "BenefitUpdatedEvent",
  "An event created by Polar when a benefit is updated."
)
/** @since 0.1.0 */
export interface BenefitUpdatedEvent extends Schema.Schema.Type<typeof BenefitUpdatedEvent> {}

/** `benefit.revoked`. @since 0.1.0 */
export const BenefitRevokedEvent = describe(
  systemEvent("benefit.revoked", BenefitGrantMetadata),
  "BenefitRevokedEvent",
  "An event created by Polar when a benefit is revoked from a customer."
)
/** @since 0.1.0 */
export interface BenefitRevokedEvent extends Schema.Schema.Type<typeof BenefitRevokedEvent> {}

/** `subscription.created`. @since 0.1.0 */
export const SubscriptionCreatedEvent = describe(
  systemEvent("subscription.created", SubscriptionCreatedMetadata),
  "SubscriptionCreatedEvent",
  "An event created by Polar when a subscription is created."
)
/** @since 0.1.0 */
export interface SubscriptionCreatedEvent extends Schema.Schema.Type<typeof SubscriptionCreatedEvent> {}

/** `subscription.updated`. @since 0.1.0 */
export const SubscriptionUpdatedEvent = describe(
  systemEvent("subscription.updated", SubscriptionUpdatedMetadata),
  "SubscriptionUpdatedEvent",
  "An event created by Polar when a subscription is updated."
)
/** @since 0.1.0 */
export interface SubscriptionUpdatedEvent extends Schema.Schema.Type<typeof SubscriptionUpdatedEvent> {}

/** `subscription.cycled`. @since 0.1.0 */
export const SubscriptionCycledEvent = describe(
  systemEvent("subscription.cycled", SubscriptionCycledMetadata),
  "SubscriptionCycledEvent",
  "An event created by Polar when a subscription is cycled."
)
/** @since 0.1.0 */
export interface SubscriptionCycledEvent extends Schema.Schema.Type<typeof SubscriptionCycledEvent> {}

/** `subscription.canceled`. @since 0.1.0 */
export const SubscriptionCanceledEvent = describe(
  systemEvent("subscription.canceled", SubscriptionCanceledMetadata),
  "SubscriptionCanceledEvent",
  "An event created by Polar when a subscription is canceled."
)
/** @since 0.1.0 */
export interface SubscriptionCanceledEvent extends Schema.Schema.Type<typeof SubscriptionCanceledEvent> {}

/** `subscription.revoked`. @since 0.1.0 */
export const SubscriptionRevokedEvent = describe(
  systemEvent("subscription.revoked", SubscriptionRevokedMetadata),
  "SubscriptionRevokedEvent",
  "An event created by Polar when a subscription is revoked from a customer."
)
/** @since 0.1.0 */
export interface SubscriptionRevokedEvent extends Schema.Schema.Type<typeof SubscriptionRevokedEvent> {}

/** `subscription.past_due`. @since 0.1.0 */
export const SubscriptionPastDueEvent = describe(
  systemEvent("subscription.past_due", SubscriptionPastDueMetadata),
  "SubscriptionPastDueEvent",
  "An event created by Polar when a subscription becomes past due."
)
/** @since 0.1.0 */
export interface SubscriptionPastDueEvent extends Schema.Schema.Type<typeof SubscriptionPastDueEvent> {}

/** `subscription.reactivated`. @since 0.1.0 */
export const SubscriptionReactivatedEvent = describe(
  systemEvent("subscription.reactivated", SubscriptionReactivatedMetadata),
  "SubscriptionReactivatedEvent",
  "An event created by Polar when a past due subscription is recovered."
)
/** @since 0.1.0 */
export interface SubscriptionReactivatedEvent extends Schema.Schema.Type<typeof SubscriptionReactivatedEvent> {}

/** `subscription.reinstated`. @since 0.1.0 */
export const SubscriptionReinstatedEvent = describe(
  systemEvent("subscription.reinstated", SubscriptionReinstatedMetadata),
  "SubscriptionReinstatedEvent",
  "An event created by Polar when a canceled subscription is reinstated."
)
/** @since 0.1.0 */
export interface SubscriptionReinstatedEvent extends Schema.Schema.Type<typeof SubscriptionReinstatedEvent> {}

/** `subscription.paused`. @since 0.1.0 */
export const SubscriptionPausedEvent = describe(
  systemEvent("subscription.paused", SubscriptionPausedMetadata),
  "SubscriptionPausedEvent",
  "An event created by Polar when a subscription is paused."
)
/** @since 0.1.0 */
export interface SubscriptionPausedEvent extends Schema.Schema.Type<typeof SubscriptionPausedEvent> {}

/** `subscription.resumed`. @since 0.1.0 */
export const SubscriptionResumedEvent = describe(
  systemEvent("subscription.resumed", SubscriptionResumedMetadata),
  "SubscriptionResumedEvent",
  "An event created by Polar when a paused subscription is resumed."
)
/** @since 0.1.0 */
export interface SubscriptionResumedEvent extends Schema.Schema.Type<typeof SubscriptionResumedEvent> {}

/** `subscription.uncanceled`. @since 0.1.0 */
export const SubscriptionUncanceledEvent = describe(
  systemEvent("subscription.uncanceled", SubscriptionUncanceledMetadata),
  "SubscriptionUncanceledEvent",
  "An event created by Polar when a subscription cancellation is reversed."
)
/** @since 0.1.0 */
export interface SubscriptionUncanceledEvent extends Schema.Schema.Type<typeof SubscriptionUncanceledEvent> {}

/** `subscription.product_updated`. @since 0.1.0 */
export const SubscriptionProductUpdatedEvent = describe(
  systemEvent("subscription.product_updated", SubscriptionProductUpdatedMetadata),
  "SubscriptionProductUpdatedEvent",
  "An event created by Polar when a subscription changes the product."
)
/** @since 0.1.0 */
export interface SubscriptionProductUpdatedEvent extends Schema.Schema.Type<typeof SubscriptionProductUpdatedEvent> {}

/** `subscription.seats_updated`. @since 0.1.0 */
export const SubscriptionSeatsUpdatedEvent = describe(
  systemEvent("subscription.seats_updated", SubscriptionSeatsUpdatedMetadata),
  "SubscriptionSeatsUpdatedEvent",
  "An event created by Polar when the seats on a subscription change."
)
/** @since 0.1.0 */
export interface SubscriptionSeatsUpdatedEvent extends Schema.Schema.Type<typeof SubscriptionSeatsUpdatedEvent> {}

/** `subscription.billing_period_updated`. @since 0.1.0 */
export const SubscriptionBillingPeriodUpdatedEvent = describe(
  systemEvent("subscription.billing_period_updated", SubscriptionBillingPeriodUpdatedMetadata),
  "SubscriptionBillingPeriodUpdatedEvent",
  "An event created by Polar when a subscription billing period is updated."
)
/** @since 0.1.0 */
export interface SubscriptionBillingPeriodUpdatedEvent
  extends Schema.Schema.Type<typeof SubscriptionBillingPeriodUpdatedEvent>
{}

/** `subscription.update_cleared`. @since 0.1.0 */
export const SubscriptionUpdateClearedEvent = describe(
  systemEvent("subscription.update_cleared", SubscriptionUpdateClearedMetadata),
  "SubscriptionUpdateClearedEvent",
  "An event created by Polar when a pending subscription update is cleared without being applied."
)
/** @since 0.1.0 */
export interface SubscriptionUpdateClearedEvent extends Schema.Schema.Type<typeof SubscriptionUpdateClearedEvent> {}

/** `order.paid`. @since 0.1.0 */
export const OrderPaidEvent = describe(
  systemEvent("order.paid", OrderPaidMetadata),
  "OrderPaidEvent",
  "An event created by Polar when an order is paid."
)
/** @since 0.1.0 */
export interface OrderPaidEvent extends Schema.Schema.Type<typeof OrderPaidEvent> {}

/** `order.refunded`. @since 0.1.0 */
export const OrderRefundedEvent = describe(
  systemEvent("order.refunded", OrderRefundedMetadata),
  "OrderRefundedEvent",
  "An event created by Polar when an order is refunded."
)
/** @since 0.1.0 */
export interface OrderRefundedEvent extends Schema.Schema.Type<typeof OrderRefundedEvent> {}

/** `order.voided`. @since 0.1.0 */
export const OrderVoidedEvent = describe(
  systemEvent("order.voided", OrderVoidedMetadata),
  "OrderVoidedEvent",
  "An event created by Polar when an order is voided."
)
/** @since 0.1.0 */
export interface OrderVoidedEvent extends Schema.Schema.Type<typeof OrderVoidedEvent> {}

/** `order.unvoided`. @since 0.1.0 */
export const OrderUnvoidedEvent = describe(
  systemEvent("order.unvoided", OrderUnvoidedMetadata),
  "OrderUnvoidedEvent",
  "An event created by Polar when an order is unvoided."
)
/** @since 0.1.0 */
export interface OrderUnvoidedEvent extends Schema.Schema.Type<typeof OrderUnvoidedEvent> {}

/** `checkout.created`. @since 0.1.0 */
export const CheckoutCreatedEvent = describe(
  systemEvent("checkout.created", CheckoutCreatedMetadata),
  "CheckoutCreatedEvent",
  "An event created by Polar when a checkout is created."
)
/** @since 0.1.0 */
export interface CheckoutCreatedEvent extends Schema.Schema.Type<typeof CheckoutCreatedEvent> {}

/** `customer.created`. @since 0.1.0 */
export const CustomerCreatedEvent = describe(
  systemEvent("customer.created", CustomerCreatedMetadata),
  "CustomerCreatedEvent",
  "An event created by Polar when a customer is created."
)
/** @since 0.1.0 */
export interface CustomerCreatedEvent extends Schema.Schema.Type<typeof CustomerCreatedEvent> {}

/** `customer.updated`. @since 0.1.0 */
export const CustomerUpdatedEvent = describe(
  systemEvent("customer.updated", CustomerUpdatedMetadata),
  "CustomerUpdatedEvent",
  "An event created by Polar when a customer is updated."
)
/** @since 0.1.0 */
export interface CustomerUpdatedEvent extends Schema.Schema.Type<typeof CustomerUpdatedEvent> {}

/** `customer.deleted`. @since 0.1.0 */
export const CustomerDeletedEvent = describe(
  systemEvent("customer.deleted", CustomerDeletedMetadata),
  "CustomerDeletedEvent",
  "An event created by Polar when a customer is deleted."
)
/** @since 0.1.0 */
export interface CustomerDeletedEvent extends Schema.Schema.Type<typeof CustomerDeletedEvent> {}

/** `balance.order`. @since 0.1.0 */
export const BalanceOrderEvent = describe(
  systemEvent("balance.order", BalanceOrderMetadata),
  "BalanceOrderEvent",
  "An event created by Polar when an order is paid."
)
/** @since 0.1.0 */
export interface BalanceOrderEvent extends Schema.Schema.Type<typeof BalanceOrderEvent> {}

/** `balance.credit_order`. @since 0.1.0 */
export const BalanceCreditOrderEvent = describe(
  systemEvent("balance.credit_order", BalanceCreditOrderMetadata),
  "BalanceCreditOrderEvent",
  "An event created by Polar when an order is paid via customer balance."
)
/** @since 0.1.0 */
export interface BalanceCreditOrderEvent extends Schema.Schema.Type<typeof BalanceCreditOrderEvent> {}

/** `balance.refund`. @since 0.1.0 */
export const BalanceRefundEvent = describe(
  systemEvent("balance.refund", BalanceRefundMetadata),
  "BalanceRefundEvent",
  "An event created by Polar when an order is refunded."
)
/** @since 0.1.0 */
export interface BalanceRefundEvent extends Schema.Schema.Type<typeof BalanceRefundEvent> {}

/** `balance.refund_reversal`. @since 0.1.0 */
export const BalanceRefundReversalEvent = describe(
  systemEvent("balance.refund_reversal", BalanceRefundMetadata),
  "BalanceRefundReversalEvent",
  "An event created by Polar when a refund is reverted."
)
/** @since 0.1.0 */
export interface BalanceRefundReversalEvent extends Schema.Schema.Type<typeof BalanceRefundReversalEvent> {}

/** `balance.dispute`. @since 0.1.0 */
export const BalanceDisputeEvent = describe(
  systemEvent("balance.dispute", BalanceDisputeMetadata),
  "BalanceDisputeEvent",
  "An event created by Polar when an order is disputed."
)
/** @since 0.1.0 */
export interface BalanceDisputeEvent extends Schema.Schema.Type<typeof BalanceDisputeEvent> {}

/** `balance.dispute_reversal`. @since 0.1.0 */
export const BalanceDisputeReversalEvent = describe(
  systemEvent("balance.dispute_reversal", BalanceDisputeMetadata),
  "BalanceDisputeReversalEvent",
  "An event created by Polar when a dispute is won and funds are reinstated."
)
/** @since 0.1.0 */
export interface BalanceDisputeReversalEvent extends Schema.Schema.Type<typeof BalanceDisputeReversalEvent> {}

/**
 * The schema of each known system event, by name, in the spec's order.
 *
 * @since 0.1.0
 */
export const variants = {
  "meter.credited": MeterCreditEvent,
  "meter.reset": MeterResetEvent,
  "benefit.granted": BenefitGrantedEvent,
  "benefit.cycled": BenefitCycledEvent,
  "benefit.updated": BenefitUpdatedEvent,
  "benefit.revoked": BenefitRevokedEvent,
  "subscription.created": SubscriptionCreatedEvent,
  "subscription.updated": SubscriptionUpdatedEvent,
  "subscription.cycled": SubscriptionCycledEvent,
  "subscription.canceled": SubscriptionCanceledEvent,
  "subscription.revoked": SubscriptionRevokedEvent,
  "subscription.past_due": SubscriptionPastDueEvent,
  "subscription.reactivated": SubscriptionReactivatedEvent,
  "subscription.reinstated": SubscriptionReinstatedEvent,
  "subscription.paused": SubscriptionPausedEvent,
  "subscription.resumed": SubscriptionResumedEvent,
  "subscription.uncanceled": SubscriptionUncanceledEvent,
  "subscription.product_updated": SubscriptionProductUpdatedEvent,
  "subscription.seats_updated": SubscriptionSeatsUpdatedEvent,
  "subscription.billing_period_updated": SubscriptionBillingPeriodUpdatedEvent,
  "subscription.update_cleared": SubscriptionUpdateClearedEvent,
  "order.paid": OrderPaidEvent,
  "order.refunded": OrderRefundedEvent,
  "order.voided": OrderVoidedEvent,
  "order.unvoided": OrderUnvoidedEvent,
  "checkout.created": CheckoutCreatedEvent,
  "customer.created": CustomerCreatedEvent,
  "customer.updated": CustomerUpdatedEvent,
  "customer.deleted": CustomerDeletedEvent,
  "balance.order": BalanceOrderEvent,
  "balance.credit_order": BalanceCreditOrderEvent,
  "balance.refund": BalanceRefundEvent,
  "balance.refund_reversal": BalanceRefundReversalEvent,
  "balance.dispute": BalanceDisputeEvent,
  "balance.dispute_reversal": BalanceDisputeReversalEvent
} as const

/** A system event name Polar's spec defines. @since 0.1.0 */
export type Name = keyof typeof variants

/** The 35 system event names of Polar's spec. @since 0.1.0 */
export const names: ReadonlyArray<Name> = Object.keys(variants) as Array<Name>

const nameSet: ReadonlySet<string> = new Set(names)

/** True for a system event name Polar's spec defines. @since 0.1.0 */
export const isName = (name: string): name is Name => nameSet.has(name)

/**
 * The label Polar shows for each system event name (`SYSTEM_EVENT_LABELS` on
 * Polar's server).
 *
 * @since 0.1.0
 */
export const labels: { readonly [N in Name]: string } = {
  "meter.credited": "Meter Credited",
  "meter.reset": "Meter Reset",
  "benefit.granted": "Benefit Granted",
  "benefit.cycled": "Benefit Cycled",
  "benefit.updated": "Benefit Updated",
  "benefit.revoked": "Benefit Revoked",
  "subscription.created": "Subscription Created",
  "subscription.updated": "Subscription Updated",
  "subscription.cycled": "Subscription Cycled",
  "subscription.canceled": "Subscription Canceled",
  "subscription.revoked": "Subscription Revoked",
  "subscription.past_due": "Subscription Past Due",
  "subscription.reactivated": "Subscription Reactivated",
  "subscription.reinstated": "Subscription Reinstated",
  "subscription.paused": "Subscription Paused",
  "subscription.resumed": "Subscription Resumed",
  "subscription.uncanceled": "Subscription Uncanceled",
  "subscription.product_updated": "Subscription Product Updated",
  "subscription.seats_updated": "Subscription Seats Updated",
  "subscription.billing_period_updated": "Subscription Billing Period Updated",
  "subscription.update_cleared": "Subscription Update Cleared",
  "order.paid": "Order Paid",
  "order.refunded": "Order Refunded",
  "order.voided": "Order Voided",
  "order.unvoided": "Order Unvoided",
  "checkout.created": "Checkout Created",
  "customer.created": "Customer Created",
  "customer.updated": "Customer Updated",
  "customer.deleted": "Customer Deleted",
  "balance.order": "Balance Order",
  "balance.credit_order": "Balance Credit Order",
  "balance.refund": "Balance Refund",
  "balance.refund_reversal": "Balance Refund Reversal",
  "balance.dispute": "Balance Dispute",
  "balance.dispute_reversal": "Balance Dispute Reversal"
}

/**
 * The label of a system event name; for a name this library does not know,
 * the name itself (what Polar shows for an event type nobody labelled).
 *
 * @since 0.1.0
 */
export const labelFor = (name: string): string => isName(name) ? labels[name] : name

/**
 * A system event name that is not one of `names`.
 *
 * @since 0.1.0
 */
export const UnknownName = Schema.String.pipe(
  Schema.filter((name) => !nameSet.has(name), {
    identifier: "UnknownSystemEventName",
    description: "a system event name this library does not know",
    message: () => "a known system event name must decode to its own schema",
    jsonSchema: { not: { enum: [...names] } }
  })
)

/**
 * A system event whose name this library does not know: decoded instead of
 * failing, its metadata kept as it came.
 *
 * @since 0.1.0
 */
export const GenericSystemEvent = Schema.Struct({
  ...baseFields,
  source: Schema.Literal("system"),
  name: UnknownName,
  metadata: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}).annotations({
  identifier: "GenericSystemEvent",
  description: "A system event with a name this library does not know; its metadata is kept as is."
})
/** @since 0.1.0 */
export interface GenericSystemEvent extends Schema.Schema.Type<typeof GenericSystemEvent> {}

/** Any system event whose name Polar's spec defines. @since 0.1.0 */
export type KnownSystemEvent =
  | MeterCreditEvent
  | MeterResetEvent
  | BenefitGrantedEvent
  | BenefitCycledEvent
  | BenefitUpdatedEvent
  | BenefitRevokedEvent
  | SubscriptionCreatedEvent
  | SubscriptionUpdatedEvent
  | SubscriptionCycledEvent
  | SubscriptionCanceledEvent
  | SubscriptionRevokedEvent
  | SubscriptionPastDueEvent
  | SubscriptionReactivatedEvent
  | SubscriptionReinstatedEvent
  | SubscriptionPausedEvent
  | SubscriptionResumedEvent
  | SubscriptionUncanceledEvent
  | SubscriptionProductUpdatedEvent
  | SubscriptionSeatsUpdatedEvent
  | SubscriptionBillingPeriodUpdatedEvent
  | SubscriptionUpdateClearedEvent
  | OrderPaidEvent
  | OrderRefundedEvent
  | OrderVoidedEvent
  | OrderUnvoidedEvent
  | CheckoutCreatedEvent
  | CustomerCreatedEvent
  | CustomerUpdatedEvent
  | CustomerDeletedEvent
  | BalanceOrderEvent
  | BalanceCreditOrderEvent
  | BalanceRefundEvent
  | BalanceRefundReversalEvent
  | BalanceDisputeEvent
  | BalanceDisputeReversalEvent

/** Any system event: a known one or a generic one. @since 0.1.0 */
export type SystemEvent = KnownSystemEvent | GenericSystemEvent

/** The wire JSON of any system event. @since 0.1.0 */
export type SystemEventEncoded =
  | { readonly [N in Name]: Schema.Schema.Encoded<(typeof variants)[N]> }[Name]
  | Schema.Schema.Encoded<typeof GenericSystemEvent>

/**
 * Any system event, decided by `name`: the known names decode to their own
 * schema (and fail if their metadata is wrong), any other name to
 * `GenericSystemEvent`.
 *
 * @since 0.1.0
 */
export const SystemEvent: Schema.Schema<SystemEvent, SystemEventEncoded> = Schema.Union(
  ...(Object.values(variants) as ReadonlyArray<(typeof variants)[Name]>),
  GenericSystemEvent
).annotations({ identifier: "SystemEvent" })

/** True for a system event whose name Polar's spec defines. @since 0.1.0 */
export const isKnown = (event: SystemEvent): event is KnownSystemEvent => nameSet.has(event.name)
