// Polar's vendored contract (see SOURCE.md): the OpenAPI subset and the example payloads.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The folder that holds openapi.json, examples/ and SOURCE.md. */
export const dir = fileURLToPath(new URL(".", import.meta.url))

/** Path of the vendored OpenAPI document. */
export const openapiFile = fileURLToPath(new URL("./openapi.json", import.meta.url))

/** Polar's OpenAPI document, cut to the operations polar-events implements, parsed anew on each call. */
export const openapi = () => JSON.parse(readFileSync(openapiFile, "utf8"))

/** Path of an example payload, by file name (`user-event.example.json`) or short name (`user-event`). */
export const examplePath = (name) =>
  fileURLToPath(new URL(`./examples/${name.endsWith(".json") ? name : `${name}.example.json`}`, import.meta.url))

/** An example payload, parsed. */
export const example = (name) => JSON.parse(readFileSync(examplePath(name), "utf8"))
