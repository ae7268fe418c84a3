/**
 * The served OpenAPI document is derived from the contract
 * (`OpenApi.fromApi` over core's `EventsApi` and the server's own group), and
 * it must agree with Polar's vendored spec (spec/polar/openapi.json) for
 * every operation the server implements: paths and methods, operation ids,
 * Polar's parameters in Polar's order, the request body, every status Polar
 * declares (plus only the documented additions), the response headers the
 * server sends (`WWW-Authenticate`, `retry-after`; Polar declares none), the
 * `oat` scopes, Polar's tags, and the component schemas, by name and by shape.
 *
 * Shapes are compared after `normalize`, which removes what is
 * documentation (`title`, `description`, `examples`) and rewrites spellings
 * that say the same thing in JSON Schema (Effect's and pydantic's): see its
 * comments. What still differs is listed in `KNOWN_DIFFERENCES` with the
 * reason; any other difference, and a listed one that went away, fails.
 */
import { assert, layer } from "@effect/vitest"
import * as PolarSpec from "@polar-events/polar-spec"
import { Effect } from "effect"
import * as EventsServer from "../src/EventsServer.js"
import { layerServer, raw, Server } from "./utils/harness.js"

/** Responses the server declares beyond Polar's: auth, limits, rate limit, plain-text 500. */
const ADDED_STATUSES = ["401", "403", "411", "413", "414", "429", "500"]
/** Parameters the server adds to the list endpoint (Polar's hidden switch and this server's cursor). */
const ADDED_LIST_PARAMETERS = ["cursor_pagination", "cursor"]
/** Schemas the server adds: its error bodies, the health check, and core's event of an unknown system name. */
const ADDED_SCHEMAS = [
  "GenericSystemEvent",
  "HealthStatus",
  "HealthUnavailable",
  "LengthRequired",
  "OAuth2Error",
  "RequestBodyTooLarge",
  "URITooLong",
  "Unauthorized"
]
const SERVER_PATHS = ["/healthz", "/openapi.json"]
const POLAR_PATHS = ["/v1/events/", "/v1/events/ingest", "/v1/events/names", "/v1/events/{id}"]

/**
 * Component schemas whose normalized shape is not Polar's, and why. Each is
 * deliberate: the document says what this server accepts and sends where
 * that is more than (or stricter than) Polar's spec declares, so spelling
 * Polar's shape instead would document a request the server refuses or hide
 * a key it sends. The test fails when one goes away, so the list stays exact.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {
  CursorPagination: "adds this server's optional next_cursor (the cursor extension)",
  EventCreateCustomer: "core refuses empty strings (name, external_id) with a 422: minLength 1",
  EventCreateExternalCustomer: "core refuses empty strings (name, external ids) with a 422: minLength 1",
  HTTPValidationError: "declares the `error` name the server (and Polar) send, and that detail is always there",
  SystemEvent: "adds GenericSystemEvent, a system event of a name core does not know yet (a newer Polar's)"
}

const REF = "#/components/schemas/"

const refs = (node: unknown): Array<string> =>
  (JSON.stringify(node).match(/"#\/components\/schemas\/[^"]+"/g) ?? []).map((r) => r.slice(REF.length + 1, -1))

const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : 1))
const isAnything = (s: unknown) => s !== null && typeof s === "object" && !Array.isArray(s) && Object.keys(s).length === 0
const byJson = (a: unknown, b: unknown) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1
const DOCUMENTATION = ["title", "description", "examples", "$schema", "$id", "discriminator", "default", "x-speakeasy-enums"]

/**
 * A JSON Schema with documentation removed and equivalent spellings made one:
 * - `title`, `description`, `examples`, `default` (a property default is
 *   pydantic's; parameters' defaults are compared apart), `$schema`, `$id`,
 *   `discriminator` (Polar's oneOf by `source` is also an anyOf) and
 *   `x-speakeasy-enums` (the names Polar's SDK generator gives an enum's
 *   members, beside Address.country's `enum`: no constraint) go;
 * - Effect's `{$id: "/schemas/object", anyOf: [object, array]}` is `{type: object}`;
 * - `additionalProperties` of `true`, `false` (Effect closes structs, the
 *   served document is made with `additionalPropertiesStrategy: "allow"`)
 *   or `{}`, empty `properties` and empty `required` are the default;
 * - `const: x` is `enum: [x]`; enums, `required` and anyOf members are sets;
 * - `format: uuid4` is `uuid` (the store mints v7 ids; Polar's are v4)
 *   and a UUID `pattern` beside it goes;
 * - a tuple closed with `items: false` is one with `maxItems`;
 * - an `allOf` of one schema is that schema, a nested `anyOf` is flattened;
 * - an open enum (`anyOf: [{enum}, {type: string}]`, core keeps values newer
 *   than this library) is its enum.
 */
