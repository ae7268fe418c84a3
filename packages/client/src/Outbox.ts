/**
 * `Outbox`: delivery to Polar that survives a crash.
 *
 * - `offer(event)` validates the event, gives it its `external_id` and its
 *   timestamp, and writes it to an outbox table in SQL (SQLite by default:
 *   the file can be the one that holds your `EventStore`) before it returns.
 *   Offers from many fibers are written together in one transaction (group
 *   commit), so each offer costs a share of one commit, not a commit.
 * - A sender reads the outbox in order, sends batches through
 *   `EventsClient`, and marks each event delivered when Polar accepted it.
 * - After a crash (even `kill -9`) the next start sends what is still marked
 *   pending. An event whose request reached Polar but whose mark did not
 *   reach the disk is sent again with the same `external_id`, and Polar
 *   counts it as a duplicate: delivery is exactly once.
 * - An event Polar rejects for good (a 422 naming it) is marked dead with the
 *   reason and never sent again; every other failure leaves events pending
 *   and the sender tries again after `retryInterval`.
 *
 * One process should drain an outbox at a time; a second one on the same
 * file only causes duplicates, which Polar skips.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Deferred, Duration, Effect, Either, Layer, type Scope } from "effect"
import * as ClientError from "./ClientError.js"
import { EventsClient, type EventInput, type PreparedEvent } from "./EventsClient.js"
import { FRAME_BYTES } from "./internal/encoded.js"
import { INGEST } from "./internal/prepare.js"
import { Signal } from "./internal/signal.js"

/**
 * Options of the outbox.
 *
 * @since 0.1.0
 */
