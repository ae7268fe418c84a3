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
 * The ingester's queue, counters and wake-ups, shared by its offers, its
 * batch former and its close.
 *
 * The queue is not an Effect `Queue` and batches are not formed with
 * `Stream.groupedWithin`: offered events are encoded at once into byte
 * blocks (`EncodedQueue`), and a batch is a slice of a block. Measured on
 * the bench's ~470-byte events (200,000 offers, batches of 1,000), queueing
 * and batching in byte blocks ran at 180,000-350,000 events/s, an Effect
 * `Queue.bounded` with `takeBetween` at 65,000-81,000 and `Stream.fromQueue`
 * with `groupedWithin` at 30,000-34,000, against an Ingester that runs at
 * about 20,000 events/s end to end: either primitive would cost 15-50% of its
 * throughput. The strategies (`backpressure`, `dropping`, `sliding`) are
 * applied by `admit` below, with the semantics of `Queue.bounded`,
 * `Queue.dropping` and `Queue.sliding`.
 */
class State {
  readonly pending = new EncodedQueue()
  /** events arrived, a flush started, or a slot freed */
  readonly more = new Signal()
  /** the queue has room again */
  readonly space = new Signal()
  /** a batch finished */
  readonly idle = new Signal()
  inFlight = 0
  flushing = 0
  closed = false
  sent = 0
  duplicates = 0
  retried = 0
  failed = 0
  dropped = 0
  batches = 0
  constructor(
    /** batches that may still be sent at once */
    public slots: number
  ) {}

  isIdle(): boolean {
    return this.pending.size === 0 && this.inFlight === 0
  }
}

/** The ingester's options, decoded. */
interface Config {
  readonly maxBatch: number
  readonly maxBytes: number
  readonly maxAge: number
  readonly capacity: number
  readonly strategy: Strategy
  readonly shutdownTimeout: Duration.Duration
  readonly onFailure: Options["onFailure"]
}

/** Counts a batch as given up on, logs it and tells `onFailure`. */
const giveUp = (st: State, config: Config, events: Encoded, error: Failure["error"]) =>
  Effect.gen(function*() {
    st.failed += events.count
    yield* Effect.logError(
      "polar ingester: gave up on a batch",
      typeof error === "string" ? error : error.message
    ).pipe(Effect.annotateLogs({ "polar.events.count": events.count }))
    if (config.onFailure) yield* config.onFailure({ events: events.toPrepared(), error })
  })

/**
 * The batch former: takes a batch once one is full (count or bytes), its
 * oldest event is `maxAge` old, or a flush or close hurries it, and sends it
 * in a worker while a slot is free.
 */
const former = (
  st: State,
  config: Config,
  client: EventsClient["Type"],
  workers: FiberSet.FiberSet
): Effect.Effect<never> => {
  const { maxAge, maxBatch, maxBytes } = config
  const onRetry = () => Effect.sync(() => void st.retried++)

  /** Sends one batch; after a 422 it drops the events Polar named and sends the rest again. */
  const send = (batch: Encoded): Effect.Effect<void> =>
    Effect.gen(function*() {
      let events = batch
      while (events.count > 0) {
        const result = yield* Effect.either(client.ingestEncoded(events, { onRetry }))
        if (Either.isRight(result)) {
          st.sent += result.right.inserted
          st.duplicates += result.right.duplicates
          st.batches++
          return
        }
        const error = result.left
        if (error._tag === "ValidationFailed") {
          const bad = new Set<number>()
          for (const d of error.detail) if (typeof d.loc[2] === "number") bad.add(d.loc[2])
          if (bad.size > 0 && bad.size < events.count) {
            yield* giveUp(st, config, events.filter((i) => bad.has(i)), error)
            events = events.filter((i) => !bad.has(i))
            continue
          }
        }
        return yield* giveUp(st, config, events, error)
      }
    })

  const ready = () =>
    st.pending.size >= maxBatch || st.pending.bytes >= maxBytes || st.flushing > 0 || st.closed

  return Effect.gen(function*() {
    while (true) {
      yield* st.more.wait(() => st.pending.size > 0 && st.slots > 0)
      if (!ready()) {
        const now = yield* Clock.currentTimeMillis
        const wait = st.pending.oldest() + maxAge - now
        if (wait > 0) {
          yield* st.more.waitFor(ready, wait)
          continue
        }
      }
      const batch = st.pending.take(maxBatch, maxBytes)
      st.space.notify()
      st.slots--
      st.inFlight += batch.count
      yield* FiberSet.run(
        workers,
        send(batch).pipe(
          Effect.ensuring(Effect.sync(() => {
            batch.release()
            st.inFlight -= batch.count
            st.slots++
            st.more.notify()
            st.idle.notify()
          }))
        )
      )
    }
  })
}

/**
 * Admission into the queue: `enqueueOne` and `enqueueAll` queue prepared
 * events under the queue's strategy, waiting for room under backpressure.
 */
