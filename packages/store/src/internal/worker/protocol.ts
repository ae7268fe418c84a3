/**
 * The messages between the main thread and the SQLite worker threads (the
 * write thread and the checkpointer), described once with Schema; both
 * sides import them.
 *
 * The hot path is typed with the schemas' `Type` and not decoded: the
 * thread's messages are built by this package on one side and read by it on
 * the other, and decoding a request of 20,000 rows would cost more than the
 * structured clone itself. Decoded are what crosses from outside: an
 * error's fields as the driver raised them, and the thread's answer to
 * `open`. The worker threads import these types only: loading `effect` in a
 * thread would add its start-up time to every store that opens one.
 *
 * @internal
 */
import { Schema } from "effect"

/** A statement with its parameters. @internal */
export const Statement = Schema.Struct({ sql: Schema.String, params: Schema.Array(Schema.Unknown) })
/** @internal */
export type Statement = typeof Statement.Type

/** The ordering fields of a request: its answer's number and the transaction it belongs to. */
const Envelope = {
  /** the answer's number; absent: nobody waits for the answer */
  seq: Schema.optional(Schema.Number),
  /** the transaction (1, 2, ...) the operation belongs to */
  tx: Schema.optional(Schema.Number),
  /** the first operation of its transaction: `BEGIN IMMEDIATE` first */
  begin: Schema.optional(Schema.Boolean),
  /** nobody waits: a failure fails the transaction's later operations and its commit */
  noReply: Schema.optional(Schema.Boolean)
}

/** Sets the connection up (WAL, the store's pragmas, the backstop checkpoint); answers the page size. @internal */
export const Open = Schema.Struct({
  op: Schema.Literal("open"),
  pragmas: Schema.Array(Schema.String),
  backstop: Schema.Number,
  ...Envelope
})

/** Runs one statement; answers its rows (none for a statement that returns none). @internal */
export const Query = Schema.Struct({ op: Schema.Literal("query"), ...Statement.fields, ...Envelope })

/**
 * Inserts rows one by one with the prepared `sql`; then, if `then` is given,
 * every row went in and none of `unless` finds a row, runs `then` and
 * commits. Answers an `InsertResult`.
 *
 * @internal
 */
export const InsertEach = Schema.Struct({
  op: Schema.Literal("insertEach"),
  sql: Schema.String,
  rows: Schema.Array(Schema.Array(Schema.Unknown)),
  then: Schema.optional(Schema.Array(Statement)),
  unless: Schema.optional(Schema.Array(Statement)),
  ...Envelope
})

/** Ends the current transaction: `commit`, `rollback`, or closes the connection (`close`). @internal */
export const End = Schema.Struct({ op: Schema.Literal("commit", "rollback", "close"), ...Envelope })

/** A request to the write thread. @internal */
export const Request = Schema.Union(Open, Query, InsertEach, End)
/** @internal */
export type Request = typeof Request.Type

/** The answer to `insertEach`: per row 1 if it went in, and whether the transaction committed. @internal */
export const InsertResult = Schema.Struct({ flags: Schema.Uint8ArrayFromSelf, committed: Schema.Boolean })
/** @internal */
export type InsertResult = typeof InsertResult.Type

/** An error as the driver raised it. @internal */
export const ThreadError = Schema.Struct({
  name: Schema.optional(Schema.String),
  message: Schema.String,
  code: Schema.optional(Schema.Unknown)
})
/** @internal */
export type ThreadError = typeof ThreadError.Type

/** The write thread's answer to a request with a `seq`. @internal */
export const Reply = Schema.Union(
  Schema.Struct({ seq: Schema.Number, ok: Schema.Literal(true), value: Schema.Unknown }),
  Schema.Struct({ seq: Schema.Number, ok: Schema.Literal(false), error: ThreadError })
)
/** @internal */
export type Reply = typeof Reply.Type

/** What the write thread starts with. @internal */
export const WriterData = Schema.Struct({ filename: Schema.String })
/** @internal */
export type WriterData = typeof WriterData.Type

/** What the checkpointer starts with: its file, the WAL pages it lets pile up, its pause in ms. @internal */
export const CheckpointerData = Schema.Struct({ filename: Schema.String, pages: Schema.Number, interval: Schema.Number })
/** @internal */
export type CheckpointerData = typeof CheckpointerData.Type

/** The checkpointer's one message: close the connection and exit. @internal */
export const Stop = Schema.Literal("stop")
/** @internal */
export type Stop = typeof Stop.Type
