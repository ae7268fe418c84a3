/**
 * Group commit: concurrent writes of one process wait in a queue; a writer
 * fiber takes everything waiting (up to a limit) and commits it in one
 * transaction, then answers each caller with its own share. One commit per
 * group instead of one per call is what lets many small writes reach the
 * throughput of large transactions. The event store's writers and the
 * client's outbox both write through it.
 *
 * If a group fails, its jobs are written again one by one, so that one
 * caller's failure is not everyone's.
 *
 * @since 0.1.0
 */
import { Deferred, Effect, Queue, type Scope } from "effect"

/**
 * One queued write: its items and where to send its results.
 *
 * @since 0.1.0
 */
export interface Job<I, R, E> {
  readonly items: ReadonlyArray<I>
  readonly done: Deferred.Deferred<ReadonlyArray<R>, E>
}

/**
 * Options of a group committer.
 *
 * @since 0.1.0
 */
export interface GroupCommitOptions<I, R, E> {
  /** writes one group in one transaction, returning one result per item, in order */
  readonly write: (items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<R>, E>
  /** a group stops taking jobs once it holds this many items (a single larger job still goes alone) */
  readonly maxItems: number
  /** how many writer fibers (1 for SQLite: there is one writer anyway; default 1) */
  readonly writers?: number | undefined
  /** at most this many event-loop turns to wait while the queue keeps growing (default 0) */
  readonly lingerTurns?: number | undefined
  /**
   * With several writers: while another group is being written, a new group
   * keeps gathering until it holds this many items or the other is done, so
   * that a write queued behind another is worth its transaction.
   */
  readonly gatherWhileBusy?: number | undefined
}

/**
 * Queues items for the next group and waits for their results; a call with
 * no items returns at once.
 *
 * @since 0.1.0
 */
export type Submit<I, R, E> = (items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<R>, E>

/** One turn of the event loop: pending I/O callbacks run first. */
const nextTurn = Effect.async<void>((resume) => {
  if (typeof setImmediate !== "function") {
    const timer = setTimeout(() => resume(Effect.void), 0)
    return Effect.sync(() => clearTimeout(timer))
  }
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** Writes a group and answers its jobs; after a failure each job is written alone. */
const runGroup = <I, R, E>(
  write: GroupCommitOptions<I, R, E>["write"],
  jobs: ReadonlyArray<Job<I, R, E>>
): Effect.Effect<void> => {
  const items = jobs.length === 1 ? jobs[0]!.items : jobs.flatMap((j) => j.items)
  return write(items).pipe(
    Effect.matchEffect({
      onSuccess: (results) =>
        Effect.suspend(() => {
          if (jobs.length === 1) return Deferred.succeed(jobs[0]!.done, results)
          let offset = 0
          return Effect.forEach(jobs, (job) => {
            const share = results.slice(offset, offset + job.items.length)
            offset += job.items.length
            return Deferred.succeed(job.done, share)
          }, { discard: true })
        }),
      onFailure: (error) =>
        jobs.length === 1
          ? Deferred.fail(jobs[0]!.done, error)
          : Effect.forEach(
            jobs,
            (job) => Effect.flatMap(Effect.exit(write(job.items)), (exit) => Deferred.done(job.done, exit)),
            { discard: true }
          )
    }),
    Effect.catchAllDefect((defect) => Effect.forEach(jobs, (job) => Deferred.die(job.done, defect), { discard: true })),
    Effect.asVoid
  )
}

/**
 * Starts the writer fibers in the current scope and returns `submit`. Closing
 * the scope stops the writers and shuts the queue down.
 *
 * @since 0.1.0
 */
export const make = <I, R, E>(
  options: GroupCommitOptions<I, R, E>
): Effect.Effect<Submit<I, R, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Job<I, R, E>>(), (q) => Queue.shutdown(q))
    const lingerTurns = options.lingerTurns ?? 0
    const gather = options.gatherWhileBusy ?? 0

    /** items waiting in the queue, and groups being written */
    let queued = 0
    let busy = 0

    const writer = Effect.gen(function*() {
      const first = yield* Queue.take(queue)
      queued -= first.items.length
      while (busy > 0 && first.items.length + queued < gather) yield* nextTurn
      // Writes may run on this thread and block it: give callers whose
      // requests are already arriving a few turns of the event loop to join.
      let size = yield* Queue.size(queue)
      for (let turn = 0; turn < lingerTurns; turn++) {
        yield* nextTurn
        const now = yield* Queue.size(queue)
        if (now === size) break
        size = now
      }
      const jobs = [first]
      let count = first.items.length
      while (count < options.maxItems) {
        const next = yield* Queue.poll(queue)
        if (next._tag === "None") break
        jobs.push(next.value)
        count += next.value.items.length
        queued -= next.value.items.length
      }
      busy++
      yield* Effect.ensuring(runGroup(options.write, jobs), Effect.sync(() => void busy--))
    }).pipe(Effect.forever)

    const writers = options.writers ?? 1
    for (let i = 0; i < writers; i++) yield* Effect.forkScoped(Effect.interruptible(writer))

    return (items: ReadonlyArray<I>): Effect.Effect<ReadonlyArray<R>, E> =>
      Effect.suspend(() => {
        if (items.length === 0) return Effect.succeed([])
        return Effect.flatMap(Deferred.make<ReadonlyArray<R>, E>(), (done) => {
          queued += items.length
          return Effect.zipRight(Queue.offer(queue, { items, done }), Deferred.await(done))
        })
      })
  })
