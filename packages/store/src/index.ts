/**
 * The `EventStore` port and its tag, types and error.
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
/**
 * The SQL adapter: SQLite (`layerSqlite`) and PostgreSQL (`layerPg`,
 * `layerPgConfig`), or `layer` over your own `SqlClient`.
 *
 * @since 0.1.0
 */
export * as SqlEventStore from "./SqlEventStore.js"
