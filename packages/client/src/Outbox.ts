/**
 * `Outbox`: delivery to Polar that survives a crash.
 *
 * - `offer(event)` validates the event, gives it its `external_id` and its
 *   timestamp, and writes it to an outbox table in SQL (SQLite by default:
 *   the file can be the one that holds your `EventStore`) before it returns.
 *   Offers from many fibers are written together in one transaction (group
 *   commit, core's `GroupCommit`), so each offer costs a share of one commit,
 *   not a commit; if such a transaction fails, each offer is written again
 *   alone, so one offer's failure is not everyone's.
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
import { GroupCommit } from "@polar-events/core"
import { Clock, Context, Duration, Effect, Either, Layer, type Scope } from "effect"
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

/** The outbox's counters and wake-ups, shared by its writer, its sender and its callers. */
class State {
  offered = 0
  delivered = 0
  duplicates = 0
  dead = 0
  retried = 0
  sendFailures = 0
  commits = 0
  closed = false
  flushing = 0
  /** when a pending event was last written (epoch ms), for the batch age */
  firstPendingAt: number
  /** after a failed send, no new attempt before this time (epoch ms) */
  failedUntil = 0
  lastPrune = 0
  /** offers between `submit` and their answer */
  writing = 0
  readonly toSend = new Signal()
  readonly settled = new Signal()
  constructor(
    /** events in the table, not yet delivered */
    public pending: number
  ) {
    this.firstPendingAt = pending > 0 ? 0 : Number.POSITIVE_INFINITY
  }
}

/** What the sender needs besides the state. */
interface SenderDeps {
  readonly client: EventsClient["Type"]
  readonly sql: SqlClient.SqlClient
  readonly table: string
  readonly maxBatch: number
  readonly maxAge: number
  readonly retryInterval: number
  readonly retain: number
}

/**
 * The sender: reads the outbox in order, sends batches once they are full,
 * old enough or hurried (flush, close), and marks what Polar accepted or
 * rejected for good; after a failure it waits `retryInterval`.
 */
