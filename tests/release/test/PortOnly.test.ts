/**
 * A project that uses only the port: the packed core and store installed
 * with npm into a folder outside the workspace without any database driver
 * (`better-sqlite3`, `pg`, `pg-copy-streams`, `@effect/sql-sqlite-node`,
 * `@effect/sql-pg` are optional peers of the store). Importing
 * `@polar-events/store` from ESM and from CJS works and the memory store
 * ingests and lists. Importing the SQL adapter's entry works too: it loads a
 * driver only when a layer of that database is built, and then fails with a
 * storage error that names what to install.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { inject } from "vitest"
import { root } from "../../../scripts/release-check.mjs"
import { drivers, type Ran, run } from "./setup/consumer.js"

const { portOnly } = inject("release")
const project = portOnly.dir

const ok = (ran: Ran, what: string) => {
  assert.strictEqual(ran.code, 0, `${what} failed after ${ran.ms} ms:\n${ran.stdout}\n${ran.stderr}`)
  return ran
}

const expectOutput = (ran: Ran) => {
  const out = JSON.parse(ran.stdout.trim().split("\n").at(-1)!)
  assert.deepStrictEqual(out.ingested, { inserted: 2, duplicates: 0 })
  assert.deepStrictEqual(out.again, { inserted: 0, duplicates: 1 })
  assert.strictEqual(out.rejected, "RequestValidationError")
  assert.deepStrictEqual([...out.listed].sort(), ["cus_1", "cus_2"])
  assert.deepStrictEqual(out.stats, {
    events: 2,
    organizations: [{ organizationId: "1dbfc517-0bbf-4301-9ba8-555ca42b9737", events: 2 }]
  })
}

describe("a project with only the port, no database driver", () => {
  it("installs core and the store from their tarballs without any driver", () => {
    ok(portOnly.install, "npm install")
    assert.isFalse(project.startsWith(root), "the project is outside the repo")
    const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"))
    assert.deepStrictEqual(Object.keys(manifest.dependencies).filter((n) => n.startsWith("@polar-events/")).sort(), [
      "@polar-events/core",
      "@polar-events/store"
    ])
    assert.isTrue(existsSync(join(project, "node_modules", "@polar-events", "store", "package.json")))
    for (const driver of drivers) {
      assert.isFalse(existsSync(join(project, "node_modules", driver)), `${driver} is not installed`)
    }
  })

  it("imports the port from ESM and runs the memory store", async () => {
    ok(portOnly.install, "npm install")
    expectOutput(ok(await run("node", ["memory.mjs"], project, { timeout: 60_000 }), "memory.mjs"))
  })

  it("requires the port from CJS and runs the memory store", async () => {
    ok(portOnly.install, "npm install")
    expectOutput(ok(await run("node", ["memory.cjs"], project, { timeout: 60_000 }), "memory.cjs"))
  })

  it("imports the SQL entry without drivers; building a layer names the packages to install", async () => {
    ok(portOnly.install, "npm install")
    const ran = ok(await run("node", ["sql.mjs"], project, { timeout: 60_000 }), "sql.mjs")
    const out = JSON.parse(ran.stdout.trim().split("\n").at(-1)!)
    assert.includeMembers(out.exports, ["layer", "layerPg", "layerPgConfig", "layerSqlite"])
    assert.strictEqual(out.sqlite.tag, "EventStoreError")
    assert.strictEqual(out.sqlite.operation, "open")
    assert.include(out.sqlite.message, "install better-sqlite3 and @effect/sql-sqlite-node")
    assert.strictEqual(out.pg.tag, "EventStoreError")
    assert.include(out.pg.message, "install pg, pg-copy-streams and @effect/sql-pg")
    assert.isFalse(existsSync(join(project, "events.db")), "no database file was created")
  })
})
