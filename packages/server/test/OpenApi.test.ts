/**
 * The served OpenAPI document has one source: Polar's vendored spec
 * (spec/polar/openapi.json). The generated module is what scripts/openapi.mjs
 * writes from it, and every path, parameter, status and schema the server
 * implements agrees with Polar's; what the server adds is listed here.
 */
import { assert, layer } from "@effect/vitest"
import * as PolarSpec from "@polar-events/polar-spec"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { raw, Server, layerServer } from "./utils/harness.js"

const SCRIPT = fileURLToPath(new URL("../scripts/openapi.mjs", import.meta.url))

/** Responses the server declares beyond Polar's: auth, limits, rate limit, plain-text 500. */
const ADDED_STATUSES = ["401", "403", "411", "413", "414", "429", "500"]
/** Parameters the server adds to the list endpoint (Polar's hidden switch and this server's cursor). */
const ADDED_LIST_PARAMETERS = ["cursor_pagination", "cursor"]
/** Schemas the server adds. */
const ADDED_SCHEMAS = ["HealthStatus", "LengthRequired", "OAuth2Error", "RequestBodyTooLarge", "URITooLong", "Unauthorized"]
const SERVER_PATHS = ["/healthz", "/openapi.json"]

const refs = (node: unknown): Array<string> =>
  (JSON.stringify(node).match(/"#\/components\/schemas\/[^"]+"/g) ?? []).map((r) => r.slice('"#/components/schemas/'.length, -1))

layer(layerServer(), { excludeTestServices: true })("OpenAPI document", (it) => {
  it("src/internal/openapiDocument.ts is what scripts/openapi.mjs generates from the vendored spec", () => {
    const out = execFileSync(process.execPath, [SCRIPT, "--check"], { encoding: "utf8" })
    assert.include(out, "up to date")
  })

  it.effect("every path, parameter, status and schema the server implements agrees with Polar's vendored spec", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const served = (yield* raw(url, { path: "/openapi.json" })).json()
      const polar = PolarSpec.openapi()
      assert.strictEqual(served.info.version, polar.info.version)
      assert.deepStrictEqual(served.components.securitySchemes.oat, polar.components.securitySchemes.oat)

      const polarPaths = Object.keys(served.paths).filter((p) => !SERVER_PATHS.includes(p))
      assert.deepStrictEqual(polarPaths.sort(), ["/v1/events/", "/v1/events/ingest", "/v1/events/names", "/v1/events/{id}"])
      let operations = 0
      for (const path of polarPaths) {
        assert.isDefined(polar.paths[path], `${path} is not one of Polar's paths`)
        assert.deepStrictEqual(Object.keys(served.paths[path]), Object.keys(polar.paths[path]), path)
        for (const [method, op] of Object.entries<any>(served.paths[path])) {
          const theirs = polar.paths[path][method]
          const where = `${method.toUpperCase()} ${path}`
          operations++
          assert.strictEqual(op.operationId, theirs.operationId, where)
          assert.deepStrictEqual(op.requestBody, theirs.requestBody, `${where} requestBody`)
          // Polar's parameters, in Polar's order, then the server's additions
          const added = path === "/v1/events/" ? ADDED_LIST_PARAMETERS : []
          const ours: Array<any> = op.parameters ?? [], polars: Array<any> = theirs.parameters ?? []
          assert.deepStrictEqual(ours.slice(0, polars.length), polars, `${where} parameters`)
          assert.deepStrictEqual(ours.slice(polars.length).map((p) => p.name), added, `${where} added parameters`)
          // every status Polar declares, with Polar's body; the rest are the documented additions
          for (const [status, response] of Object.entries<any>(theirs.responses)) {
            assert.deepStrictEqual(op.responses[status], response, `${where} ${status}`)
          }
          const extra = Object.keys(op.responses).filter((s) => !(s in theirs.responses))
          assert.deepStrictEqual(extra.filter((s) => !ADDED_STATUSES.includes(s)), [], `${where} undeclared statuses`)
          // Polar's `oat` scopes, unchanged
          assert.deepStrictEqual(op.security, theirs.security.filter((s: object) => "oat" in s), `${where} security`)
        }
      }
      assert.strictEqual(operations, 4)

      // every schema the document uses is Polar's, unchanged, except the server's own and CursorPagination's extra field
      const used = new Set(refs(served.paths))
      for (const name of Object.keys(served.components.schemas)) refs(served.components.schemas[name]).forEach((r) => used.add(r))
      assert.deepStrictEqual(Object.keys(served.components.schemas).sort(), [...used].sort(), "only reachable schemas")
      for (const name of used) {
        if (ADDED_SCHEMAS.includes(name)) {
          assert.isUndefined(polar.components.schemas[name], `${name} is Polar's: take Polar's definition`)
          continue
        }
        const theirs = polar.components.schemas[name]
        assert.isDefined(theirs, `${name} is neither Polar's nor one the server adds`)
        if (name === "CursorPagination") {
          const { next_cursor, ...properties } = served.components.schemas[name].properties
          assert.strictEqual(next_cursor.type, "string")
          assert.deepStrictEqual({ ...served.components.schemas[name], properties }, theirs)
        } else {
          assert.deepStrictEqual(served.components.schemas[name], theirs, name)
        }
      }
      assert.isAbove(used.size, 90)
    }))
})
