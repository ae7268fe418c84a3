/**
 * The customer Polar attaches to an event (`Customer` in the spec): an
 * individual or a team, told apart by `type`.
 *
 * The domain side is camelCase with `Date` timestamps; the wire side is
 * Polar's JSON. Decoding and encoding again gives back the same JSON, null
 * and absent keys included.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { openEnum } from "./internal/openEnum.js"
import * as Ids from "./Ids.js"
import { EventTimestamp, ExternalCustomerIdWire, optionalKey, requiredKey } from "./internal/eventBase.js"

/**
 * An ISO 3166-1 alpha-2 country code, as Polar accepts it in an address.
 *
 * @since 0.1.0
 */
export const Country = openEnum(
  "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
  "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
  "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
  "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
  "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
  "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
  "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
  "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
  "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
  "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
  "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
  "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
  "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
  "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
  "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
  "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"
).annotations({ identifier: "CountryAlpha2", description: "An ISO 3166-1 alpha-2 country code." })
/** @since 0.1.0 */
export type Country = typeof Country.Type

/**
 * A tax id format Polar (through Stripe) knows, e.g. `eu_vat` or `us_ein`.
 *
 * @since 0.1.0
 */
export const TaxIdFormat = openEnum(
  "ad_nrt", "ae_trn", "ar_cuit", "au_abn", "au_arn", "bg_uic", "bh_vat", "bo_tin", "br_cnpj",
  "br_cpf", "ca_bn", "ca_gst_hst", "ca_pst_bc", "ca_pst_mb", "ca_pst_sk", "ca_qst", "ch_uid",
  "ch_vat", "cl_tin", "cn_tin", "co_nit", "cr_tin", "de_stn", "do_rcn", "ec_ruc", "eg_tin",
  "es_cif", "eu_oss_vat", "eu_vat", "gb_vat", "ge_vat", "hk_br", "hr_oib", "hu_tin", "id_npwp",
  "il_vat", "in_gst", "is_vat", "jp_cn", "jp_rn", "jp_trn", "ke_pin", "kr_brn", "kz_bin", "li_uid",
  "mk_vat", "mx_rfc", "my_frp", "my_itn", "my_sst", "ng_tin", "no_vat", "no_voec", "nz_gst",
  "om_vat", "pe_ruc", "ph_tin", "ro_tin", "rs_pib", "ru_inn", "ru_kpp", "sa_vat", "sg_gst",
  "sg_uen", "si_tin", "sv_nit", "th_vat", "tr_tin", "tw_vat", "ua_vat", "us_ein", "uy_ruc",
  "ve_rif", "vn_tin", "za_vat", "mu_tan"
).annotations({ identifier: "TaxIDFormat", description: "List of supported tax ID formats." })
/** @since 0.1.0 */
export type TaxIdFormat = typeof TaxIdFormat.Type

/**
 * A billing address (`Address`): every line optional and nullable, the country required.
 *
 * @since 0.1.0
 */
export const Address = Schema.Struct({
  line1: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  line2: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  postalCode: optionalKey(Schema.NullOr(Schema.String), "postal_code"),
  city: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  state: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  country: Country
}).annotations({ identifier: "Address" })
/** @since 0.1.0 */
export interface Address extends Schema.Schema.Type<typeof Address> {}
/** @since 0.1.0 */
export interface AddressEncoded extends Schema.Schema.Encoded<typeof Address> {}

/**
 * A tax id and its format, e.g. `["FR61954506077", "eu_vat"]`.
 *
 * @since 0.1.0
 */
export const TaxId = Schema.Tuple(Schema.String, TaxIdFormat)
/** @since 0.1.0 */
export type TaxId = typeof TaxId.Type

/**
 * The customer's own metadata (`MetadataOutputType`): flat string, number
 * and boolean values under the keys you gave them.
 *
 * @since 0.1.0
 */
export const CustomerMetadata = Schema.Record({
  key: Schema.String,
  value: Schema.Union(Schema.String, Schema.Int, Schema.Number, Schema.Boolean)
}).annotations({ identifier: "MetadataOutputType" })
/** @since 0.1.0 */
export type CustomerMetadata = typeof CustomerMetadata.Type

const NullableTimestamp = Schema.NullOr(EventTimestamp)

const customerFields = {
  id: Ids.CustomerId,
  createdAt: requiredKey(EventTimestamp, "created_at"),
  modifiedAt: requiredKey(NullableTimestamp, "modified_at"),
  metadata: CustomerMetadata,
  externalId: optionalKey(Schema.NullOr(ExternalCustomerIdWire), "external_id")
}

const customerTail = {
  name: Schema.NullOr(Schema.String),
  billingName: requiredKey(Schema.NullOr(Schema.String), "billing_name"),
  billingAddress: requiredKey(Schema.NullOr(Address), "billing_address"),
  taxId: requiredKey(Schema.NullOr(TaxId), "tax_id"),
  locale: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  organizationId: requiredKey(Ids.OrganizationId, "organization_id"),
  defaultPaymentMethodId: optionalKey(Schema.NullOr(Schema.UUID), "default_payment_method_id"),
  deletedAt: requiredKey(NullableTimestamp, "deleted_at"),
  firstUserEventAt: requiredKey(NullableTimestamp, "first_user_event_at"),
  avatarUrl: requiredKey(Schema.NullOr(Schema.String), "avatar_url")
}

/**
 * A customer who is one person (`CustomerIndividual`).
 *
 * @since 0.1.0
 */
export const CustomerIndividual = Schema.Struct({
  ...customerFields,
  email: Schema.String,
  emailVerified: requiredKey(Schema.Boolean, "email_verified"),
  type: Schema.Literal("individual"),
  ...customerTail
}).annotations({ identifier: "CustomerIndividual", description: "A customer in an organization." })
/** @since 0.1.0 */
export interface CustomerIndividual extends Schema.Schema.Type<typeof CustomerIndividual> {}
/** @since 0.1.0 */
export interface CustomerIndividualEncoded extends Schema.Schema.Encoded<typeof CustomerIndividual> {}

/**
 * A customer that is a team with members (`CustomerTeam`); its email is optional.
 *
 * @since 0.1.0
 */
export const CustomerTeam = Schema.Struct({
  ...customerFields,
  email: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  emailVerified: requiredKey(Schema.Boolean, "email_verified"),
  type: Schema.Literal("team"),
  ...customerTail
}).annotations({ identifier: "CustomerTeam", description: "A team customer in an organization." })
/** @since 0.1.0 */
export interface CustomerTeam extends Schema.Schema.Type<typeof CustomerTeam> {}
/** @since 0.1.0 */
export interface CustomerTeamEncoded extends Schema.Schema.Encoded<typeof CustomerTeam> {}

/**
 * The customer of an event: `CustomerIndividual | CustomerTeam`, by `type`.
 *
 * @since 0.1.0
 */
export const Customer: Schema.Schema<Customer, CustomerEncoded> = Schema.Union(CustomerIndividual, CustomerTeam)
  .annotations({ identifier: "Customer" })
/** @since 0.1.0 */
export type Customer = CustomerIndividual | CustomerTeam
/** @since 0.1.0 */
export type CustomerEncoded = CustomerIndividualEncoded | CustomerTeamEncoded
