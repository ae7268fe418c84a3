/**
 * The writing side of an import: prepared records are gathered into
 * transactions of `batchSize` and written through the store's bulk paths
 * (`insert` for stored events, `ingest` for events to ingest), pipelined:
 * the store inserts one batch (on its write thread) while the next ones are
 * read and decoded.
 *
 * @internal
 */
import type { Event, EventCreate, ValidationError } from "@polar-events/core"
import type { EventStore } from "@polar-events/store"
import { Effect, Fiber } from "effect"
import type { Prepared } from "./prepare.js"

/** What a store write can fail with. @internal */
export type StoreFailure = ValidationError.RequestValidationError | EventStore.EventStoreError

/** Store writes under way at once (one inserting, one waiting its turn). */
const WRITES_IN_FLIGHT = 2

/** What the writes did. @internal */
export interface Written {
  inserted: number
  duplicates: number
}

/** A pipelined writer. @internal */
export interface Writer {
  /** adds a batch's records, starting a write for each full transaction */
  readonly add: (batch: Prepared) => Effect.Effect<void, StoreFailure>
  /** writes what is left and waits for every write */
  readonly finish: Effect.Effect<void, StoreFailure>
  readonly written: Written
}

/**
 * A writer into `organizationId` of a store.
 *
 * @internal
 */
export const make = (store: EventStore.EventStore.Service, organizationId: string, batchSize: number): Writer => {
  let events: Array<Event.Event> = []
  let creates: Array<EventCreate.Checked> = []
  const writing: Array<Fiber.RuntimeFiber<void, StoreFailure>> = []
  const written: Written = { inserted: 0, duplicates: 0 }
  const count = (r: { readonly inserted: number; readonly duplicates: number }) => {
    written.inserted += r.inserted
    written.duplicates += r.duplicates
  }
  const start = (write: Effect.Effect<void, StoreFailure>) =>
    Effect.gen(function*() {
      while (writing.length >= WRITES_IN_FLIGHT) yield* Fiber.join(writing.shift()!)
      writing.push(yield* Effect.fork(write))
    })
  const flushEvents = Effect.suspend(() => {
    if (events.length === 0) return Effect.void
    const batch = events
    events = []
    return start(Effect.map(store.insert(batch), count))
  })
  const flushCreates = Effect.suspend(() => {
    if (creates.length === 0) return Effect.void
    const batch = creates
    creates = []
    return start(Effect.map(store.ingest(organizationId, batch), count))
  })
  const add = (batch: Prepared) =>
    Effect.gen(function*() {
      for (const e of batch.events) events.push(e)
      for (const c of batch.creates) creates.push(c)
      if (events.length >= batchSize) yield* flushEvents
      if (creates.length >= batchSize) yield* flushCreates
    })
  const finish = Effect.zipRight(
    Effect.zipRight(flushEvents, flushCreates),
    Effect.suspend(() => Effect.forEach(writing.splice(0), Fiber.join, { discard: true }))
  )
  return { add, finish, written }
}
