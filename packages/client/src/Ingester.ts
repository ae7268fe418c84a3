/**
 * `Ingester`: the batching front of `EventsClient`, what an app calls for
 * every event instead of `ingest`.
 *
 * - `offer(event)` validates the event, gives it its `external_id` (and its
 *   timestamp, if it has none) and returns at once; nothing waits for the
 *   network.
 * - Events leave in batches: when `maxBatchSize` events (default 500) or
 *   `maxBatchBytes` bytes are waiting, or when the oldest has waited
 *   `maxBatchAge` (default 1 s). Up to `concurrency` batches are in flight.
 * - The queue holds at most `capacity` events. When it is full, `offer`
 *   waits (`"backpressure"`, the default), drops the new event
 *   (`"dropping"`) or drops the oldest waiting one (`"sliding"`).
 * - When its scope closes (e.g. SIGINT/SIGTERM under `NodeRuntime.runMain`)
 *   it sends everything it holds, waiting at most `shutdownTimeout`.
 * - `stats` counts what was sent, skipped as duplicates, retried, failed,
 *   dropped and is still queued.
 *
 * Events held in memory are lost if the process dies; use the `Outbox` for
 * delivery that survives a crash.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Either, FiberSet, Layer, type Scope } from "effect"
import * as ClientError from "./ClientError.js"
import { EventsClient, type EventInput, type PreparedEvent } from "./EventsClient.js"
import { type Encoded, EncodedQueue, FRAME_BYTES } from "./internal/encoded.js"
import { INGEST } from "./internal/prepare.js"
import { Signal } from "./internal/signal.js"

/**
 * What to do with an offered event when the queue is full.
 *
 * @since 0.1.0
 */
export type Strategy = "backpressure" | "dropping" | "sliding"

/**
 * A batch the ingester gave up on, with the error that ended it.
 *
 * @since 0.1.0
 */
export interface Failure {
  readonly events: ReadonlyArray<PreparedEvent>
  readonly error: ClientError.ClientError | "shutdown-timeout"
}

/**
 * Options of the ingester.
 *
 * @since 0.1.0
 */
export interface Options {
  /** events per batch (default 500) */
  readonly maxBatchSize?: number | undefined
  /** how long the oldest waiting event may wait before its batch leaves (default 1 s) */
  readonly maxBatchAge?: Duration.DurationInput | undefined
  /** bytes of event JSON per batch (default 1 MiB) */
  readonly maxBatchBytes?: number | undefined
  /** events waiting at most (default 10,000) */
  readonly capacity?: number | undefined
  /** when the queue is full (default `"backpressure"`) */
  readonly strategy?: Strategy | undefined
  /** batches in flight at once (default 2) */
  readonly concurrency?: number | undefined
  /** how long closing may take to send what is left (default 10 s) */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** told about every batch given up on, e.g. to keep it elsewhere */
  readonly onFailure?: ((failure: Failure) => Effect.Effect<void>) | undefined
}

/**
 * Counters since the ingester started: events `sent` (inserted by Polar),
 * `duplicates` (Polar already had their `external_id`: a retry of a request
 * it had processed, or a repeated event), `failed` (given up on), `dropped`
 * (by the queue strategy or offered after closing), `retried` (request
 * retries), `batches` (requests that succeeded); and now: `queued` (waiting)
 * and `inFlight` (being sent).
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly sent: number
  readonly duplicates: number
  readonly retried: number
  readonly failed: number
  readonly dropped: number
  readonly batches: number
  readonly queued: number
  readonly inFlight: number
}

/**
 * The ingester.
 *
 * @since 0.1.0
 */
