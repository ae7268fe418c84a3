/**
 * Bearer tokens: Polar's 401 and 403 bodies and challenges, and a token is
 * never echoed in a response nor written in a log line.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Logger, Redacted } from "effect"
import * as AccessToken from "../src/AccessToken.js"
import { ingest, ORG_A, raw, serve, TOKEN, tokens, wireEvent } from "./utils/harness.js"

const INVALID = "The access token provided is expired, revoked, malformed, or invalid for other reasons."

describe("auth", () => {
  it.scopedLive("401 without a token, 401 invalid_token for an unknown one, on every endpoint", () =>
    Effect.gen(function*() {
      const { url } = yield* serve()
      const id = "3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01"
      for (
        const [method, path] of [
          ["GET", "/v1/events/"],
          ["GET", "/v1/events/names"],
          ["GET", `/v1/events/${id}`],
          ["POST", "/v1/events/ingest"]
        ] as const
      ) {
        const body = method === "POST" ? JSON.stringify({ events: [wireEvent(1)] }) : undefined
        for (const authorization of [undefined, "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", TOKEN.a]) {
          const headers: Record<string, string> = authorization === undefined ? {} : { authorization }
          const res = yield* raw(url, { method, path, headers, ...(body === undefined ? {} : { body }) })
          assert.strictEqual(res.status, 401, `${method} ${path} ${authorization}`)
          assert.deepStrictEqual(res.json(), { error: "Unauthorized", detail: "Unauthorized" })
          assert.strictEqual(res.headers["www-authenticate"], `Bearer realm="polar"`)
          assert.strictEqual(res.headers["cache-control"], "private, no-store")
        }
        for (const token of ["polar_oat_unknown", `${TOKEN.a}x`, TOKEN.a.toUpperCase()]) {
          const res = yield* raw(url, { method, path, token, ...(body === undefined ? {} : { body }) })
          assert.strictEqual(res.status, 401)
          assert.deepStrictEqual(res.json(), { error: "invalid_token", error_description: INVALID })
          assert.strictEqual(
            res.headers["www-authenticate"],
            `Bearer realm="polar", error="invalid_token", error_description="${INVALID}"`
          )
          assert.notInclude(res.text, token)
          assert.notInclude(JSON.stringify(res.headers), token)
        }
      }
      // the scheme is case-insensitive, as Starlette reads it
      const lower = yield* raw(url, { path: "/v1/events/", headers: { authorization: `bearer ${TOKEN.a}` } })
      assert.strictEqual(lower.status, 200)
    }))

  it.scopedLive("a token without any events scope cannot read (403, both scopes named)", () =>
    Effect.gen(function*() {
      const { url } = yield* serve({ tokens: [...tokens, AccessToken.make("polar_oat_no_scopes", ORG_A, [])] })
      const res = yield* raw(url, { path: "/v1/events/names", token: "polar_oat_no_scopes" })
      assert.strictEqual(res.status, 403)
      assert.strictEqual(res.json().error, "insufficient_scope")
      assert.include(String(res.headers["www-authenticate"]), `scope="events:read events:write"`)
    }))

  it.scopedLive("no log line and no response carries a token", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.map(Logger.logfmtLogger, (line) => {
          lines.push(line)
        })
      )
      const { url } = yield* serve({ logRequests: true }).pipe(Effect.provide(capture))
      const seen: Array<string> = []
      for (const token of [TOKEN.a, TOKEN.aRead, "polar_oat_wrong_token_value"]) {
        seen.push((yield* ingest(url, token, { events: [wireEvent(1)] })).text)
        seen.push((yield* ingest(url, token, "{bad json")).text)
        seen.push((yield* raw(url, { path: "/v1/events/?limit=zz", token })).text)
        seen.push((yield* raw(url, { path: "/v1/events/names", token })).text)
        seen.push((yield* raw(url, { path: "/v1/events/not-an-id", token })).text)
      }
      assert.isTrue(lines.length >= 15, `expected request logs, got ${lines.length}`)
      for (const text of [...lines, ...seen]) {
        for (const token of [TOKEN.a, TOKEN.aRead, "polar_oat_wrong_token_value"]) assert.notInclude(text, token)
      }
    }))

  it("tokens are Redacted and parse from configuration without leaking", () => {
    const token = AccessToken.make("polar_oat_secret_value", ORG_A)
    assert.notInclude(String(token.token), "polar_oat_secret_value")
    assert.notInclude(JSON.stringify(token), "polar_oat_secret_value")
    assert.strictEqual(Redacted.value(token.token), "polar_oat_secret_value")

    const parsed = AccessToken.parse(
      `${ORG_A}:polar_oat_one ; ${ORG_A.toUpperCase()}:polar_oat_two:events:read,${ORG_A}:polar_oat_three:events:read+events:write`
    )
    assert.isTrue(Either.isRight(parsed))
    const list = Either.getOrThrow(parsed)
    assert.deepStrictEqual(list.map((t) => [Redacted.value(t.token), t.organizationId, t.scopes]), [
      ["polar_oat_one", ORG_A, ["events:read", "events:write"]],
      ["polar_oat_two", ORG_A, ["events:read"]],
      ["polar_oat_three", ORG_A, ["events:read", "events:write"]]
    ])
    const bad = AccessToken.parse(`not-a-uuid:polar_oat_secret_value`)
    assert.isTrue(Either.isLeft(bad))
    assert.notInclude(Either.isLeft(bad) ? bad.left : "", "polar_oat_secret_value")
    assert.strictEqual(Either.isLeft(bad) ? bad.left : "", "token entry 1: expected <organization_id>:<token>")
  })

  it.effect("tokens from Config (POLAR_EVENTS_TOKENS)", () =>
    Effect.gen(function*() {
      const list = yield* AccessToken.config().pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["POLAR_EVENTS_TOKENS", `${ORG_A}:polar_oat_cfg`]])))
      )
      assert.strictEqual(list.length, 1)
      assert.strictEqual(Redacted.value(list[0]!.token), "polar_oat_cfg")
      const failure = yield* Effect.flip(
        AccessToken.config().pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["POLAR_EVENTS_TOKENS", `${ORG_A}:`]])))
        )
      )
      assert.include(String(failure), "token entry 1: empty token")
    }))
})
