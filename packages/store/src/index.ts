/**
 * The `EventStore` port and its tag, types and error. Loads no database
 * driver: the SQL adapter is the entry `@polar-events/store/sql`.
 *
 * @since 0.1.0
 */
export * as EventStore from "./EventStore.js"
/**
 * The in-memory reference adapter (`layerMemory`).
 *
 * @since 0.1.0
 */
export * as MemoryEventStore from "./MemoryEventStore.js"
