/**
 * The SQL adapter of the `EventStore` port: SQLite (`layerSqlite`) and
 * PostgreSQL (`layerPg`, `layerPgConfig`), or `layer` over your own
 * `SqlClient`. The only entry that loads database drivers (`better-sqlite3`,
 * `pg`, `@effect/sql-sqlite-node`, `@effect/sql-pg`): install those you use.
 *
 * @since 0.1.0
 */
export * as SqlEventStore from "./SqlEventStore.js"