export interface Service {
  /**
   * Queues one event; returns at once with `true`, or `false` if it was not
   * accepted (queue full under `"dropping"`, or the ingester is closed).
   * Fails with `ValidationFailed` for an event Polar would reject and with
   * `PayloadTooLarge` for one larger than a request may be.
   */
  readonly offer: (
    event: EventInput
  ) => Effect.Effect<boolean, ClientError.ValidationFailed | ClientError.PayloadTooLarge>
  /**
   * Queues several events, all or none: if any is invalid, none is queued
   * and the error lists every problem. Returns how many were accepted.
   */
  readonly offerAll: (
    events: ReadonlyArray<EventInput>
  ) => Effect.Effect<number, ClientError.ValidationFailed | ClientError.PayloadTooLarge>
  /** Sends everything queued now, without waiting for batches to fill, and waits until idle. */
  readonly flush: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * The ingester as a service.
 *
 * @since 0.1.0
 */
export class Ingester extends Context.Tag("@polar-events/client/Ingester")<Ingester, Service>() {}

const positive = (name: string, n: number) => {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Ingester: ${name} must be an integer >= 1, got ${n}`)
  return n
}

const MAX_BODY = 10 * 1024 * 1024
/** how long a tight loop of offers may keep the event loop from I/O while batches are in flight */
const IO_TURN_MS = 2

/**
 * Starts an ingester in the current scope; closing the scope flushes it.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, EventsClient | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* EventsClient
    const maxBatch = positive("maxBatchSize", options.maxBatchSize ?? 500)
    const maxBytes = positive("maxBatchBytes", options.maxBatchBytes ?? 1024 * 1024)
    const maxAge = Duration.toMillis(Duration.decode(options.maxBatchAge ?? Duration.seconds(1)))
    const capacity = positive("capacity", options.capacity ?? 10_000)
    const concurrency = positive("concurrency", options.concurrency ?? 2)
    const strategy = options.strategy ?? "backpressure"
    const shutdownTimeout = Duration.decode(options.shutdownTimeout ?? Duration.seconds(10))

    const pending = new EncodedQueue()
    const more = new Signal() // events arrived, a flush started, or a slot freed
    const space = new Signal() // the queue has room again
    const idle = new Signal() // a batch finished
    let inFlight = 0
    let slots = concurrency
    let flushing = 0
    let closed = false
    let sent = 0, duplicates = 0, retried = 0, failed = 0, dropped = 0, batches = 0

    const onRetry = () => Effect.sync(() => void retried++)

    const fail = (events: Encoded, error: Failure["error"]) =>
      Effect.gen(function*() {
        failed += events.count
        yield* Effect.logError(
          "polar ingester: gave up on a batch",
          typeof error === "string" ? error : error.message
        ).pipe(Effect.annotateLogs({ "polar.events.count": events.count }))
        if (options.onFailure) yield* options.onFailure({ events: events.toPrepared(), error })
      })

    /** Sends one batch; after a 422 it drops the events Polar named and sends the rest again. */
    const send = (batch: Encoded): Effect.Effect<void> =>
      Effect.gen(function*() {
        let events = batch
        while (events.count > 0) {
          const result = yield* Effect.either(client.ingestEncoded(events, { onRetry }))
          if (Either.isRight(result)) {
            sent += result.right.inserted
            duplicates += result.right.duplicates
            batches++
            return
          }
          const error = result.left
          if (error._tag === "ValidationFailed") {
            const bad = new Set<number>()
            for (const d of error.detail) if (typeof d.loc[2] === "number") bad.add(d.loc[2])
            if (bad.size > 0 && bad.size < events.count) {
              yield* fail(events.filter((i) => bad.has(i)), error)
              events = events.filter((i) => !bad.has(i))
              continue
            }
          }
          return yield* fail(events, error)
        }
      })

    const workers = yield* FiberSet.make()

    const ready = () =>
      pending.size >= maxBatch || pending.bytes >= maxBytes || flushing > 0 || closed

    const former = Effect.gen(function*() {
      while (true) {
        yield* more.wait(() => pending.size > 0 && slots > 0)
        if (!ready()) {
          const now = yield* Clock.currentTimeMillis
          const wait = pending.oldest() + maxAge - now
          if (wait > 0) {
            yield* more.waitFor(ready, wait)
            continue
          }
        }
        const batch = pending.take(maxBatch, maxBytes)
        space.notify()
        slots--
        inFlight += batch.count
        yield* FiberSet.run(
          workers,
          send(batch).pipe(
            Effect.ensuring(Effect.sync(() => {
              batch.release()
              inFlight -= batch.count
              slots++
              more.notify()
              idle.notify()
            }))
          )
        )
      }
    })
    yield* Effect.forkScoped(former)

    const isIdle = () => pending.size === 0 && inFlight === 0

    const flush = Effect.acquireUseRelease(
      Effect.sync(() => {
        flushing++
        more.notify()
      }),
      () => idle.wait(isIdle),
      () => Effect.sync(() => void flushing--)
    )

    const clock = yield* Effect.clock
    const TRUE = Effect.succeed(true)
    const FALSE = Effect.succeed(false)

    /** Queues one event if the strategy lets it in now; `undefined` when it must wait for room. */
    const admit = (e: PreparedEvent): boolean | undefined => {
      if (closed) {
        dropped++
        return false
      }
      if (pending.size >= capacity) {
        if (strategy === "backpressure") return undefined
        dropped++
        if (strategy === "dropping") return false
        pending.dropOldest()
      }
      const now = clock.unsafeCurrentTimeMillis()
      const bytes = pending.push(e.json, now)
      const size = pending.size
      if (size === 1) more.notify()
      else if (size % maxBatch === 0 || (pending.bytes >= maxBytes && pending.bytes - bytes < maxBytes)) {
        more.notify()
        ioTurn = true
      }
      if (inFlight > 0 && now - lastIoTurn >= IO_TURN_MS) ioTurn = true
      if (ioTurn) lastIoTurn = now
      return true
    }

    /**
     * Set when an offer completed a batch, or every few milliseconds while
     * batches are in flight: that offer then lets the event loop run once
     * (`setImmediate`). Effect switches between fibers on the microtask queue,
     * where I/O never gets a turn, so a producer offering in a tight loop
     * would otherwise hold back the writing of request bodies and the reading
     * of answers.
     */
    let ioTurn = false
    let lastIoTurn = 0
    const yieldToIo = Effect.async<boolean>((resume) => {
      const handle = setImmediate(() => resume(TRUE))
      return Effect.sync(() => clearImmediate(handle))
    })

    const roomOrClosed = () => pending.size < capacity || closed

    const enqueueOne = (e: PreparedEvent): Effect.Effect<boolean> => {
      const admitted = admit(e)
      if (admitted === true && ioTurn) {
        ioTurn = false
        return yieldToIo
      }
      if (admitted !== undefined) return admitted ? TRUE : FALSE
      return Effect.zipRight(space.wait(roomOrClosed), Effect.suspend(() => enqueueOne(e)))
    }

    const enqueueAll = (events: ReadonlyArray<PreparedEvent>, from: number, accepted: number): Effect.Effect<number> =>
      Effect.suspend(() => {
        for (let i = from; i < events.length; i++) {
          const admitted = admit(events[i]!)
          if (admitted === undefined) {
            return Effect.zipRight(space.wait(roomOrClosed), enqueueAll(events, i, accepted))
          }
          if (admitted) accepted++
        }
        if (ioTurn) {
          ioTurn = false
          return Effect.as(yieldToIo, accepted)
        }
        return Effect.succeed(accepted)
      })

    /** one event alone must fit in a request (a batch of one may exceed `maxBatchBytes`) */
    const limit = MAX_BODY - FRAME_BYTES
    const tooLarge = (e: PreparedEvent) =>
      new ClientError.PayloadTooLarge({ method: "POST", endpoint: INGEST, bytes: e.bytes, events: 1 })

    const offerAll = (
      events: ReadonlyArray<EventInput>
    ): Effect.Effect<number, ClientError.ValidationFailed | ClientError.PayloadTooLarge> =>
      Effect.suspend((): Effect.Effect<number, ClientError.ValidationFailed | ClientError.PayloadTooLarge> => {
        const prepared = client.prepare(events, { stampTimestamp: true })
        if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
        const big = prepared.right.find((e) => e.json.length * 3 > limit && e.bytes > limit)
        return big === undefined ? enqueueAll(prepared.right, 0, 0) : Effect.fail(tooLarge(big))
      })

    const offer = (
      event: EventInput
    ): Effect.Effect<boolean, ClientError.ValidationFailed | ClientError.PayloadTooLarge> =>
      Effect.suspend((): Effect.Effect<boolean, ClientError.ValidationFailed | ClientError.PayloadTooLarge> => {
        const prepared = client.prepare([event], { stampTimestamp: true })
        if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
        const e = prepared.right[0]!
        // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long event is measured
        return e.json.length * 3 > limit && e.bytes > limit ? Effect.fail(tooLarge(e)) : enqueueOne(e)
      })

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        closed = true
        more.notify()
        space.notify()
        const done = yield* idle.wait(isIdle).pipe(Effect.interruptible, Effect.timeout(shutdownTimeout), Effect.option)
        if (done._tag === "None") {
          const left = pending.drain()
          yield* Effect.logError(
            `polar ingester: closed after ${Duration.format(shutdownTimeout)} with events unsent`
          ).pipe(Effect.annotateLogs({ "polar.events.queued": left.count, "polar.events.in_flight": inFlight }))
          failed += inFlight
          if (left.count > 0) yield* fail(left, "shutdown-timeout")
        }
      })
    )

    return Ingester.of({
      offer,
      offerAll,
      flush,
      stats: Effect.sync(() => ({
        sent,
        duplicates,
        retried,
        failed,
        dropped,
        batches,
        queued: pending.size,
        inFlight
      }))
    })
  })

/**
 * The ingester as a scoped layer: it flushes when the layer's scope closes.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<Ingester, never, EventsClient> =>
  Layer.scoped(Ingester, make(options))
