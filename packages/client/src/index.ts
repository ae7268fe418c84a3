/**
 * The Polar events API client (typed reads, retries that honor
 * `Retry-After`, exactly-once ingest), with a batching `Ingester` in front of
 * it and a durable `Outbox` behind that.
 *
 * @since 0.1.0
 */
export * as EventsClient from "./EventsClient.js"

/**
 * The typed errors of every client request, one class per case.
 *
 * @since 0.1.0
 */
export * as ClientError from "./ClientError.js"

/**
 * When and how requests are retried: backoff with jitter, bounded in
 * attempts and time, `Retry-After` as a floor.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * Batches offered events into ingest requests; flushes when its scope closes.
 *
 * @since 0.1.0
 */
export * as Ingester from "./Ingester.js"

/**
 * Durable delivery: events are committed to an SQL outbox before they are
 * acknowledged, and sent exactly once even across crashes.
 *
 * @since 0.1.0
 */
export * as Outbox from "./Outbox.js"
