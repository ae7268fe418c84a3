#!/usr/bin/env node
// Writes src/internal/openapiDocument.ts: the OpenAPI document this server
// serves. It is Polar's own events API from the vendored contract
// (spec/polar/openapi.json at the repository root) cut down to what the
// server implements, plus what it adds:
// - the four /v1/events paths only, with only the `oat` bearer scheme
//   (organization tokens are the only credentials here);
// - the responses Polar sends but does not declare (401, 403, 404, 411, 413,
//   414, 429, 500), with their bodies;
// - the list endpoint's hidden `cursor_pagination` parameter and this
//   server's `cursor` extension (`pagination.next_cursor`);
// - `GET /healthz` and `GET /openapi.json`.
//
// Usage: node scripts/openapi.mjs          (writes the module)
//        node scripts/openapi.mjs --check  (fails unless the module is up to date)
import * as PolarSpec from "@polar-events/polar-spec"
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The Polar paths the server implements. */
export const EVENTS_PATHS = ["/v1/events/", "/v1/events/names", "/v1/events/{id}", "/v1/events/ingest"]

/** The paths the server adds. */
export const SERVER_PATHS = ["/healthz", "/openapi.json"]

/** The component schemas the server adds or extends. */
export const SERVER_SCHEMAS = ["Unauthorized", "LengthRequired", "RequestBodyTooLarge", "URITooLong", "OAuth2Error", "HealthStatus", "CursorPagination"]

/** The module's path. */
export const MODULE = fileURLToPath(new URL("../src/internal/openapiDocument.ts", import.meta.url))

const clone = (v) => structuredClone(v)

const errorSchema = (name, detail) => ({
  type: "object",
  title: name,
  required: ["error", "detail"],
  properties: {
    error: { type: "string", const: name, title: "Error" },
    detail: { type: "string", title: "Detail", description: detail }
  }
})

const EXTRA_SCHEMAS = {
  Unauthorized: errorSchema("Unauthorized", "Always `Unauthorized`."),
  LengthRequired: errorSchema("LengthRequired", "A POST body must be sent with a Content-Length (no chunked uploads)."),
  RequestBodyTooLarge: errorSchema("RequestBodyTooLarge", "The body is larger than the limit (10 MiB by default)."),
  URITooLong: errorSchema("URITooLong", "The request target is longer than the limit (16 KiB by default)."),
  OAuth2Error: {
    type: "object",
    title: "OAuth2Error",
    description: "An RFC 6750 bearer token error.",
    required: ["error"],
    properties: {
      error: { type: "string", enum: ["invalid_token", "insufficient_scope"], title: "Error" },
      error_description: { type: "string", title: "Error Description" }
    }
  },
  HealthStatus: {
    type: "object",
    title: "HealthStatus",
    required: ["status"],
    properties: { status: { type: "string", const: "ok" } }
  }
}

const WWW = {
  "WWW-Authenticate": {
    description: "RFC 6750 challenge, e.g. `Bearer realm=\"polar\", error=\"invalid_token\", ...`.",
    schema: { type: "string" }
  }
}

const jsonResponse = (description, ref, headers) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
  ...(headers ? { headers } : {})
})

const COMMON = {
  "401": {
    description: "Missing token (`Unauthorized`) or unknown token (`invalid_token`).",
    headers: WWW,
    content: {
      "application/json": {
        schema: { anyOf: [{ $ref: "#/components/schemas/Unauthorized" }, { $ref: "#/components/schemas/OAuth2Error" }] }
      }
    }
  },
  "403": jsonResponse("The token lacks the scope (`insufficient_scope`; the scope is in `WWW-Authenticate`).", "OAuth2Error", WWW),
  "414": jsonResponse("The request target is too long.", "URITooLong"),
  "429": {
    description: "The token's rate limit is exceeded (only when a limit is configured). The body is empty.",
    headers: { "retry-after": { description: "Seconds to wait.", schema: { type: "integer" } } }
  },
  "500": { description: "Internal Server Error (plain text).", content: { "text/plain": { schema: { type: "string" } } } }
}

