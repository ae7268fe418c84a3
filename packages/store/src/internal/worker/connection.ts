/**
 * The SQLite write connection's operations over better-sqlite3, plain and
 * synchronous: run in the main thread by the direct writer and in the write
 * thread by its entry (`writer.ts`), so both run the same statements.
 * Prepared statements are cached by their text.
 *
 * @internal
 */
import Sqlite from "better-sqlite3"
import type { InsertResult, Statement } from "./protocol.js"

/** A write connection on one SQLite file. @internal */
export class Connection {
  private readonly db: Sqlite.Database
  private readonly cache = new Map<string, Sqlite.Statement>()
  constructor(filename: string) {
    this.db = new Sqlite(filename)
  }
  get inTransaction(): boolean {
    return this.db.inTransaction
  }
  /** The prepared statement of `sql`. */
  prepare(sql: string): Sqlite.Statement {
    let st = this.cache.get(sql)
    if (st === undefined) this.cache.set(sql, st = this.db.prepare(sql))
    return st
  }
  /** WAL, the store's pragmas and, when `backstop` > 0, a distant automatic checkpoint; returns the page size. */
  open(pragmas: ReadonlyArray<string>, backstop: number): number {
    this.db.pragma("journal_mode = WAL")
    for (const p of pragmas) this.db.exec(p)
    if (backstop > 0) this.db.pragma(`wal_autocheckpoint = ${backstop}`)
    return this.db.pragma("page_size", { simple: true }) as number
  }
  /** Runs one statement: its rows, or none for a statement that returns none. */
  query(sql: string, params: ReadonlyArray<unknown>): ReadonlyArray<any> {
    const st = this.prepare(sql)
    if (st.reader) return st.all(...params)
    st.run(...params)
    return []
  }
  /**
   * Inserts `count` rows one by one with `sql` (an `INSERT ... ON CONFLICT
   * DO NOTHING`); then, only with `then` given, if every row went in and
   * none of `unless` finds a row, runs `then` and commits.
   */
  insertEach(
    sql: string,
    count: number,
    row: (i: number) => ReadonlyArray<unknown>,
    then: ReadonlyArray<Statement> | undefined,
    unless: ReadonlyArray<Statement> | undefined
  ): InsertResult {
    const st = this.prepare(sql)
    const flags = new Uint8Array(count)
    let all = true
    for (let i = 0; i < count; i++) {
      if (st.run(row(i) as Array<unknown>).changes === 1) flags[i] = 1
      else all = false
    }
    if (then === undefined || !all) return { flags, committed: false }
    if (unless !== undefined) {
      for (const u of unless) if (this.prepare(u.sql).get(...u.params) !== undefined) return { flags, committed: false }
    }
    for (const t of then) this.prepare(t.sql).run(...t.params)
    this.commit()
    return { flags, committed: true }
  }
  begin(): void {
    this.prepare("BEGIN IMMEDIATE").run()
  }
  commit(): void {
    this.prepare("COMMIT").run()
  }
  /** Rolls the open transaction back, if one is open. */
  rollback(): void {
    if (this.db.inTransaction) this.prepare("ROLLBACK").run()
  }
  close(): void {
    this.db.close()
  }
}
