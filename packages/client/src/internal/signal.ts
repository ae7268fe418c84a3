import { Duration, Effect } from "effect"

/**
 * A wake-up call between fibers that carries no data, so a waiter that gives
 * up (timeout, interruption) can never lose anything. A waiter passes the
 * condition it waits for: it is checked and the waiter registered in one
 * step, so no `notify` is missed, and checked again after every `notify`.
 * @internal
 */
export class Signal {
  private waiters = new Set<() => void>()

  private once(ready: () => boolean): Effect.Effect<boolean> {
    return Effect.async<boolean>((resume) => {
      if (ready()) return resume(Effect.succeed(true))
      const wake = () => resume(Effect.succeed(false))
      this.waiters.add(wake)
      return Effect.sync(() => {
        this.waiters.delete(wake)
      })
    })
  }

  /** Returns once `ready()` holds, re-checking it after every `notify`. */
  wait(ready: () => boolean): Effect.Effect<void> {
    return Effect.flatMap(this.once(ready), (done) => (done ? Effect.void : this.wait(ready)))
  }

  /** Like `wait`, but gives up after `ms`. */
  waitFor(ready: () => boolean, ms: number): Effect.Effect<void> {
    if (ready() || ms <= 0) return Effect.void
    return Effect.raceFirst(this.wait(ready), Effect.sleep(Duration.millis(ms)))
  }

  notify(): void {
    if (this.waiters.size === 0) return
    const current = this.waiters
    this.waiters = new Set()
    for (const wake of current) wake()
  }
}
