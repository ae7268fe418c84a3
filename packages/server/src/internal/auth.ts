import { Either, Redacted } from "effect"
import { createHash } from "node:crypto"
import { type AccessToken, allScopes, type Scope } from "../AccessToken.js"
import { InsufficientScope, InvalidToken, Unauthorized } from "../ServerError.js"

/** Who a request acts for, once its token is known. */
export interface Principal {
  readonly organizationId: string
  readonly scopes: ReadonlySet<Scope>
  /** a stable key for the token that never reveals it (its digest) */
  readonly key: string
}

/** Tokens are looked up by digest: the table holds no secret and lookups do not compare secrets. */
const digest = (token: string): string => createHash("sha256").update(token, "utf8").digest("base64")

export interface TokenTable {
  readonly authenticate: (
    authorization: string | undefined,
    required: ReadonlyArray<Scope>
  ) => Either.Either<Principal, Unauthorized | InvalidToken | InsufficientScope>
}

/**
 * The bearer token of an `Authorization` header, as Starlette's
 * `get_authorization_scheme_param` reads it: the scheme is case-insensitive,
 * anything that is not `Bearer <token>` is no token at all.
 */
const bearerToken = (authorization: string | undefined): string | undefined => {
  if (authorization === undefined) return undefined
  const value = authorization.trim()
  const space = value.indexOf(" ")
  if (space === -1) return undefined
  if (value.slice(0, space).toLowerCase() !== "bearer") return undefined
  const token = value.slice(space + 1).trim()
  return token.length === 0 ? undefined : token
}

export const makeTokenTable = (tokens: ReadonlyArray<AccessToken>): TokenTable => {
  const table = new Map<string, Principal>()
  for (const t of tokens) {
    const key = digest(Redacted.value(t.token))
    table.set(key, {
      organizationId: t.organizationId.toLowerCase(),
      scopes: new Set(t.scopes ?? allScopes),
      key
    })
  }
  return {
    authenticate: (authorization, required) => {
      const token = bearerToken(authorization)
      if (token === undefined) return Either.left(new Unauthorized())
      const principal = table.get(digest(token))
      if (principal === undefined) return Either.left(new InvalidToken())
      for (const scope of required) if (principal.scopes.has(scope)) return Either.right(principal)
      return Either.left(new InsufficientScope({ scopes: required }))
    }
  }
}
