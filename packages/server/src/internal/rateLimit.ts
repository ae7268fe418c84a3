import { Duration } from "effect"
import { RateLimited } from "../ServerError.js"

export interface RateLimitOptions {
  readonly requests: number
  readonly window: Duration.DurationInput
}

export interface RateLimiter {
  /** Counts one request for `key` at `now` (epoch ms); a `RateLimited` when over the limit. */
  readonly take: (key: string, now: number) => RateLimited | undefined
}

interface Window {
  start: number
  count: number
}

/**
 * A fixed window per key that opens at the key's first request, like the
 * `asgi-ratelimit` rules Polar uses: `requests` per `window`, and a refused
 * request is told to retry when the window closes (whole seconds, at least 1).
 * Keys are tokens or organizations, a bounded set, so windows are never
 * evicted.
 */
export const makeRateLimiter = (options: RateLimitOptions): RateLimiter => {
  const windowMs = Duration.toMillis(Duration.decode(options.window))
  if (!(options.requests >= 1) || !(windowMs > 0)) {
    throw new Error("rateLimit: requests must be >= 1 and window > 0")
  }
  const windows = new Map<string, Window>()
  return {
    take: (key, now) => {
      let w = windows.get(key)
      if (w === undefined || now - w.start >= windowMs) {
        w = { start: now, count: 0 }
        windows.set(key, w)
      }
      if (w.count >= options.requests) {
        return new RateLimited({ retryAfterSeconds: Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)) })
      }
      w.count++
      return undefined
    }
  }
}
