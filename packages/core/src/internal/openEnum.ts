import { Schema } from "effect"

/**
 * An enum Polar may grow: the known values as literals (for documentation,
 * JSON Schema and Arbitrary) plus any other string, so that a value added to
 * Polar after this library was built never fails an event.
 *
 * @internal
 */
export const openEnum = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Union(
    Schema.Literal(...values),
    Schema.String.annotations({ description: "A value newer than this library.", arbitrary: () => (fc) => fc.constantFrom(...values) })
  )
