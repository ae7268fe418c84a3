#!/usr/bin/env python3
"""Writes src/internal/openapiDocument.ts: the OpenAPI document this server serves.

It is Polar's own events spec (polar-events-openapi.json, extracted from
polarsource/polar docs/openapi/2026-04.openapi.json) cut down to what the
server implements, plus what it adds:
- the four /v1/events paths only (no /v1/event-types), with only the `oat`
  bearer scheme (organization tokens are the only credentials here);
- the responses Polar sends but does not declare (401, 403, 404, 411, 413,
  414, 429, 500), with their bodies;
- the list endpoint's hidden `cursor_pagination` parameter and this server's
  `cursor` extension (`pagination.next_cursor`);
- `GET /healthz` and `GET /openapi.json`.

Usage: python3 scripts/openapi.py /work/shared/reference/polar-events-openapi.json
"""
import json
import sys
from pathlib import Path

EVENTS_PATHS = ["/v1/events/", "/v1/events/names", "/v1/events/{id}", "/v1/events/ingest"]

src = json.loads(Path(sys.argv[1]).read_text())
schemas = src["components"]["schemas"]

paths = {}
for p in EVENTS_PATHS:
    paths[p] = json.loads(json.dumps(src["paths"][p]))


def error_schema(name, detail_desc):
    return {
        "type": "object",
        "title": name,
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "const": name, "title": "Error"},
            "detail": {"type": "string", "title": "Detail", "description": detail_desc},
        },
    }


extra_schemas = {
    "Unauthorized": error_schema("Unauthorized", "Always `Unauthorized`."),
    "LengthRequired": error_schema("LengthRequired", "A POST body must be sent with a Content-Length (no chunked uploads)."),
    "RequestBodyTooLarge": error_schema("RequestBodyTooLarge", "The body is larger than the limit (10 MiB by default)."),
    "URITooLong": error_schema("URITooLong", "The request target is longer than the limit (16 KiB by default)."),
    "OAuth2Error": {
        "type": "object",
        "title": "OAuth2Error",
        "description": "An RFC 6750 bearer token error.",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "enum": ["invalid_token", "insufficient_scope"], "title": "Error"},
            "error_description": {"type": "string", "title": "Error Description"},
        },
    },
    "HealthStatus": {
        "type": "object",
        "title": "HealthStatus",
        "required": ["status"],
        "properties": {"status": {"type": "string", "const": "ok"}},
    },
}

www = {"WWW-Authenticate": {"description": "RFC 6750 challenge, e.g. `Bearer realm=\"polar\", error=\"invalid_token\", ...`.", "schema": {"type": "string"}}}


def json_response(description, ref, headers=None):
    r = {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
    if headers:
        r["headers"] = headers
    return r


common = {
    "401": {
        "description": "Missing token (`Unauthorized`) or unknown token (`invalid_token`).",
        "headers": www,
        "content": {"application/json": {"schema": {"anyOf": [
            {"$ref": "#/components/schemas/Unauthorized"},
            {"$ref": "#/components/schemas/OAuth2Error"},
        ]}}},
    },
    "403": json_response("The token lacks the scope (`insufficient_scope`; the scope is in `WWW-Authenticate`).", "OAuth2Error", www),
    "414": json_response("The request target is too long.", "URITooLong"),
    "429": {
        "description": "The token's rate limit is exceeded (only when a limit is configured). The body is empty.",
        "headers": {"retry-after": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
    "500": {"description": "Internal Server Error (plain text).", "content": {"text/plain": {"schema": {"type": "string"}}}},
}

for p, ops in paths.items():
    for method, op in ops.items():
        op["security"] = [s for s in op["security"] if "oat" in s]
        op.pop("x-polar-allowed-subjects", None)
        op["responses"].update(json.loads(json.dumps(common)))
        if method == "post":
            op["responses"]["411"] = json_response("The request has no Content-Length.", "LengthRequired")
            op["responses"]["413"] = json_response("The body is too large.", "RequestBodyTooLarge")

list_op = paths["/v1/events/"]["get"]
list_op["parameters"] += [
    {
        "name": "cursor_pagination",
        "in": "query",
        "required": False,
        "description": "Polar's hidden switch: answer with `{items, pagination: {has_next_page}}` (plus this server's `next_cursor`).",
        "schema": {"type": "boolean", "default": False},
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "Extension of this server: continue a cursor listing after the page that returned this `next_cursor`. Stable while events are inserted.",
        "schema": {"type": "string"},
    },
]

schemas = json.loads(json.dumps(schemas))
schemas["CursorPagination"]["properties"]["next_cursor"] = {
    "type": "string",
    "title": "Next Cursor",
    "description": "Extension of this server: pass it as `cursor` to get the next page. Absent on the last page.",
}
schemas.update(extra_schemas)

paths["/healthz"] = {
    "get": {
        "summary": "Health check",
        "operationId": "server:health",
        "tags": ["server"],
        "security": [],
        "responses": {"200": json_response("The server is up.", "HealthStatus")},
    }
}
paths["/openapi.json"] = {
    "get": {
        "summary": "This document",
        "operationId": "server:openapi",
        "tags": ["server"],
        "security": [],
        "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }
}

# keep only the schemas reachable from the paths
used = set()


def walk(node):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in used:
                used.add(name)
                walk(schemas[name])
        for v in node.values():
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)


walk(paths)

doc = {
    "openapi": src["openapi"],
    "info": {
        "title": "polar-events server: Polar's events API",
        "version": src["info"]["version"],
        "description": "A Polar-compatible events API over an EventStore (@polar-events/server). "
        "Paths, parameters and bodies are Polar's (API version " + src["info"]["version"] + "); "
        "see the package README for what differs.",
    },
    "servers": [{"url": "/", "description": "This server"}],
    "paths": paths,
    "components": {
        "schemas": {k: schemas[k] for k in sorted(used)},
        "securitySchemes": {"oat": src["components"]["securitySchemes"]["oat"]},
    },
    "tags": [{"name": "events"}, {"name": "public", "description": src["tags"][0]["description"]}, {"name": "server", "description": "Operational endpoints of this server."}],
}

text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
out = Path(__file__).resolve().parent.parent / "src" / "internal" / "openapiDocument.ts"
out.write_text(
    "// Generated by scripts/openapi.py from Polar's events spec; do not edit by hand.\n"
    "/** The OpenAPI document as served, JSON text. @internal */\n"
    f"export const text: string = {json.dumps(text, ensure_ascii=False)}\n"
)
print(f"wrote {out} ({len(text)} bytes, {len(used)} schemas)")
