/**
 * Turns the records of an import into events the store takes, batch by
 * batch, with every problem tied to its line:
 * - a stored event (wire JSON with `id` and `source`, as `list --format
 *   ndjson` and Polar's API write it) is decoded with core's `Event` and kept
 *   as it is (its id, source and timestamps), moved into the local
 *   organization;
 * - an event to ingest (Polar's `EventCreate` wire JSON) is validated with
 *   core's ingest rules. One without `external_id` gets a stable one derived
 *   from its text and line, so running the same import again never counts
 *   it twice.
 *
 * @internal
 */
import { Event, EventCreate, SystemEvent, ValidationError } from "@polar-events/core"
import { Either, ParseResult, Schema } from "effect"
import * as crypto from "node:crypto"
import { type Item, where } from "./readers.js"

/** One problem of an import: where, and why. @internal */
export interface Problem {
  readonly line: number
  readonly where: string
  readonly message: string
}

/** The report of some problems: one `where: message` line each, the place in red when `red` colors. @internal */
export const formatProblems = (problems: ReadonlyArray<Problem>, red: (text: string) => string): string => {
  let text = ""
  for (const p of problems) text += `${red(p.where)}: ${p.message}\n`
  return text
}

/** A batch ready for the store. @internal */
export interface Prepared {
  /** stored events, for `EventStore.insert` (empty when only checking) */
  readonly events: Array<Event.Event>
  /** events to ingest, for `EventStore.ingest` (empty when only checking) */
  readonly creates: ReadonlyArray<EventCreate.Checked>
  readonly problems: Array<Problem>
  /** records read (good and bad) */
  readonly records: number
  /** good records */
  readonly valid: number
}

/** How to prepare. @internal */
export interface PrepareOptions {
  readonly organizationId: string
  /** the time to check timestamps against */
  readonly now: Date
  /** only check: keep no events (a first pass) */
  readonly checkOnly?: boolean | undefined
}

const decodeEvent = Schema.decodeUnknownEither(Event.Event)

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const describe = (u: unknown): string =>
  u === null ? "null" : Array.isArray(u) ? "an array" : typeof u === "object" ? "an object" : `a ${typeof u}`

/** A stored event (wire JSON from Polar or from `list`/`export`), by its `id` and `source` keys. @internal */
export const isStoredEvent = (value: Record<string, unknown>): boolean => "id" in value && "source" in value

const parseProblem = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const shown = issues.slice(0, 3).map((i) =>
    i.path.length === 0 ? i.message : `${i.path.map(String).join(".")}: ${i.message}`
  )
  return shown.join("; ") + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : "")
}

const detailProblem = (details: ReadonlyArray<ValidationError.ErrorDetail>): string => {
  const shown = details.slice(0, 3).map((d) => {
    const loc = ValidationError.formatLoc(d.loc.slice(3))
    return `${loc === "" ? "" : `${loc}: `}${d.msg} [${d.type}]`
  })
  return shown.join("; ") + (details.length > 3 ? ` (and ${details.length - 3} more)` : "")
}

/**
 * The `external_id` given to an event to ingest that has none: a hash of
 * its JSON and its line, the same every time the same file is imported.
 *
 * @internal
 */
export const derivedExternalId = (value: unknown, line: number, index: number | undefined): string =>
  "import:" +
  crypto.createHash("sha256").update(JSON.stringify(value)).update(`\n${line}:${index ?? ""}`).digest("base64url")
    .slice(0, 27)

/**
 * Prepares one batch of records.
 *
 * @internal
 */
export const prepare = (items: ReadonlyArray<Item>, options: PrepareOptions): Prepared => {
  const events: Array<Event.Event> = []
  const problems: Array<Problem> = []
  let valid = 0
  const raw: Array<Record<string, unknown>> = []
  const rawItems: Array<Item> = []
  for (const item of items) {
    if (item.error !== undefined) {
      problems.push({ line: item.line, where: where(item), message: item.error })
      continue
    }
    const value = item.value
    if (!isRecord(value)) {
      problems.push({ line: item.line, where: where(item), message: `expected an event (a JSON object), got ${describe(value)}` })
      continue
    }
    if (isStoredEvent(value)) {
      const wire = value
      wire.organization_id = options.organizationId
      if (!("label" in wire) || wire.label === null || wire.label === "") {
        wire.label = wire.source === "system" && typeof wire.name === "string"
          ? SystemEvent.labelFor(wire.name)
          : wire.name
      }
      if (!("customer" in wire)) wire.customer = null
      if (!("customer_id" in wire)) wire.customer_id = null
      if (!("external_customer_id" in wire)) wire.external_customer_id = null
      if (!("metadata" in wire)) wire.metadata = {}
      const decoded = decodeEvent(wire)
      if (Either.isRight(decoded)) {
        valid++
        if (!options.checkOnly) events.push(decoded.right)
      } else problems.push({ line: item.line, where: where(item), message: parseProblem(decoded.left) })
      continue
    }
    if (value.external_id === undefined || value.external_id === null) {
      // only checking: any id will do; the hash is for the pass that writes
      value.external_id = options.checkOnly ? "import:check" : derivedExternalId(value, item.line, item.index)
    }
    delete value.organization_id
    raw.push(value)
    rawItems.push(item)
  }
  let creates: ReadonlyArray<EventCreate.Checked> = []
  if (raw.length > 0) {
    const validated = EventCreate.validate({ events: raw }, { now: options.now })
    if (Either.isRight(validated)) {
      valid += raw.length
      if (!options.checkOnly) creates = validated.right
    } else {
      const byIndex = new Map<number, Array<ValidationError.ErrorDetail>>()
      for (const d of validated.left.detail) {
        const i = d.loc[2]
        if (typeof i !== "number") continue
        let list = byIndex.get(i)
        if (list === undefined) byIndex.set(i, list = [])
        list.push(d)
      }
      const good: Array<Record<string, unknown>> = []
      for (let i = 0; i < raw.length; i++) {
        const details = byIndex.get(i)
        if (details === undefined) good.push(raw[i]!)
        else problems.push({ line: rawItems[i]!.line, where: where(rawItems[i]!), message: detailProblem(details) })
      }
      if (byIndex.size === 0) {
        for (const item of rawItems) {
          problems.push({ line: item.line, where: where(item), message: validated.left.message })
        }
      } else if (good.length > 0) {
        valid += good.length
        if (!options.checkOnly) {
          const again = EventCreate.validate({ events: good }, { now: options.now })
          if (Either.isRight(again)) creates = again.right
        }
      }
    }
  }
  problems.sort((a, b) => a.line - b.line)
  return { events, creates, problems, records: items.length, valid }
}
