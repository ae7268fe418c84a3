import { Clock, Effect } from "effect"

/**
 * The shared rate-limit gate of one client: after a 429 every request of the
 * client waits until the time Polar asked for, not only the one that got it.
 * @internal
 */
export class Gate {
  /** epoch ms before which no request may start */
  private until = 0

  /** Waits until the gate is open; re-checks the clock after every sleep. */
  readonly wait: Effect.Effect<void> = Effect.suspend(() =>
    this.until === 0
      ? Effect.void
      : Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (now >= this.until) return Effect.void
        return Effect.zipRight(Effect.sleep(this.until - now), this.wait)
      })
  )

  /** Closes the gate until `until` (epoch ms), never shortening a longer pause. */
  pauseUntil(until: number): void {
    if (until > this.until) this.until = until
  }

  /** The epoch ms the gate is closed until (0 when it never was). */
  get pausedUntil(): number {
    return this.until
  }
}
