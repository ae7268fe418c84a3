/**
 * When and how the client retries a request: exponential backoff with jitter,
 * bounded in attempts and in total time, with `Retry-After` as a floor.
 *
 * @since 0.1.0
 */
import { Duration, Schedule } from "effect"

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
 * What a retry schedule reads from a failure: the server's `Retry-After`, if
 * it sent one, and the time the request has taken so far, if known.
 *
 * @since 0.1.0
 */
export interface RetryInput {
  readonly retryAfter?: Duration.Duration | undefined
  /** the time since the request's first attempt started (default: since its first failure) */
  readonly elapsed?: Duration.Duration | undefined
}

/**
 * The policy as a `Schedule` for `Effect.retry`, fed with each failure: an
 * exponential backoff capped at `maxDelay`, jittered, with the failure's
 * `Retry-After` as a floor, recurring at most `maxAttempts - 1` times and
 * stopping when the next attempt would start more than `maxElapsed` after
 * the first (the failure's `elapsed` tells when that was; without it the
 * budget counts from the first failure). Its output is the delay before the
 * next attempt.
 *
 * @since 0.1.0
 */
export const schedule = <In extends RetryInput = RetryInput>(
  policy: RetryPolicy
): Schedule.Schedule<Duration.Duration, In> => {
  const capped = Schedule.exponential(policy.initialDelay, policy.factor).pipe(
    Schedule.modifyDelay((_, d) => Duration.min(d, policy.maxDelay))
  )
  const jittered = policy.jitter > 0 ? Schedule.jitteredWith(capped, { min: 1 - policy.jitter, max: 1 }) : capped
  const floored = Schedule.intersect(jittered, Schedule.identity<In>()).pipe(
    Schedule.modifyDelay(([, input], d) =>
      input.retryAfter === undefined ? d : Duration.max(d, input.retryAfter)
    ),
    Schedule.intersect(Schedule.recurs(policy.maxAttempts - 1))
  )
  const budget = Duration.toMillis(policy.maxElapsed)
  return Schedule.intersect(Schedule.delays(floored), Schedule.intersect(Schedule.elapsed, Schedule.identity<In>())).pipe(
    Schedule.whileOutput(([d, [elapsed, input]]) =>
      Duration.toMillis(input.elapsed ?? elapsed) + Duration.toMillis(d) <= budget
    ),
    Schedule.map(([d]) => d)
  )
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