const admission = (st: State, config: Config, clock: Clock.Clock) => {
  const { capacity, maxBatch, maxBytes, strategy } = config
  const pending = st.pending
  const TRUE = Effect.succeed(true)
  const FALSE = Effect.succeed(false)

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

  /** Queues one event if the strategy lets it in now; `undefined` when it must wait for room. */
  const admit = (e: PreparedEvent): boolean | undefined => {
    if (st.closed) {
      st.dropped++
      return false
    }
    if (pending.size >= capacity) {
      if (strategy === "backpressure") return undefined
      st.dropped++
      if (strategy === "dropping") return false
      pending.dropOldest()
    }
    const now = clock.unsafeCurrentTimeMillis()
    const bytes = pending.push(e.json, now)
    const size = pending.size
    if (size === 1) st.more.notify()
    else if (size % maxBatch === 0 || (pending.bytes >= maxBytes && pending.bytes - bytes < maxBytes)) {
      st.more.notify()
      ioTurn = true
    }
    if (st.inFlight > 0 && now - lastIoTurn >= IO_TURN_MS) ioTurn = true
    if (ioTurn) lastIoTurn = now
    return true
  }

  const roomOrClosed = () => pending.size < capacity || st.closed

  const enqueueOne = (e: PreparedEvent): Effect.Effect<boolean> => {
    const admitted = admit(e)
    if (admitted === true && ioTurn) {
      ioTurn = false
      return yieldToIo
    }
    if (admitted !== undefined) return admitted ? TRUE : FALSE
    return Effect.zipRight(st.space.wait(roomOrClosed), Effect.suspend(() => enqueueOne(e)))
  }

  const enqueueAll = (events: ReadonlyArray<PreparedEvent>, from: number, accepted: number): Effect.Effect<number> =>
    Effect.suspend(() => {
      for (let i = from; i < events.length; i++) {
        const admitted = admit(events[i]!)
        if (admitted === undefined) {
          return Effect.zipRight(st.space.wait(roomOrClosed), enqueueAll(events, i, accepted))
        }
        if (admitted) accepted++
      }
      if (ioTurn) {
        ioTurn = false
        return Effect.as(yieldToIo, accepted)
      }
      return Effect.succeed(accepted)
    })

  return { enqueueOne, enqueueAll }
}

/** Closing: sends what is left, for at most `shutdownTimeout`, then reports what it could not send. */
const close = (st: State, config: Config) =>
  Effect.gen(function*() {
    st.closed = true
    st.more.notify()
    st.space.notify()
    const done = yield* st.idle.wait(() => st.isIdle()).pipe(
      Effect.interruptible,
      Effect.timeout(config.shutdownTimeout),
      Effect.option
    )
    if (done._tag === "None") {
      const left = st.pending.drain()
      yield* Effect.logError(
        `polar ingester: closed after ${Duration.format(config.shutdownTimeout)} with events unsent`
      ).pipe(Effect.annotateLogs({ "polar.events.queued": left.count, "polar.events.in_flight": st.inFlight }))
      st.failed += st.inFlight
      if (left.count > 0) yield* giveUp(st, config, left, "shutdown-timeout")
    }
  })

/** one event alone must fit in a request (a batch of one may exceed `maxBatchBytes`) */
const LIMIT = MAX_BODY - FRAME_BYTES

const tooLarge = (e: PreparedEvent) =>
  new ClientError.PayloadTooLarge({ method: "POST", endpoint: INGEST, bytes: e.bytes, events: 1 })

/**
 * Starts an ingester in the current scope; closing the scope flushes it.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, EventsClient | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* EventsClient
    const config: Config = {
      maxBatch: positive("maxBatchSize", options.maxBatchSize ?? 500),
      maxBytes: positive("maxBatchBytes", options.maxBatchBytes ?? 1024 * 1024),
      maxAge: Duration.toMillis(Duration.decode(options.maxBatchAge ?? Duration.seconds(1))),
      capacity: positive("capacity", options.capacity ?? 10_000),
      strategy: options.strategy ?? "backpressure",
      shutdownTimeout: Duration.decode(options.shutdownTimeout ?? Duration.seconds(10)),
      onFailure: options.onFailure
    }
    const st = new State(positive("concurrency", options.concurrency ?? 2))

    const workers = yield* FiberSet.make()
    yield* Effect.forkScoped(former(st, config, client, workers))

    const flush = Effect.acquireUseRelease(
      Effect.sync(() => {
        st.flushing++
        st.more.notify()
      }),
      () => st.idle.wait(() => st.isIdle()),
      () => Effect.sync(() => void st.flushing--)
    )

    const { enqueueAll, enqueueOne } = admission(st, config, yield* Effect.clock)

    const offerAll = (
      events: ReadonlyArray<EventInput>
    ): Effect.Effect<number, ClientError.ValidationFailed | ClientError.PayloadTooLarge> =>
      Effect.suspend((): Effect.Effect<number, ClientError.ValidationFailed | ClientError.PayloadTooLarge> => {
        const prepared = client.prepare(events, { stampTimestamp: true })
        if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
        const big = prepared.right.find((e) => e.json.length * 3 > LIMIT && e.bytes > LIMIT)
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
        return e.json.length * 3 > LIMIT && e.bytes > LIMIT ? Effect.fail(tooLarge(e)) : enqueueOne(e)
      })

    yield* Effect.addFinalizer(() => close(st, config))

    return Ingester.of({
      offer,
      offerAll,
      flush,
      stats: Effect.sync(() => ({
        sent: st.sent,
        duplicates: st.duplicates,
        retried: st.retried,
        failed: st.failed,
        dropped: st.dropped,
        batches: st.batches,
        queued: st.pending.size,
        inFlight: st.inFlight
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
