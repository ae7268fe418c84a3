/**
 * The credentials the server accepts: bearer tokens, each bound to one
 * organization and to scopes, like Polar's organization access tokens
 * (`polar_oat_…`).
 *
 * Tokens are `Redacted` from the moment they are configured: the server keeps
 * only their SHA-256 digests for lookup, and never logs or echoes them.
 *
 * @since 0.1.0
 */
import { Ids } from "@polar-events/core"
import { Config, ConfigError, Either, Redacted, Schema } from "effect"

/**
 * The scopes of the events API: reads accept either, ingest needs
 * `events:write`.
 *
 * @since 0.1.0
 */
export const Scope = Schema.Literal("events:read", "events:write")

/** @since 0.1.0 */
export type Scope = typeof Scope.Type

/** Every scope of the events API. @since 0.1.0 */
export const allScopes: ReadonlyArray<Scope> = Scope.literals

/**
 * One accepted bearer token: its secret value, the organization it acts for,
 * and its scopes (default: both).
 *
 * @since 0.1.0
 */
export interface AccessToken {
  readonly token: Redacted.Redacted<string>
  readonly organizationId: string
  readonly scopes?: ReadonlyArray<Scope> | undefined
}

/**
 * Builds an `AccessToken`, wrapping a plain string in `Redacted`.
 *
 * @since 0.1.0
 */
export const make = (
  token: string | Redacted.Redacted<string>,
  organizationId: string,
  scopes: ReadonlyArray<Scope> = allScopes
): AccessToken => ({
  token: typeof token === "string" ? Redacted.make(token) : token,
  organizationId,
  scopes
})

const SCOPES = new Set<string>(allScopes)

/**
 * Reads tokens from one configuration string: entries separated by
 * whitespace, commas or semicolons, each `<organization_id>:<token>` (both
 * scopes) or `<organization_id>:<token>:<scopes>` with scopes joined by `+`,
 * e.g. `1dbfc517-0bbf-4301-9ba8-555ca42b9737:polar_oat_abc:events:read`.
 * A bad entry is reported by position, never with its token.
 *
 * @since 0.1.0
 */
export const parse = (text: string): Either.Either<ReadonlyArray<AccessToken>, string> => {
  const out: Array<AccessToken> = []
  const entries = text.split(/[\s,;]+/).filter((s) => s.length > 0)
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const first = entry.indexOf(":")
    const organizationId = first === -1 ? "" : entry.slice(0, first)
    if (!Ids.isUuid(organizationId)) return Either.left(`token entry ${i + 1}: expected <organization_id>:<token>`)
    const rest = entry.slice(first + 1)
    const scopeAt = rest.search(/:events:(read|write)(\+events:(read|write))*$/)
    const token = scopeAt === -1 ? rest : rest.slice(0, scopeAt)
    if (token.length === 0) return Either.left(`token entry ${i + 1}: empty token`)
    const scopes = scopeAt === -1 ? allScopes : rest.slice(scopeAt + 1).split("+")
    if (!scopes.every((s) => SCOPES.has(s))) return Either.left(`token entry ${i + 1}: unknown scope`)
    out.push(make(token, organizationId.toLowerCase(), [...new Set(scopes)] as Array<Scope>))
  }
  return Either.right(out)
}

/**
 * Tokens from configuration (default key `POLAR_EVENTS_TOKENS`), in the
 * format of `parse`. The value is read as `Redacted`.
 *
 * @since 0.1.0
 */
export const config = (name = "POLAR_EVENTS_TOKENS"): Config.Config<ReadonlyArray<AccessToken>> =>
  Config.redacted(name).pipe(
    Config.mapOrFail((value) =>
      Either.mapLeft(parse(Redacted.value(value)), (message) => ConfigError.InvalidData([name], message))
    )
  )