/** Names of the component schemas reachable from `root`. */
const reachable = (schemas, root) => {
  const used = new Set()
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== "object") return
    if (typeof node.$ref === "string" && node.$ref.startsWith("#/components/schemas/")) {
      const name = node.$ref.slice("#/components/schemas/".length)
      if (!used.has(name)) {
        used.add(name)
        walk(schemas[name])
      }
    }
    Object.values(node).forEach(walk)
  }
  walk(root)
  return used
}

/** The served document, built from Polar's vendored spec. */
export const document = (src) => {
  const paths = {}
  for (const p of EVENTS_PATHS) paths[p] = clone(src.paths[p])
  for (const ops of Object.values(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      op.security = op.security.filter((s) => "oat" in s)
      delete op["x-polar-allowed-subjects"]
      Object.assign(op.responses, clone(COMMON))
      if (method === "post") {
        op.responses["411"] = jsonResponse("The request has no Content-Length.", "LengthRequired")
        op.responses["413"] = jsonResponse("The body is too large.", "RequestBodyTooLarge")
      }
    }
  }
  paths["/v1/events/"].get.parameters.push(
    {
      name: "cursor_pagination",
      in: "query",
      required: false,
      description: "Polar's hidden switch: answer with `{items, pagination: {has_next_page}}` (plus this server's `next_cursor`).",
      schema: { type: "boolean", default: false }
    },
    {
      name: "cursor",
      in: "query",
      required: false,
      description: "Extension of this server: continue a cursor listing after the page that returned this `next_cursor`. Stable while events are inserted.",
      schema: { type: "string" }
    }
  )
  const schemas = clone(src.components.schemas)
  schemas.CursorPagination.properties.next_cursor = {
    type: "string",
    title: "Next Cursor",
    description: "Extension of this server: pass it as `cursor` to get the next page. Absent on the last page."
  }
  Object.assign(schemas, EXTRA_SCHEMAS)
  paths["/healthz"] = {
    get: {
      summary: "Health check",
      operationId: "server:health",
      tags: ["server"],
      security: [],
      responses: { "200": jsonResponse("The server is up.", "HealthStatus") }
    }
  }
  paths["/openapi.json"] = {
    get: {
      summary: "This document",
      operationId: "server:openapi",
      tags: ["server"],
      security: [],
      responses: {
        "200": { description: "The OpenAPI document.", content: { "application/json": { schema: { type: "object" } } } }
      }
    }
  }
  const used = reachable(schemas, paths)
  const version = src.info.version
  return {
    openapi: src.openapi,
    info: {
      title: "polar-events server: Polar's events API",
      version,
      description:
        "A Polar-compatible events API over an EventStore (@polar-events/server). " +
        `Paths, parameters and bodies are Polar's (API version ${version}); see the package README for what differs.`
    },
    servers: [{ url: "/", description: "This server" }],
    paths,
    components: {
      schemas: Object.fromEntries([...used].sort().map((k) => [k, schemas[k]])),
      securitySchemes: { oat: src.components.securitySchemes.oat }
    },
    tags: [
      { name: "events" },
      { name: "public", description: src.tags.find((t) => t.name === "public").description },
      { name: "server", description: "Operational endpoints of this server." }
    ]
  }
}

/** The module's text for a document. */
export const moduleText = (doc) =>
  "// Generated by scripts/openapi.mjs from Polar's vendored spec (spec/polar/openapi.json); do not edit by hand.\n" +
  "/** The OpenAPI document as served, JSON text. @internal */\n" +
  `export const text: string = ${JSON.stringify(JSON.stringify(doc))}\n`

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = moduleText(document(PolarSpec.openapi()))
  if (process.argv.includes("--check")) {
    if (readFileSync(MODULE, "utf8") !== text) {
      console.error(`${MODULE} is out of date: run node scripts/openapi.mjs`)
      process.exit(1)
    }
    console.log("src/internal/openapiDocument.ts is up to date")
  } else {
    writeFileSync(MODULE, text)
    console.log(`wrote ${MODULE} (${text.length} bytes)`)
  }
}