const makeSender = (st: State, deps: SenderDeps): Effect.Effect<never> => {
  const { client, maxAge, maxBatch, retain, retryInterval, sql, table } = deps
  const markDelivered = (rows: ReadonlyArray<Row>, now: number) =>
    sql`UPDATE ${sql(table)} SET delivered_at = ${now} WHERE ${sql.in("seq", rows.map((r) => r.seq))}`

  const markDead = (rows: ReadonlyArray<Row>, now: number, error: string) =>
    sql`UPDATE ${sql(table)} SET dead_at = ${now}, error = ${error} WHERE ${sql.in("seq", rows.map((r) => r.seq))}`

  const prune = (now: number) =>
    now - st.lastPrune < 60_000
      ? Effect.void
      : Effect.zipRight(
        Effect.sync(() => void (st.lastPrune = now)),
        sql`DELETE FROM ${sql(table)} WHERE delivered_at IS NOT NULL AND delivered_at < ${now - retain}`
      )

  const onRetry = () => Effect.sync(() => void st.retried++)

  /** Sends one batch from the table; on a failure it sets `failedUntil`. */
  const sendBatch = Effect.gen(function*() {
    const rows = yield* sql<Row>`SELECT seq, external_id, body, bytes FROM ${sql(table)}
      WHERE delivered_at IS NULL AND dead_at IS NULL ORDER BY seq LIMIT ${maxBatch}`
    if (rows.length === 0) {
      st.pending = 0
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
        st.delivered += result.right.inserted
        st.duplicates += result.right.duplicates
        st.pending -= batch.length
        st.failedUntil = 0
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
          st.dead += rejected.length
          st.pending -= rejected.length
          batch = batch.filter((_, i) => !bad.has(i))
          continue
        }
      }
      st.sendFailures++
      st.failedUntil = now + retryInterval
      return yield* Effect.logError("polar outbox: send failed, events stay pending", error.message).pipe(
        Effect.annotateLogs({ "polar.events.count": batch.length, "polar.retry_in_ms": retryInterval })
      )
    }
  })

  const hurry = () => st.flushing > 0 || st.closed
  const full = () => st.pending >= maxBatch || hurry()

  return Effect.gen(function*() {
    while (true) {
      yield* st.toSend.wait(() => st.pending > 0)
      const now = yield* Clock.currentTimeMillis
      if (st.failedUntil > now) {
        yield* st.toSend.waitFor(() => st.failedUntil === 0, st.failedUntil - now)
        continue
      }
      if (!full() && now - st.firstPendingAt < maxAge) {
        yield* st.toSend.waitFor(full, st.firstPendingAt + maxAge - now)
        continue
      }
      yield* sendBatch.pipe(
        Effect.catchAll((error) =>
          Effect.gen(function*() {
            st.sendFailures++
            st.failedUntil = (yield* Clock.currentTimeMillis) + retryInterval
            yield* Effect.logError("polar outbox: reading or marking the table failed", error.message)
          })
        )
      )
      st.firstPendingAt = st.pending > 0 ? 0 : Number.POSITIVE_INFINITY
      st.settled.notify()
    }
  })

}

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
    const st = new State(Number(counted[0]?.n ?? 0))

    const insertRows = (events: ReadonlyArray<PreparedEvent>, now: number) =>
      Effect.forEach(
        chunks(events, ROWS_PER_INSERT),
        (part) =>
          sql`INSERT INTO ${sql(table)} ${
            sql.insert(part.map((e) => ({ external_id: e.externalId, body: e.json, bytes: e.bytes, created_at: now })))
          }`,
        { discard: true }
      )

    /** Commits one group of offers in one transaction, then counts it in and wakes the sender. */
    const commit = (events: ReadonlyArray<PreparedEvent>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        sql.withTransaction(insertRows(events, now)).pipe(
          Effect.map(() => {
            st.commits++
            st.offered += events.length
            if (st.pending === 0) st.firstPendingAt = now
            st.pending += events.length
            st.toSend.notify()
            return new Array<void>(events.length)
          })
        ))

    // group commit: every offer waiting is committed in one transaction
    const submit = yield* GroupCommit.make<PreparedEvent, void, SqlError>({ write: commit, maxItems: maxCommit })

    const sender = makeSender(st, { client, sql, table, maxBatch, maxAge, retryInterval, retain })
    yield* Effect.forkScoped(sender)

    const offerAll = (input: ReadonlyArray<EventInput>) =>
      Effect.gen(function*() {
        if (st.closed) return yield* Effect.dieMessage("Outbox: offer after the outbox was closed")
        const prepared = client.prepare(input, { stampTimestamp: true })
        if (Either.isLeft(prepared)) return yield* Effect.fail(prepared.left)
        const big = prepared.right.find((e) => e.bytes > MAX_BODY - FRAME_BYTES)
        if (big !== undefined) {
          return yield* Effect.fail(
            new ClientError.PayloadTooLarge({ method: "POST", endpoint: INGEST, bytes: big.bytes, events: 1 })
          )
        }
        if (prepared.right.length === 0) return
        st.writing++
        yield* submit(prepared.right).pipe(
          Effect.ensuring(Effect.sync(() => {
            st.writing--
            st.settled.notify()
          }))
        )
      })

    const offer = (event: EventInput) => offerAll([event])

    /** nothing left to write, and nothing pending or the last send failed */
    const written = () => st.writing === 0
    const quiet = () => written() && (st.pending === 0 || st.failedUntil > 0)

    const flush = Effect.acquireUseRelease(
      Effect.sync(() => {
        st.flushing++
        st.failedUntil = 0
        st.toSend.notify()
      }),
      () => st.settled.wait(quiet),
      () => Effect.sync(() => void st.flushing--)
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* st.settled.wait(written)
        st.closed = true
        st.failedUntil = 0
        st.toSend.notify()
        yield* st.settled.wait(quiet).pipe(Effect.interruptible, Effect.timeout(shutdownTimeout), Effect.option)
        if (st.pending > 0) {
          yield* Effect.logWarning("polar outbox: closed with events pending; the next start sends them").pipe(
            Effect.annotateLogs({ "polar.events.pending": st.pending })
          )
        }
      })
    )

    return Outbox.of({
      offer,
      offerAll,
      flush,
      stats: Effect.sync(() => ({
        offered: st.offered,
        delivered: st.delivered,
        duplicates: st.duplicates,
        dead: st.dead,
        retried: st.retried,
        sendFailures: st.sendFailures,
        commits: st.commits,
        pending: st.pending
      }))
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
