/**
 * When and how the client retries a request: exponential backoff with jitter,
 * bounded in attempts and in total time, with `Retry-After` as a floor.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"

/**
 * A retry policy. Attempt `n` (the first retry is `n = 1`) waits
 * `min(maxDelay, initialDelay * factor^(n-1))`, reduced by a random share of
 * up to `jitter` (0 = none, 1 = full jitter), and never less than the
 * server's `Retry-After`. A request stops after `maxAttempts` attempts, or
 * when the next attempt would start later than `maxElapsed` after the first.
 *
 * @since 0.1.0
 */
export interface RetryPolicy {
  /** attempts in all, the first included; 1 disables retries */
  readonly maxAttempts: number
  readonly initialDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
  readonly factor: number
  /** the share (0..1) of each delay that is randomized away */
  readonly jitter: number
  /** the total time one request may take, retries and waits included */
  readonly maxElapsed: Duration.Duration
  /** the statuses that are retried */
  readonly statuses: ReadonlySet<number>
  /** whether a request that got no response (connection error, timeout) is retried */
  readonly retryTransport: boolean
}

/**
 * The options of a retry policy, every one optional.
 *
 * @since 0.1.0
 */
export interface RetryOptions {
  readonly maxAttempts?: number | undefined
  readonly initialDelay?: Duration.DurationInput | undefined
  readonly maxDelay?: Duration.DurationInput | undefined
  readonly factor?: number | undefined
  readonly jitter?: number | undefined
  readonly maxElapsed?: Duration.DurationInput | undefined
  readonly statuses?: Iterable<number> | undefined
  readonly retryTransport?: boolean | undefined
}

/**
 * The statuses retried by default: 408, 429, 500, 502, 503, 504. Every other
 * 4xx is a permanent answer and is never retried.
 *
 * @since 0.1.0
 */
export const defaultStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/**
 * The default policy: 10 attempts, 500 ms doubling up to 30 s, half jitter,
 * at most 5 minutes per request.
 *
 * @since 0.1.0
 */
export const defaultPolicy: RetryPolicy = {
  maxAttempts: 10,
  initialDelay: Duration.millis(500),
  maxDelay: Duration.seconds(30),
  factor: 2,
  jitter: 0.5,
  maxElapsed: Duration.minutes(5),
  statuses: defaultStatuses,
  retryTransport: true
}

/**
 * A policy from options; what is left out keeps its default.
 *
 * @since 0.1.0
 */
export const make = (options: RetryOptions = {}): RetryPolicy => {
  const maxAttempts = options.maxAttempts ?? defaultPolicy.maxAttempts
  const factor = options.factor ?? defaultPolicy.factor
  const jitter = options.jitter ?? defaultPolicy.jitter
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`RetryPolicy.maxAttempts must be an integer >= 1, got ${maxAttempts}`)
  }
  if (!(factor >= 1)) throw new RangeError(`RetryPolicy.factor must be >= 1, got ${factor}`)
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`RetryPolicy.jitter must be in [0, 1], got ${jitter}`)
  return {
    maxAttempts,
    initialDelay: Duration.decode(options.initialDelay ?? defaultPolicy.initialDelay),
    maxDelay: Duration.decode(options.maxDelay ?? defaultPolicy.maxDelay),
    factor,
    jitter,
    maxElapsed: Duration.decode(options.maxElapsed ?? defaultPolicy.maxElapsed),
    statuses: options.statuses === undefined ? defaultStatuses : new Set(options.statuses),
    retryTransport: options.retryTransport ?? defaultPolicy.retryTransport
  }
}

/**
 * A policy that never retries.
 *
 * @since 0.1.0
 */
export const none: RetryPolicy = make({ maxAttempts: 1 })

/**
 * The backoff before retry `n` (1-based), before jitter and `Retry-After`.
 *
 * @since 0.1.0
 */
export const backoff = (policy: RetryPolicy, n: number): Duration.Duration => {
  const base = Duration.toMillis(policy.initialDelay) * Math.pow(policy.factor, Math.max(0, n - 1))
  return Duration.millis(Math.min(Duration.toMillis(policy.maxDelay), base))
}

/**
 * The delay before retry `n` for a random number `random` in [0, 1), with
 * `retryAfter` (if any) as a floor.
 *
 * @since 0.1.0
 */
export const delay = (
  policy: RetryPolicy,
  n: number,
  random: number,
  retryAfter?: Duration.Duration | undefined
): Duration.Duration => {
  const ms = Duration.toMillis(backoff(policy, n)) * (1 - policy.jitter * random)
  const floor = retryAfter === undefined ? 0 : Duration.toMillis(retryAfter)
  return Duration.millis(Math.max(ms, floor))
}

/**
 * Reads a `Retry-After` header: delay-seconds (decimals accepted) or an
 * HTTP-date, relative to `now` (epoch ms). A date in the past means no wait.
 *
 * @since 0.1.0
 */
export const parseRetryAfter = (value: string | undefined, now: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const text = value.trim()
  if (text === "") return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Duration.millis(Math.ceil(Number(text) * 1000))
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Duration.millis(Math.max(0, date - now))
}
