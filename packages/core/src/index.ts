/**
 * @since 0.1.0
 */
export * as Ids from "./Ids.js"
/**
 * @since 0.1.0
 */
export * as Timestamp from "./Timestamp.js"
/**
 * @since 0.1.0
 */
export * as EventMetadata from "./EventMetadata.js"
/**
 * @since 0.1.0
 */
export * as ValidationError from "./ValidationError.js"
/**
 * @since 0.1.0
 */
export * as EventCreate from "./EventCreate.js"
/**
 * @since 0.1.0
 */
export * as Meter from "./Meter.js"
/**
 * @since 0.1.0
 */
export * as EventQuery from "./EventQuery.js"
/**
 * @since 0.1.0
 */
export * as Customer from "./Customer.js"
/**
 * @since 0.1.0
 */
export * as SystemEvent from "./SystemEvent.js"
/**
 * @since 0.1.0
 */
export * as Event from "./Event.js"
/**
 * @since 0.1.0
 */
export * as EventsApi from "./EventsApi.js"
/**
 * @since 0.1.0
 */
export * as GroupCommit from "./GroupCommit.js"
