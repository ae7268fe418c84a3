import { Deferred, Duration, Effect, FiberId } from "effect"

/**
 * A wake-up call between fibers that carries no data, so a waiter that gives
 * up (timeout, interruption) can never lose anything: a `Deferred` that
 * `notify` completes and replaces. A waiter passes the condition it waits
 * for; it is checked and the current `Deferred` taken in one step, so no
 * `notify` is missed, and checked again after every `notify`.
 * @internal
 */
export class Signal {
  private current = Deferred.unsafeMake<void>(FiberId.none)
  private waited = false

  /** Returns once `ready()` holds, re-checking it after every `notify`. */
  wait(ready: () => boolean): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (ready()) return Effect.void
      this.waited = true
      return Effect.zipRight(Deferred.await(this.current), this.wait(ready))
    })
  }

  /** Like `wait`, but gives up after `ms`. */
  waitFor(ready: () => boolean, ms: number): Effect.Effect<void> {
    if (ready() || ms <= 0) return Effect.void
    return Effect.raceFirst(this.wait(ready), Effect.sleep(Duration.millis(ms)))
  }

  notify(): void {
    if (!this.waited) return
    const woken = this.current
    this.current = Deferred.unsafeMake<void>(FiberId.none)
    this.waited = false
    Deferred.unsafeDone(woken, Effect.void)
  }
}
