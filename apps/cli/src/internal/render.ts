/**
 * How events look in each output format: wire JSON (what Polar's API and
 * `import` speak), a table row, and CSV with one column per metadata key.
 *
 * @internal
 */
import { Event } from "@polar-events/core"
import { Schema } from "effect"
import { csvRow, type Column } from "../Output.js"
import { csvFixedColumns, formatScalar } from "./readers.js"

const encode = Schema.encodeSync(Event.Event)

/** The wire JSON of an event. @internal */
export const toWire = (event: Event.Event): Record<string, unknown> => encode(event) as unknown as Record<string, unknown>

/** The columns of the event table. @internal */
export const eventColumns: ReadonlyArray<Column> = [
  { header: "TIMESTAMP", max: 32 },
  { header: "NAME", max: 32 },
  { header: "CUSTOMER", max: 36 },
  { header: "SOURCE" },
  { header: "ID" },
  { header: "METADATA" }
]

const compactMetadata = (metadata: Record<string, unknown>): string => {
  const parts: Array<string> = []
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) parts.push(`${key}.${k}=${formatScalar(v)}`)
    } else parts.push(`${key}=${formatScalar(value)}`)
  }
  return parts.join(" ")
}

/** One row of the event table. @internal */
export const eventRow = (event: Event.Event): Array<string> => {
  const wire = toWire(event)
  return [
    String(wire.timestamp),
    event.name,
    event.customerId ?? event.externalCustomerId ?? "",
    event.source,
    event.id,
    compactMetadata(event.metadata as Record<string, unknown>)
  ]
}

const FLATTENED = new Set(["_cost", "_llm"])

/**
 * The metadata of an event as `path → value` pairs for CSV: `_cost` and
 * `_llm` become `metadata._cost.amount`, ...; other values stay whole.
 *
 * @internal
 */
export const flattenMetadata = (metadata: Record<string, unknown>): Map<string, unknown> => {
  const out = new Map<string, unknown>()
  for (const [key, value] of Object.entries(metadata)) {
    if (FLATTENED.has(key) && typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) out.set(`metadata.${key}.${k}`, v)
    } else out.set(`metadata.${key}`, value)
  }
  return out
}

/** The CSV header for some metadata columns. @internal */
export const csvHeader = (metadataColumns: ReadonlyArray<string>): string =>
  csvRow([...csvFixedColumns, ...metadataColumns])

/** One CSV record of an event. @internal */
export const csvEvent = (event: Event.Event, metadataColumns: ReadonlyArray<string>): string => {
  const wire = toWire(event)
  const cells = csvFixedColumns.map((c) => {
    const v = wire[c]
    return v === undefined || v === null ? "" : String(v)
  })
  const flat = flattenMetadata(event.metadata as Record<string, unknown>)
  for (const column of metadataColumns) {
    const v = flat.get(column)
    cells.push(v === undefined ? "" : column.startsWith("metadata._cost.") ? String(v) : formatScalar(v))
  }
  return csvRow(cells)
}
