/**
 * Group commit: concurrent writes of one process wait in a queue; a writer
 * fiber takes everything waiting (up to a limit) and commits it in one
 * transaction, then answers each caller with its own share. One commit per
 * group instead of one per call is what lets many small ingests reach the
 * throughput of large transactions.
 *
 * If a group fails, its jobs are retried one by one so that one caller's
 * failure is not everyone's.
 *
 * @internal
 */
import { Deferred, Effect, Queue } from "effect"

/** One queued write: its items and where to send its result. @internal */
export interface Job<I, R, E> {
  readonly items: ReadonlyArray<I>
  readonly done: Deferred.Deferred<ReadonlyArray<R>, E>
}

/** Options of the group committer. @internal */
export interface GroupCommitOptions<I, R, E> {
  /** writes one group, returning one result per item */
  readonly write: (items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<R>, E>
  /** the most items per transaction (a single larger job still goes alone) */
  readonly maxItems: number
  /** how many writer fibers (1 for SQLite: there is one writer anyway) */
  readonly writers: number
  /** at most this many event-loop turns to wait while the queue keeps growing */
  readonly lingerTurns: number
  /**
   * With several writers: while another group is being written, a new group
   * keeps gathering until it holds this many items or the other is done, so
   * that a write queued behind another is worth its transaction.
   */
  readonly gatherWhileBusy?: number | undefined
}

/** One turn of Node's event loop: pending I/O callbacks run first. */
const nextTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * Starts the writer fibers in the current scope and returns `submit`, which
 * queues items and waits for their results.
 *
 * @internal
 */
export const make = <I, R, E>(options: GroupCommitOptions<I, R, E>) =>
  Effect.gen(function*() {
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Job<I, R, E>>(), (q) => Queue.shutdown(q))

    /** items waiting in the queue, and groups being written */
    let queued = 0
    let busy = 0
    const gather = options.gatherWhileBusy ?? 0

    const runGroup = (jobs: ReadonlyArray<Job<I, R, E>>) => {
      const items = jobs.length === 1 ? jobs[0]!.items : jobs.flatMap((j) => j.items)
      return options.write(items).pipe(
        Effect.matchEffect({
          onSuccess: (results) =>
            Effect.gen(function*() {
              let offset = 0
              for (const job of jobs) {
                yield* Deferred.succeed(job.done, results.slice(offset, offset + job.items.length))
                offset += job.items.length
              }
            }),
          onFailure: (error) =>
            jobs.length === 1
              ? Deferred.fail(jobs[0]!.done, error)
              : Effect.forEach(jobs, (job) => Effect.exit(options.write(job.items)).pipe(Effect.flatMap((exit) => Deferred.done(job.done, exit))), { discard: true })
        }),
        Effect.catchAllDefect((defect) => Effect.forEach(jobs, (job) => Deferred.die(job.done, defect), { discard: true }))
      )
    }

    const writer = Effect.gen(function*() {
      const first = yield* Queue.take(queue)
      queued -= first.items.length
      while (busy > 0 && first.items.length + queued < gather) yield* nextTurn
      // Writes run on this thread and block it: give callers whose requests
      // are already arriving a few turns of the event loop to join the group.
      let size = yield* Queue.size(queue)
      for (let turn = 0; turn < options.lingerTurns; turn++) {
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
      yield* Effect.ensuring(runGroup(jobs), Effect.sync(() => void busy--))
    }).pipe(Effect.forever)

    for (let i = 0; i < options.writers; i++) yield* Effect.forkScoped(Effect.interruptible(writer))

    return (items: ReadonlyArray<I>): Effect.Effect<ReadonlyArray<R>, E> =>
      Effect.gen(function*() {
        if (items.length === 0) return []
        const done = yield* Deferred.make<ReadonlyArray<R>, E>()
        queued += items.length
        yield* Queue.offer(queue, { items, done })
        return yield* Deferred.await(done)
      })
  })
