/**
 * The raw `pg` statements of PostgreSQL's writer (`pgWriter.ts`): a query on
 * a pool client (the simple protocol without parameters, which runs several
 * statements in one round trip), and `COPY ... FROM STDIN` (text format) of
 * rows into `pe_events` or into the session temp table `pe_staging` (with a
 * leading `ord` column), from which `INSERT ... SELECT ... ON CONFLICT DO
 * NOTHING` skips duplicates, which COPY alone cannot.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type * as Pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import { INSERT_COLUMNS } from "./writePlan.js"

const STAGING_TYPES: Record<(typeof INSERT_COLUMNS)[number], string> = {
  org: "integer",
  id: "uuid",
  ts: "bigint",
  name: "text",
  source: "text",
  ckey: "integer",
  xkey: "integer",
  customer_id: "text",
  external_customer_id: "text",
  member_id: "text",
  external_member_id: "text",
  external_id: "text",
  ext_hash: "bigint",
  parent_id: "uuid",
  parent_ref: "text",
  depth: "integer",
  child_count: "integer",
  flags: "integer",
  label: "text",
  customer: "text",
  metadata: "jsonb",
  ingested_at: "bigint"
}

const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS pe_staging (ord integer, ${
  INSERT_COLUMNS.map((c) => `${c} ${STAGING_TYPES[c]}`).join(", ")
})`

const COPY_SQL = {
  pe_staging: `COPY pe_staging (ord, ${INSERT_COLUMNS.join(", ")}) FROM STDIN`,
  pe_events: `COPY pe_events (${INSERT_COLUMNS.join(", ")}) FROM STDIN`
} as const

const SPECIAL = /[\\\t\n\r]/

/** One value in COPY text format. */
const field = (v: unknown): string => {
  if (v === null || v === undefined) return "\\N"
  const s = typeof v === "string" ? v : String(v)
  if (!SPECIAL.test(s)) return s
  return s.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
}

/** Runs a statement on the client: the rows of its last statement. @internal */
export const query = (client: Pg.PoolClient, text: string, params: ReadonlyArray<unknown> | undefined) =>
  Effect.async<ReadonlyArray<any>, SqlError>((resume) => {
    const done = (err: Error | undefined, result: Pg.QueryResult | Array<Pg.QueryResult> | undefined) => {
      if (err) resume(Effect.fail(new SqlError({ cause: err, message: "Failed to execute statement" })))
      // several statements: the rows of the last one
      else resume(Effect.succeed((Array.isArray(result) ? result[result.length - 1]?.rows : result?.rows) ?? []))
    }
    // without parameters: the simple protocol, which also runs several statements at once
    if (params === undefined) client.query(text, done as any)
    else client.query(text, params as Array<unknown>, done)
  })

/** COPYs rows into `pe_events`, or into `pe_staging` with a leading `ord`. @internal */
export const copy = (client: Pg.PoolClient, table: keyof typeof COPY_SQL, rows: ReadonlyArray<ReadonlyArray<unknown>>) =>
  Effect.async<void, SqlError>((resume) => {
    const stream = client.query(copyFrom(COPY_SQL[table]))
    let settled = false
    stream.on("error", (err) => {
      if (!settled) resume(Effect.fail(new SqlError({ cause: err, message: "COPY failed" })))
      settled = true
    })
    stream.on("finish", () => {
      if (!settled) resume(Effect.void)
      settled = true
    })
    let buffer = ""
    for (const row of rows) {
      let line = ""
      for (let i = 0; i < row.length; i++) line += (i === 0 ? "" : "\t") + field(row[i])
      buffer += line + "\n"
      if (buffer.length > 1 << 20) {
        stream.write(buffer)
        buffer = ""
      }
    }
    stream.end(buffer)
  })

const staged = new WeakSet<Pg.PoolClient>()

/** Creates the session's staging table, once per client. @internal */
export const ensureStaging = (client: Pg.PoolClient): Effect.Effect<void, SqlError> =>
  staged.has(client)
    ? Effect.void
    : Effect.map(query(client, CREATE_STAGING, undefined), () => {
      staged.add(client)
    })
