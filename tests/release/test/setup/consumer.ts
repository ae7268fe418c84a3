/**
 * The consumer project: a folder under os.tmpdir() (outside the workspace)
 * with the fixtures of `fixtures/consumer`, whose package.json depends on the
 * packed tarballs and on effect and the shared @effect/* packages at the
 * versions of the root catalog, installed with npm as a user would.
 */
import { execFile } from "node:child_process"
import { cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { catalogVersions } from "../../../../scripts/release-check.mjs"

/** How a command ended. */
export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs a command (no shell); never rejects. */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  options: { readonly timeout?: number; readonly env?: Record<string, string> } = {}
): Promise<Ran> =>
  new Promise((resolve) => {
    const start = Date.now()
    execFile(
      command,
      [...args],
      {
        cwd,
        timeout: options.timeout ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1", ...options.env }
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resolve({ code, stdout, stderr: error !== null && stderr === "" ? error.message : stderr, ms: Date.now() - start })
      }
    )
  })

const fixtures = join(import.meta.dirname, "..", "..", "fixtures", "consumer")

/** The packages the consumer installs from the registry, at the catalog's versions. */
export const registryDependencies = [
  "effect",
  "@effect/platform",
  "@effect/platform-node",
  "@effect/sql",
  "@effect/experimental",
  // the drivers of `@polar-events/store/sql` (optional peers of the store)
  "better-sqlite3",
  "@effect/sql-sqlite-node",
  "@effect/sql-pg",
  "pg",
  "pg-copy-streams"
]
export const registryDevDependencies = ["typescript", "@types/node", "@types/pg"]

/** Creates the project for the given tarballs; returns its folder. */
export const prepare = (tarballs: ReadonlyArray<{ readonly name: string; readonly tarball: string }>): string => {
  const dir = mkdtempSync(join(tmpdir(), "polar-events-consumer-"))
  cpSync(fixtures, dir, { recursive: true })
  const catalog = catalogVersions() as Record<string, string>
  const pin = (names: ReadonlyArray<string>) => Object.fromEntries(names.map((n) => [n, catalog[n]!]))
  const manifest = {
    name: "polar-events-consumer",
    version: "1.0.0",
    private: true,
    type: "module",
    dependencies: { ...Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.tarball}`])), ...pin(registryDependencies) },
    devDependencies: pin(registryDevDependencies)
  }
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`)
  return dir
}

/** The packages a project with only the port installs from the registry: effect and the store's required peers. */
export const portOnlyDependencies = ["effect", "@effect/platform", "@effect/sql", "@effect/experimental"]

/** The database drivers a project with only the port must not have (the store's optional peers). */
export const drivers = ["better-sqlite3", "pg", "pg-copy-streams", "@effect/sql-sqlite-node", "@effect/sql-pg"]

/**
 * A project with only core and the store's port (the fixtures of
 * `fixtures/port-only`): no driver among its dependencies, so none can be
 * installed unless a package requires it.
 */
export const preparePortOnly = (tarballs: ReadonlyArray<{ readonly name: string; readonly tarball: string }>): string => {
  const dir = mkdtempSync(join(tmpdir(), "polar-events-port-only-"))
  cpSync(join(fixtures, "..", "port-only"), dir, { recursive: true })
  const catalog = catalogVersions() as Record<string, string>
  const wanted = ["@polar-events/core", "@polar-events/store"]
  const manifest = {
    name: "polar-events-port-only",
    version: "1.0.0",
    private: true,
    type: "module",
    dependencies: {
      ...Object.fromEntries(tarballs.filter((t) => wanted.includes(t.name)).map((t) => [t.name, `file:${t.tarball}`])),
      ...Object.fromEntries(portOnlyDependencies.map((n) => [n, catalog[n]!]))
    }
  }
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`)
  return dir
}

/**
 * `npm install` in the project. better-sqlite3 compiles from source (no
 * prebuilt binary can be downloaded here): node-gyp finds Node's headers in
 * /usr and uses every core.
 */
export const install = (dir: string): Promise<Ran> =>
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], dir, {
    timeout: 280_000,
    env: { npm_config_nodedir: process.env.npm_config_nodedir ?? "/usr", JOBS: "max" }
  })
