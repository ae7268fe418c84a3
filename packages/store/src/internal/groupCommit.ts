/**
 * Group commit for the store's writers: core's `GroupCommit`, under the names
 * the writers import.
 *
 * @internal
 */
import { GroupCommit } from "@polar-events/core"

/** @internal */
export type Job<I, R, E> = GroupCommit.Job<I, R, E>

/** @internal */
export type GroupCommitOptions<I, R, E> = GroupCommit.GroupCommitOptions<I, R, E>

/** @internal */
export const make = GroupCommit.make
