/**
 * An event as Polar returns it: `Event` is a Schema whose Type is the domain
 * event (camelCase, `Date` timestamps) and whose Encoded side is Polar's wire
 * JSON (snake_case, ISO-8601 text), so
 * `Schema.decodeUnknown(Event)(json)` reads an event from Polar's API and
 * `Schema.encode(Event)(event)` writes it back, unchanged.
 *
 * `Event` is `UserEvent | SystemEvent`, by `source`; a system event by
 * `name`, with `GenericSystemEvent` for names this library does not know.
 *
 * `Event` decodes through a hand-written fast path that gives the same value
 * as `EventStructural` and falls back to it for anything unusual, so errors
 * (and Arbitrary, JSON Schema, Pretty, Equivalence) are the structural
 * schema's.
 *
 * @since 0.1.0
 */
import { type Effect, ParseResult, Schema, SchemaAST as AST } from "effect"
import { EventMetadataOutput } from "./EventMetadata.js"
import { decodeEvent, encodeEvent } from "./internal/eventFast.js"
import { baseFields } from "./internal/eventFields.js"
import * as SystemEvent from "./SystemEvent.js"

/**
 * Who created an event: `user` (ingested through the API) or `system` (Polar).
 *
 * @since 0.1.0
 */
export const EventSource = Schema.Literal("user", "system").annotations({ identifier: "EventSource" })
/** @since 0.1.0 */
export type EventSource = typeof EventSource.Type

/**
 * An event you ingested (`source: "user"`); its name is any string.
 *
 * @since 0.1.0
 */
export const UserEvent = Schema.Struct({
  ...baseFields,
  name: Schema.String,
  source: Schema.Literal("user"),
  metadata: EventMetadataOutput
}).annotations({ identifier: "UserEvent", description: "An event you created through the ingestion API." })
/** @since 0.1.0 */
export interface UserEvent extends Schema.Schema.Type<typeof UserEvent> {}
/** @since 0.1.0 */
export interface UserEventEncoded extends Schema.Schema.Encoded<typeof UserEvent> {}

/** The domain event: a user event or a system event. @since 0.1.0 */
export type Event = UserEvent | SystemEvent.SystemEvent

/** The wire JSON of an event. @since 0.1.0 */
export type EventEncoded = UserEventEncoded | SystemEvent.SystemEventEncoded

/**
 * `Event` built from Effect Schema combinators only: the reference for the
 * fast path, and what Arbitrary, JSON Schema and errors are derived from.
 *
 * @since 0.1.0
 */
export const EventStructural: Schema.Schema<Event, EventEncoded> = Schema.Union(UserEvent, SystemEvent.SystemEvent)
  .annotations({ identifier: "Event" })

/** The fast path only runs with the parse options it reproduces. */
const fastOptions = (options: AST.ParseOptions): boolean =>
  options.onExcessProperty !== "error" && options.onExcessProperty !== "preserve" &&
  options.propertyOrder !== "original" && options.exact !== true

type Parse = (u: unknown, options: AST.ParseOptions) => Effect.Effect<unknown, ParseResult.ParseIssue>

/**
 * False for a value `String()` throws on: an object whose own `toString` and
 * `valueOf` are not functions, such as JSON's `{"toString": 1}`. Effect's
 * unions read their discriminating fields with `String()`.
 */
const printable = (u: unknown): boolean => {
  if (typeof u !== "object" || u === null) return true
  try {
    String(u)
    return true
  } catch {
    return false
  }
}

/**
 * The structural schema, run member by member: the member an input's
 * `source` and `name` point at is the only one that can accept it, so this
 * gives the union's result with the error of that member alone. A
 * discriminator the union cannot read goes to the member that reports it as
 * a bad field; anything else the structural schema throws on (a union deeper
 * down) is an invalid input too.
 */
const structuralByMember = (isDecoding: boolean): Parse => {
  const run = isDecoding ? ParseResult.decodeUnknown : ParseResult.encodeUnknown
  const union = run(EventStructural)
  const user = run(UserEvent)
  const generic = run(SystemEvent.GenericSystemEvent)
  const known = new Map<string, Parse>(
    SystemEvent.names.map((name) => [name, run(SystemEvent.variants[name] as Schema.Schema<unknown, unknown>)])
  )
  const route: Parse = (u, options) => {
    if (typeof u === "object" && u !== null && !Array.isArray(u)) {
      const { name, source } = u as { readonly source?: unknown; readonly name?: unknown }
      if (source === "user") return user(u, options)
      if (source === "system") return (typeof name === "string" ? known.get(name) ?? generic : generic)(u, options)
      if (!printable(source)) return user(u, options)
    }
    return union(u, options)
  }
  return (u, options) => {
    try {
      return route(u, options)
    } catch (e) {
      if (!(e instanceof TypeError)) throw e
      return ParseResult.fail(new ParseResult.Type(EventStructural.ast, u, `not an event: ${e.message}`))
    }
  }
}

/**
 * An event from Polar's API: decodes wire JSON to the domain event and
 * encodes it back. Same results as `EventStructural`, several times faster.
 *
 * @since 0.1.0
 */
export const Event: Schema.Schema<Event, EventEncoded> = Schema.declare(
  [EventStructural],
  {
    decode: (structural) => {
      if (structural.ast !== EventStructural.ast) return ParseResult.decodeUnknown(structural)
      const slow = structuralByMember(true)
      return (u, options) => {
        if (fastOptions(options)) {
          const out = decodeEvent(u)
          if (out !== undefined) return ParseResult.succeed(out as Event)
        }
        return slow(u, options) as Effect.Effect<Event, ParseResult.ParseIssue>
      }
    },
    encode: (structural) => {
      if (structural.ast !== EventStructural.ast) return ParseResult.encodeUnknown(structural)
      const slow = structuralByMember(false)
      return (u, options) => {
        if (fastOptions(options)) {
          const out = encodeEvent(u)
          if (out !== undefined) return ParseResult.succeed(out as EventEncoded)
        }
        return slow(u, options) as Effect.Effect<EventEncoded, ParseResult.ParseIssue>
      }
    }
  },
  {
    identifier: "Event",
    description: "An event: a user event or a system event.",
    [AST.SurrogateAnnotationId]: EventStructural.ast,
    arbitrary: (structural) => structural,
    pretty: (structural) => structural,
    equivalence: (structural) => structural
  }
)

/** True for an event you ingested. @since 0.1.0 */
export const isUserEvent = (event: Event): event is UserEvent => event.source === "user"

/** True for an event Polar created. @since 0.1.0 */
export const isSystemEvent = (event: Event): event is SystemEvent.SystemEvent => event.source === "system"
