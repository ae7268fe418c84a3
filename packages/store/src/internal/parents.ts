/**
 * Parent links, shared by the adapters: a `parent_id` on ingest names the
 * parent by its event id or its `external_id`; it is resolved when both are
 * stored, whichever arrives first. `depth` counts the ancestors.
 *
 * @internal
 */

/** A stored event's parent reference names an event id only (imported events), never an external id. @internal */
export const FLAG_REF_ID_ONLY = 16

/** The deepest chain whose depths are kept up to date (guards against cycles in imported data). @internal */
export const MAX_DEPTH = 64
