/** The folder that holds openapi.json, examples/ and SOURCE.md. */
export declare const dir: string
/** Path of the vendored OpenAPI document. */
export declare const openapiFile: string
/** Polar's OpenAPI document, cut to the operations polar-events implements, parsed anew on each call. */
export declare const openapi: () => any
/** Path of an example payload, by file name (`user-event.example.json`) or short name (`user-event`). */
export declare const examplePath: (name: string) => string
/** An example payload, parsed. */
export declare const example: (name: string) => any