const normalize = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(normalize)
  if (node === null || typeof node !== "object") return node
  const input = node as Record<string, unknown>
  if (input.$id === "/schemas/object") return { type: "object" }
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(input)) {
    if (DOCUMENTATION.includes(k)) continue
    const n = normalize(v)
    if (k === "additionalProperties" && (n === true || n === false || isAnything(n))) continue
    if ((k === "properties" && isAnything(n)) || (k === "required" && (n as Array<unknown>).length === 0)) continue
    out[k === "oneOf" ? "anyOf" : k] = n
  }
  if (out.items === false && Array.isArray(out.prefixItems)) {
    delete out.items
    out.maxItems = out.prefixItems.length
  }
  if (out.format === "uuid" || out.format === "uuid4") {
    out.format = "uuid"
    delete out.pattern
  }
  if ("const" in out && !("enum" in out)) {
    out.enum = [out.const]
    delete out.const
  }
  if (Array.isArray(out.enum)) out.enum = [...out.enum].sort()
  if (Array.isArray(out.required)) out.required = [...out.required].sort()
  if (Array.isArray(out.allOf) && out.allOf.length === 1) {
    const { allOf: [only], ...rest } = out
    return normalize({ ...only, ...rest })
  }
  if (Array.isArray(out.anyOf)) {
    let members: Array<any> = out.anyOf.flatMap((m: any) => Array.isArray(m.anyOf) && Object.keys(m).length === 1 ? m.anyOf : [m])
    if (members.some((m) => Array.isArray(m.enum) && m.type === "string")) {
      members = members.filter((m) => !(m.type === "string" && Object.keys(m).length === 1))
    }
    members = [...new Map(members.map((m) => [JSON.stringify(m), m])).values()].sort(byJson)
    if (members.length === 1 && Object.keys(out).length === 1) return members[0]
    out.anyOf = members
  }
  return sortKeys(out)
}

const same = (ours: unknown, theirs: unknown, message: string) =>
  assert.deepStrictEqual(normalize(ours), normalize(theirs), message)

const content = (response: any) => response?.content === undefined ? undefined : Object.keys(response.content).sort()