export interface Options {
  /** the table (created if missing; default `polar_events_outbox`) */
  readonly table?: string | undefined
  /** events per request (default 500) */
  readonly maxBatchSize?: number | undefined
  /** how long a new event may wait for its batch to fill (default 1 s) */
  readonly maxBatchAge?: Duration.DurationInput | undefined
  /** events written per transaction at most (default 5,000) */
  readonly maxCommitSize?: number | undefined
  /** the wait before sending again after a request failed for good (default 5 s) */
  readonly retryInterval?: Duration.DurationInput | undefined
  /** how long delivered events stay in the table before they are deleted (default 1 hour) */
  readonly retainDelivered?: Duration.DurationInput | undefined
  /** how long closing may spend sending; what is left stays pending (default 10 s) */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

/**
 * Counters since start: `offered` (written), `delivered` (inserted by
 * Polar), `duplicates` (Polar already had them), `dead` (rejected for good),
 * `retried` (request retries), `sendFailures` (batches that failed and wait
 * for `retryInterval`), and `pending` (in the table, not yet delivered).
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly offered: number
  readonly delivered: number
  readonly duplicates: number
  readonly dead: number
  readonly retried: number
  readonly sendFailures: number
  readonly commits: number
  readonly pending: number
}

/**
 * The outbox.
 *
 * @since 0.1.0
 */
export interface Service {
  /** Writes one event to the outbox; returns once it is committed. */
  readonly offer: (
    event: EventInput
  ) => Effect.Effect<void, ClientError.ValidationFailed | ClientError.PayloadTooLarge | SqlError>
  /** Writes several events in one commit, all or none. */
  readonly offerAll: (
    events: ReadonlyArray<EventInput>
  ) => Effect.Effect<void, ClientError.ValidationFailed | ClientError.PayloadTooLarge | SqlError>
  /** Sends everything pending now and waits until nothing is pending (or only failing batches are). */
  readonly flush: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * The outbox as a service.
 *
 * @since 0.1.0
 */
export class Outbox extends Context.Tag("@polar-events/client/Outbox")<Outbox, Service>() {}

interface Row {
  readonly seq: number
  readonly external_id: string
  readonly body: string
  readonly bytes: number
}

interface Write {
  readonly events: ReadonlyArray<PreparedEvent>
  readonly done: Deferred.Deferred<void, SqlError>
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const MAX_BODY = 10 * 1024 * 1024
const ROWS_PER_INSERT = 200

/**
 * Creates the outbox table if it is missing.
 *
 * @since 0.1.0
 */
export const migrate = (table: string = "polar_events_outbox"): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    if (!IDENT.test(table)) return yield* Effect.dieMessage(`Outbox: invalid table name ${JSON.stringify(table)}`)
    const sql = yield* SqlClient.SqlClient
    if (sql.onDialectOrElse({ sqlite: () => false, orElse: () => true })) {
      return yield* Effect.dieMessage("Outbox: only SQLite is supported (use @effect/sql-sqlite-node)")
    }
    // another process (an EventStore on the same file) may hold the write lock for a moment
    const [busy] = yield* sql.unsafe<{ timeout: number }>("PRAGMA busy_timeout")
    if (Number(busy?.timeout ?? 0) === 0) yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${table} (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      external_id TEXT NOT NULL,
      body TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      delivered_at INTEGER,
      dead_at INTEGER,
      error TEXT
    )`)
    yield* sql.unsafe(
      `CREATE INDEX IF NOT EXISTS ${table}_pending ON ${table} (seq) WHERE delivered_at IS NULL AND dead_at IS NULL`
    )
    yield* sql.unsafe(
      `CREATE INDEX IF NOT EXISTS ${table}_delivered ON ${table} (delivered_at) WHERE delivered_at IS NOT NULL`
    )
  })

/**
 * Starts the outbox in the current scope: creates its table, resumes
 * sending what an earlier run left pending, and on close finishes writing
 * and tries to send what is pending for up to `shutdownTimeout`.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, SqlError, EventsClient | SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* EventsClient
    const sql = yield* SqlClient.SqlClient
    const table = options.table ?? "polar_events_outbox"
    yield* migrate(table)
    const maxBatch = options.maxBatchSize ?? 500
    const maxAge = Duration.toMillis(Duration.decode(options.maxBatchAge ?? Duration.seconds(1)))
    const maxCommit = options.maxCommitSize ?? 5000
    const retryInterval = Duration.toMillis(Duration.decode(options.retryInterval ?? Duration.seconds(5)))
    const retain = Duration.toMillis(Duration.decode(options.retainDelivered ?? Duration.hours(1)))
    const shutdownTimeout = Duration.decode(options.shutdownTimeout ?? Duration.seconds(10))

    const counted = yield* sql.unsafe<{ n: number }>(
      `SELECT count(*) AS n FROM ${table} WHERE delivered_at IS NULL AND dead_at IS NULL`
    )
    let pending = Number(counted[0]?.n ?? 0)
    let offered = 0, delivered = 0, duplicates = 0, dead = 0, retried = 0, sendFailures = 0, commits = 0
    let closed = false
    let flushing = 0
    /** when a pending event was last written (epoch ms), for the batch age */
    let firstPendingAt = pending > 0 ? 0 : Number.POSITIVE_INFINITY
    /** after a failed send, no new attempt before this time (epoch ms) */
    let failedUntil = 0
    let lastPrune = 0

    const writes: Array<Write> = []
    let writing = 0
    const toWrite = new Signal()
    const toSend = new Signal()
    const settled = new Signal()

    const insertRows = (events: ReadonlyArray<PreparedEvent>, now: number) =>
      Effect.forEach(
        chunks(events, ROWS_PER_INSERT),
        (part) =>
          sql`INSERT INTO ${sql(table)} ${
            sql.insert(part.map((e) => ({ external_id: e.externalId, body: e.json, bytes: e.bytes, created_at: now })))
          }`,
        { discard: true }
      )

    /** Group commit: every write waiting is committed in one transaction. */
    const writer = Effect.gen(function*() {
      while (true) {
        yield* toWrite.wait(() => writes.length > 0)
        const group: Array<Write> = []
        let n = 0
        while (writes.length > 0 && (group.length === 0 || n + writes[0]!.events.length <= maxCommit)) {
          const w = writes.shift()!
          group.push(w)
          n += w.events.length
        }
        const now = yield* Clock.currentTimeMillis
        const events = group.flatMap((w) => w.events)
        writing = group.length
        const result = yield* Effect.either(sql.withTransaction(insertRows(events, now)))
        writing = 0
        if (Either.isRight(result)) {
          commits++
          offered += n
          if (pending === 0) firstPendingAt = now
          pending += n
          toSend.notify()
        }
        for (const w of group) {
          yield* Either.isRight(result) ? Deferred.succeed(w.done, undefined) : Deferred.fail(w.done, result.left)
        }
        settled.notify()
      }
    })

    const markDelivered = (rows: ReadonlyArray<Row>, now: number) =>
      sql`UPDATE ${sql(table)} SET delivered_at = ${now} WHERE ${sql.in("seq", rows.map((r) => r.seq))}`

    const markDead = (rows: ReadonlyArray<Row>, now: number, error: string) =>
      sql`UPDATE ${sql(table)} SET dead_at = ${now}, error = ${error} WHERE ${sql.in("seq", rows.map((r) => r.seq))}`

    const prune = (now: number) =>
      now - lastPrune < 60_000
        ? Effect.void
        : Effect.zipRight(
          Effect.sync(() => void (lastPrune = now)),
          sql`DELETE FROM ${sql(table)} WHERE delivered_at IS NOT NULL AND delivered_at < ${now - retain}`
        )

    const onRetry = () => Effect.sync(() => void retried++)

    /** Sends one batch from the table; on a failure it sets `failedUntil`. */
    const sendBatch = Effect.gen(function*() {
      const rows = yield* sql<Row>`SELECT seq, external_id, body, bytes FROM ${sql(table)}
        WHERE delivered_at IS NULL AND dead_at IS NULL ORDER BY seq LIMIT ${maxBatch}`
      if (rows.length === 0) {
        pending = 0
        return
      }
      let batch = rows.map((r) => ({ ...r, seq: Number(r.seq) }))
      while (batch.length > 0) {
        const events = batch.map((r): PreparedEvent => ({
          externalId: r.external_id,
          json: r.body,
          bytes: Number(r.bytes)
        }))
        const result = yield* Effect.either(client.ingestPrepared(events, { onRetry }))
        const now = yield* Clock.currentTimeMillis
        if (Either.isRight(result)) {
          yield* markDelivered(batch, now)
          delivered += result.right.inserted
          duplicates += result.right.duplicates
          pending -= batch.length
          failedUntil = 0
          return yield* prune(now)
        }
        const error = result.left
        if (error._tag === "ValidationFailed") {
          const bad = new Set<number>()
          for (const d of error.detail) if (typeof d.loc[2] === "number") bad.add(d.loc[2])
          if (bad.size > 0) {
            const rejected = batch.filter((_, i) => bad.has(i))
            yield* markDead(rejected, now, error.message)
            yield* Effect.logError("polar outbox: events rejected for good", error.message).pipe(
              Effect.annotateLogs({ "polar.events.count": rejected.length })
            )
            dead += rejected.length
            pending -= rejected.length
            batch = batch.filter((_, i) => !bad.has(i))
            continue
          }
        }
        sendFailures++
        failedUntil = now + retryInterval
        return yield* Effect.logError("polar outbox: send failed, events stay pending", error.message).pipe(
          Effect.annotateLogs({ "polar.events.count": batch.length, "polar.retry_in_ms": retryInterval })
        )
      }
    })

    const hurry = () => flushing > 0 || closed
    const full = () => pending >= maxBatch || hurry()

    const sender = Effect.gen(function*() {
      while (true) {
        yield* toSend.wait(() => pending > 0)
        const now = yield* Clock.currentTimeMillis
        if (failedUntil > now) {
          yield* toSend.waitFor(() => failedUntil === 0, failedUntil - now)
          continue
        }
        if (!full() && now - firstPendingAt < maxAge) {
          yield* toSend.waitFor(full, firstPendingAt + maxAge - now)
          continue
        }
        yield* sendBatch.pipe(
          Effect.catchAll((error) =>
            Effect.gen(function*() {
              sendFailures++
              failedUntil = (yield* Clock.currentTimeMillis) + retryInterval
              yield* Effect.logError("polar outbox: reading or marking the table failed", error.message)
            })
          )
        )
        firstPendingAt = pending > 0 ? 0 : Number.POSITIVE_INFINITY
        settled.notify()
      }
    })

    yield* Effect.forkScoped(writer)
    yield* Effect.forkScoped(sender)

    const offerAll = (input: ReadonlyArray<EventInput>) =>
      Effect.gen(function*() {
        if (closed) return yield* Effect.dieMessage("Outbox: offer after the outbox was closed")
        const prepared = client.prepare(input, { stampTimestamp: true })
        if (Either.isLeft(prepared)) return yield* Effect.fail(prepared.left)
        const big = prepared.right.find((e) => e.bytes > MAX_BODY - FRAME_BYTES)
        if (big !== undefined) {
          return yield* Effect.fail(
            new ClientError.PayloadTooLarge({ method: "POST", endpoint: INGEST, bytes: big.bytes, events: 1 })
          )
        }
        if (prepared.right.length === 0) return
        const done = yield* Deferred.make<void, SqlError>()
        writes.push({ events: prepared.right, done })
        toWrite.notify()
        return yield* Deferred.await(done)
      })

    const offer = (event: EventInput) => offerAll([event])

    /** nothing left to write, and nothing pending or the last send failed */
    const written = () => writes.length === 0 && writing === 0
    const quiet = () => written() && (pending === 0 || failedUntil > 0)

    const flush = Effect.acquireUseRelease(
      Effect.sync(() => {
        flushing++
        failedUntil = 0
        toSend.notify()
      }),
      () => settled.wait(quiet),
      () => Effect.sync(() => void flushing--)
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* settled.wait(written)
        closed = true
        failedUntil = 0
        toSend.notify()
        yield* settled.wait(quiet).pipe(Effect.interruptible, Effect.timeout(shutdownTimeout), Effect.option)
        if (pending > 0) {
          yield* Effect.logWarning("polar outbox: closed with events pending; the next start sends them").pipe(
            Effect.annotateLogs({ "polar.events.pending": pending })
          )
        }
      })
    )

    return Outbox.of({
      offer,
      offerAll,
      flush,
      stats: Effect.sync(() => ({ offered, delivered, duplicates, dead, retried, sendFailures, commits, pending }))
    })
  })

const chunks = <A>(xs: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}

/**
 * The outbox as a scoped layer over an `SqlClient` (e.g. `SqliteClient.layer`).
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Outbox, SqlError, EventsClient | SqlClient.SqlClient> => Layer.scoped(Outbox, make(options))
