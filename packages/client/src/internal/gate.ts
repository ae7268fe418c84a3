import { Clock, Effect, Ref } from "effect"

/**
 * The shared rate-limit gate of one client: after a 429 every request of the
 * client waits until the time Polar asked for, not only the one that got it.
 * A `Latch` closed for the pause and a `Ref` of its deadline (epoch ms).
 * @internal
 */
export interface Gate {
  /** Waits until the gate is open. */
  readonly wait: Effect.Effect<void>
  /** Closes the gate until `until` (epoch ms), never shortening a longer pause. */
  readonly pauseUntil: (until: number) => Effect.Effect<void>
  /** The epoch ms the gate is closed until (0 when it never was). */
  readonly pausedUntil: Effect.Effect<number>
}

interface State {
  readonly until: number
  /** whether a fiber is sleeping until the deadline to open the latch */
  readonly sleeping: boolean
}

/** @internal */
export const make: Effect.Effect<Gate> = Effect.gen(function*() {
  const latch = yield* Effect.makeLatch(true)
  const state = yield* Ref.make<State>({ until: 0, sleeping: false })

  /** Sleeps until the deadline, which may move while it sleeps, then opens the latch. */
  const reopen: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatten(Ref.modify(state, (s): [Effect.Effect<void>, State] =>
      s.until <= now
        ? [latch.open, { until: s.until, sleeping: false }]
        : [Effect.zipRight(Effect.sleep(s.until - now), reopen), s]
    )))

  const pauseUntil = (until: number): Effect.Effect<void> =>
    Effect.flatten(Ref.modify(state, (s): [Effect.Effect<void>, State] => {
      if (until <= s.until) return [Effect.void, s]
      return [
        s.sleeping ? Effect.void : Effect.zipRight(latch.close, Effect.asVoid(Effect.forkDaemon(reopen))),
        { until, sleeping: true }
      ]
    }))

  /** after the latch opens the deadline is checked again: a pause may have begun in between */
  const wait: Effect.Effect<void> = Effect.zipRight(
    latch.await,
    Effect.flatMap(Ref.get(state), (s) =>
      s.until === 0
        ? Effect.void
        : Effect.flatMap(Clock.currentTimeMillis, (now) => (now >= s.until ? Effect.void : Effect.zipRight(Effect.sleep(s.until - now), wait))))
  )

  return { wait, pauseUntil, pausedUntil: Effect.map(Ref.get(state), (s) => s.until) }
})