layer(layerServer(), { excludeTestServices: true })("OpenAPI document", (it) => {
  it.effect("is derived from the contract, once, and served at /openapi.json", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const served = (yield* raw(url, { path: "/openapi.json" })).json()
      assert.deepStrictEqual(served, JSON.parse(EventsServer.openApiText))
      assert.deepStrictEqual(Object.keys(served.paths).sort(), [...POLAR_PATHS, ...SERVER_PATHS].sort())
    }))

  it.effect("every path, parameter, status and schema the server implements agrees with Polar's vendored spec", () =>
    Effect.gen(function*() {
      const { url } = yield* Server
      const served = (yield* raw(url, { path: "/openapi.json" })).json()
      const polar = PolarSpec.openapi()
      assert.strictEqual(served.info.version, polar.info.version)
      assert.deepStrictEqual(served.components.securitySchemes, { oat: polar.components.securitySchemes.oat })
      const publicTag = (doc: any) => doc.tags.find((t: { name: string }) => t.name === "public")
      assert.deepStrictEqual(publicTag(served), publicTag(polar), "Polar's public tag")

      const polarPaths = Object.keys(served.paths).filter((p) => !SERVER_PATHS.includes(p))
      assert.deepStrictEqual(polarPaths.sort(), POLAR_PATHS)
      let operations = 0
      for (const path of polarPaths) {
        assert.isDefined(polar.paths[path], `${path} is not one of Polar's paths`)
        assert.deepStrictEqual(Object.keys(served.paths[path]), Object.keys(polar.paths[path]), path)
        for (const [method, op] of Object.entries<any>(served.paths[path])) {
          const theirs = polar.paths[path][method]
          const where = `${method.toUpperCase()} ${path}`
          operations++
          assert.strictEqual(op.operationId, theirs.operationId, where)
          assert.deepStrictEqual(op.tags, theirs.tags, `${where} tags`)
          assert.deepStrictEqual(op.requestBody, theirs.requestBody, `${where} requestBody`)
          // Polar's parameters, in Polar's order, then the server's additions
          const added = path === "/v1/events/" ? ADDED_LIST_PARAMETERS : []
          const ours: Array<any> = op.parameters ?? [], polars: Array<any> = theirs.parameters ?? []
          assert.deepStrictEqual(ours.map((p) => p.name), [...polars.map((p) => p.name), ...added], `${where} parameters`)
          polars.forEach((p, i) => {
            const at = `${where} parameter ${p.name}`
            assert.deepStrictEqual([ours[i].in, ours[i].required, ours[i].style], [p.in, p.required, p.style], at)
            assert.deepStrictEqual(ours[i].schema.default, p.schema.default, `${at} default`)
            same(ours[i].schema, p.schema, `${at} schema`)
          })
          // every status Polar declares, with Polar's body; the rest are the documented additions
          for (const [status, response] of Object.entries<any>(theirs.responses)) {
            assert.isDefined(op.responses[status], `${where} ${status}`)
            assert.deepStrictEqual(content(op.responses[status]), content(response), `${where} ${status} content`)
            same(op.responses[status].content, response.content, `${where} ${status}`)
          }
          const extra = Object.keys(op.responses).filter((s) => !(s in theirs.responses))
          assert.deepStrictEqual(extra.filter((s) => !ADDED_STATUSES.includes(s)), [], `${where} undeclared statuses`)
          // exactly the documented additions: 411 and 413 only where a body is read
          const expected = ADDED_STATUSES.filter((s) => method === "post" || (s !== "411" && s !== "413"))
          assert.deepStrictEqual([...extra].sort(), expected, `${where} documented additions`)
          // response headers only where the server sends them (Polar's spec declares none)
          const headers = Object.entries<any>(op.responses).filter(([, r]) => r.headers !== undefined)
            .map(([s, r]) => [s, Object.keys(r.headers)])
          assert.deepStrictEqual(
            headers,
            [["401", ["WWW-Authenticate"]], ["403", ["WWW-Authenticate"]], ["429", ["retry-after"]]],
            `${where} headers`
          )
          // Polar's `oat` scopes, unchanged
          assert.deepStrictEqual(op.security, theirs.security.filter((s: object) => "oat" in s), `${where} security`)
        }
      }
      assert.strictEqual(operations, 4)

      // every schema the document uses is Polar's (by name and, normalized, by shape) or a documented addition
      const used = new Set(refs(served.paths))
      for (const name of Object.keys(served.components.schemas)) refs(served.components.schemas[name]).forEach((r) => used.add(r))
      assert.deepStrictEqual(Object.keys(served.components.schemas).sort(), [...used].sort(), "only reachable schemas")
      const differing: Array<string> = []
      for (const name of used) {
        if (ADDED_SCHEMAS.includes(name)) {
          assert.isUndefined(polar.components.schemas[name], `${name} is Polar's: derive Polar's definition`)
          continue
        }
        const theirs = polar.components.schemas[name]
        assert.isDefined(theirs, `${name} is neither Polar's nor one the server adds`)
        const ours = served.components.schemas[name]
        if (name in KNOWN_DIFFERENCES) {
          if (JSON.stringify(normalize(ours)) !== JSON.stringify(normalize(theirs))) differing.push(name)
          continue
        }
        same(ours, theirs, name)
      }
      assert.deepStrictEqual(differing.sort(), Object.keys(KNOWN_DIFFERENCES).sort(), "KNOWN_DIFFERENCES is exact")
      assert.isAbove(used.size, 90)
    }))
})
