/**
 * `polar-events serve`: Polar's events API on this machine, over the local
 * store, for the official SDK, the client package or curl.
 *
 * @internal
 */
import { Command, Options } from "@effect/cli"
import * as HttpServer from "@effect/platform/HttpServer"
import { Ids } from "@polar-events/core"
import type { AccessToken } from "@polar-events/server"
import { Console, Duration, Effect, Option, Redacted } from "effect"
import * as crypto from "node:crypto"
import { CommandError, UsageError } from "../CliError.js"
import { CliSettings, describeDatabase } from "../GlobalOptions.js"
import { Meta, Organization } from "../Storage.js"
import { storeCommand } from "../internal/context.js"

const DEV_TOKEN_KEY = "serve_development_token"

/** Reads `TOKEN=ORGANIZATION_ID`; the token itself never appears in an error. @internal */
export const parseToken = (text: string, position: number): AccessToken.AccessToken | UsageError => {
  const eq = text.lastIndexOf("=")
  const token = eq < 0 ? "" : text.slice(0, eq)
  const org = eq < 0 ? "" : text.slice(eq + 1)
  if (token === "" || !Ids.isUuid(org)) {
    return new UsageError({ message: `--token ${position}: expected TOKEN=ORGANIZATION_ID (a UUID)` })
  }
  return { token: Redacted.make(token), organizationId: org.toLowerCase() }
}

/** The server package, loaded only by `serve`. */
const loadServer = Effect.tryPromise({
  try: () => import("@polar-events/server"),
  catch: (e) => new CommandError({ message: `cannot load the server: ${(e as Error).message}`, cause: e })
})

/**
 * The command.
 *
 * @internal
 */
export const serve = storeCommand(
  "serve",
  {
    host: Options.text("host").pipe(
      Options.withDescription("The address to listen on (default 127.0.0.1)."),
      Options.withDefault("127.0.0.1")
    ),
    port: Options.integer("port").pipe(
      Options.withDescription("The port (default 8080; 0 picks a free one)."),
      Options.withDefault(8080)
    ),
    token: Options.text("token").pipe(
      Options.withPseudoName("TOKEN=ORGANIZATION_ID"),
      Options.withDescription(
        "Accept this bearer token for that organization (repeatable). Without any, a development token for the local organization is created once and printed once."
      ),
      Options.repeated
    ),
    newToken: Options.boolean("new-token").pipe(
      Options.withDescription("Replace the development token with a new one (printed once).")
    ),
    rateLimit: Options.integer("rate-limit").pipe(
      Options.withPseudoName("N"),
      Options.withDescription("At most N requests per minute per organization, as Polar (429 with retry-after)."),
      Options.optional
    ),
    logRequests: Options.boolean("log-requests").pipe(Options.withDescription("Log every request."))
  },
  (input) =>
    Effect.gen(function*() {
      if (input.port < 0 || input.port > 65535) {
        return yield* new UsageError({ message: `--port must be between 0 and 65535, got ${input.port}` })
      }
      if (input.newToken && input.token.length > 0) {
        return yield* new UsageError({ message: "--new-token makes a development token; it does not go with --token" })
      }
      const settings = yield* CliSettings
      const org = yield* Organization
      const meta = yield* Meta
      const tokens: Array<AccessToken.AccessToken> = []
      let announce: string | undefined
      if (input.token.length > 0) {
        for (let i = 0; i < input.token.length; i++) {
          const parsed = parseToken(input.token[i]!, i + 1)
          if (parsed instanceof UsageError) return yield* parsed
          tokens.push(parsed)
        }
      } else {
        const fresh = `polar_oat_dev_${crypto.randomBytes(24).toString("base64url")}`
        const existing = input.newToken ? Option.none() : yield* meta.get(DEV_TOKEN_KEY)
        let value: string
        if (Option.isSome(existing)) value = existing.value
        else {
          yield* meta.set(DEV_TOKEN_KEY, fresh)
          value = fresh
          announce = value
        }
        tokens.push({ token: Redacted.make(value), organizationId: org })
      }
      const { EventsServer } = yield* loadServer
      const layer = EventsServer.layerServe({
        tokens,
        host: input.host,
        port: input.port,
        logRequests: input.logRequests,
        ...(Option.isSome(input.rateLimit)
          ? { rateLimit: { requests: input.rateLimit.value, window: Duration.minutes(1), per: "organization" as const } }
          : {})
      })
      yield* Effect.gen(function*() {
        const server = yield* HttpServer.HttpServer
        const address = server.address
        const url = address._tag === "TcpAddress"
          ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
          : `unix:${address.path}`
        const lines = settings.json
          ? [JSON.stringify({
            url,
            database: describeDatabase(settings.database),
            organizationId: org,
            ...(announce === undefined ? {} : { developmentToken: announce })
          })]
          : [
            `polar-events server listening on ${url}`,
            `  database:     ${describeDatabase(settings.database)}`,
            `  organization: ${input.token.length > 0 ? [...new Set(tokens.map((t) => t.organizationId))].join(", ") : org}`,
            ...(announce !== undefined
              ? [
                `  development token (shown only now; --new-token makes another):`,
                `    ${announce}`,
                `  try: curl -H "Authorization: Bearer $TOKEN" ${url}/v1/events/`
              ]
              : input.token.length === 0
              ? ["  using the development token created earlier (--new-token to replace and show a new one)"]
              : [`  ${tokens.length} token${tokens.length === 1 ? "" : "s"} accepted`])
          ]
        yield* Console.log(lines.join("\n"))
        return yield* Effect.never
      }).pipe(
        Effect.provide(layer),
        Effect.catchTag("ServeError", (e) =>
          Effect.fail(
            new CommandError({
              message: `cannot listen on ${input.host}:${input.port}: ${
                (e.cause as Error | undefined)?.message ?? "the address is in use or not available"
              }`,
              cause: e
            })
          ))
      )
    }),
  // requests arrive concurrently: parsing the next ones overlaps the current commit
  { writeThread: true }
).pipe(Command.withDescription("Serve Polar's events API over the local store (for the SDK, the client, curl)."))
