/**
 * A user's project outside the workspace: the packed tarballs installed with
 * npm into a folder under os.tmpdir() (with effect and the shared @effect/*
 * packages at the catalog's versions), then every library imported from ESM
 * and from CJS, typechecked with TypeScript under `node16` and `bundler`
 * resolution (strict), a program that uses core, store, client and server
 * together run from ESM, a smaller one from CJS, and the CLI run from its bin.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { inject } from "vitest"
import { root } from "../../../scripts/release-check.mjs"
import { type Ran, registryDependencies, run } from "./setup/consumer.js"

const { consumer, results } = inject("release")
const project = consumer.dir
const install = consumer.install
const libraries = results.filter((r) => !r.binOnly)
const cli = results.find((r) => r.binOnly)
const tsc = join(project, "node_modules", ".bin", "tsc")

const ok = (ran: Ran, what: string) => {
  assert.strictEqual(ran.code, 0, `${what} failed after ${ran.ms} ms:\n${ran.stdout}\n${ran.stderr}`)
  return ran
}

/** Every `node_modules/<name>` folder under `dir`, however deeply nested. */
const copiesOf = (dir: string, name: string): Array<string> => {
  const found: Array<string> = []
  const walk = (modules: string) => {
    if (!existsSync(modules)) return
    if (existsSync(join(modules, name, "package.json"))) found.push(join(modules, name))
    for (const entry of readdirSync(modules)) {
      const scoped = entry.startsWith("@") ? readdirSync(join(modules, entry)).map((e) => join(entry, e)) : [entry]
      for (const pkg of scoped) {
        const nested = join(modules, pkg, "node_modules")
        if (existsSync(nested) && statSync(nested).isDirectory()) walk(nested)
      }
    }
  }
  walk(join(dir, "node_modules"))
  return found
}

describe("a project outside the workspace", () => {
  it("installs every package from its tarball, with one copy of effect and of each package", () => {
    ok(install, "npm install")
    assert.isFalse(project.startsWith(root), "the project is outside the repo")
    const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"))
    for (const packed of results) assert.strictEqual(manifest.dependencies[packed.name], `file:${packed.tarball}`)
    for (const name of registryDependencies) assert.match(manifest.dependencies[name], /^\d+\.\d+\.\d+/)
    for (const packed of results) {
      const installed = JSON.parse(readFileSync(join(project, "node_modules", packed.name, "package.json"), "utf8"))
      assert.strictEqual(installed.version, packed.manifest.version, packed.name)
      assert.deepStrictEqual(copiesOf(project, packed.name), [join(project, "node_modules", packed.name)], packed.name)
    }
    for (const shared of ["effect", "@effect/platform", "@effect/sql"]) {
      assert.deepStrictEqual(copiesOf(project, shared), [join(project, "node_modules", shared)], shared)
    }
  })

  it("imports each library and each of its subpath entries from ESM and from CJS, with the same exports", async () => {
    ok(install, "npm install")
    // every entry of each library's exports map: the package, and subpaths such as `@polar-events/store/sql`
    const entries = libraries.flatMap((l) => [
      { name: l.name, file: "index" },
      ...Object.keys(l.manifest.exports ?? {})
        .filter((k) => k !== "." && k !== "./package.json")
        .map((k) => ({ name: `${l.name}${k.slice(1)}`, file: k.slice(2) }))
    ])
    const ran = ok(await run("node", ["check-exports.mjs", JSON.stringify(entries.map((e) => e.name))], project), "check-exports")
    const loaded = JSON.parse(ran.stdout) as Record<string, { esm: Array<string>; cjs: Array<string>; esmFile: string; cjsFile: string }>
    const expected: Record<string, Array<string>> = {
      "@polar-events/core": ["Event", "EventCreate", "EventQuery", "Meter", "SystemEvent", "Timestamp", "ValidationError"],
      "@polar-events/store": ["EventStore", "MemoryEventStore"],
      "@polar-events/store/sql": ["SqlEventStore"],
      "@polar-events/client": ["ClientError", "EventsClient", "Ingester", "Outbox", "RetryPolicy"],
      "@polar-events/server": ["AccessToken", "EventsServer", "ServerError"]
    }
    assert.deepStrictEqual(Object.keys(loaded).sort(), entries.map((e) => e.name).sort())
    for (const name of Object.keys(expected)) assert.include(Object.keys(loaded), name)
    for (const { file, name } of entries) {
      const { cjs, cjsFile, esm, esmFile } = loaded[name]!
      assert.deepStrictEqual(esm, cjs, `${name}: ESM and CJS export the same names`)
      for (const namespace of expected[name] ?? []) assert.include(esm, namespace, name)
      assert.isTrue(esmFile.endsWith(`/dist/${file}.js`), `${name}: ${esmFile}`)
      assert.isTrue(cjsFile.endsWith(`/dist/${file}.cjs`), `${name}: ${cjsFile}`)
    }
    assert.notInclude(loaded["@polar-events/store"]!.esm, "SqlEventStore", "the port entry loads no driver")
  })

  it("runs the CLI from its bin, reporting the packed version", async () => {
    ok(install, "npm install")
    assert.isDefined(cli)
    const bin = join(project, "node_modules", ".bin", "polar-events")
    const version = ok(await run(bin, ["--version"], project), "polar-events --version")
    assert.include(version.stdout, cli!.manifest.version)
    const help = ok(await run(bin, ["--help"], project), "polar-events --help")
    for (const command of ["ingest", "list", "quantities", "serve"]) assert.include(help.stdout, command)
  })

  it("typechecks with moduleResolution node16 (an ESM and a CJS file), strict, libraries' types checked", async () => {
    ok(install, "npm install")
    ok(await run(tsc, ["-p", "tsconfig.node16.json", "--noEmit"], project), "tsc (node16)")
  })

  it("typechecks with moduleResolution bundler, strict, libraries' types checked", async () => {
    ok(install, "npm install")
    ok(await run(tsc, ["-p", "tsconfig.bundler.json"], project), "tsc (bundler)")
  })

  it("runs a program that uses core, store, client and server together (ESM)", async () => {
    ok(install, "npm install")
    ok(await run(tsc, ["-p", "tsconfig.node16.json", "--noCheck"], project), "tsc emit")
    const data = mkdtempSync(join(project, "data-"))
    const ran = ok(await run("node", ["build/program.mjs", data], project, { timeout: 60_000 }), "program.mjs")
    const out = JSON.parse(ran.stdout.trim().split("\n").at(-1)!)
    assert.strictEqual(out.validated, 4)
    assert.deepStrictEqual(out.rejectedAt, [["body", "events", 1, "name"]])
    assert.deepStrictEqual(out.storeIngested, { inserted: 4, duplicates: 0 })
    assert.strictEqual(out.storeListed, 4)
    assert.strictEqual(out.meterCount, 3)
    assert.strictEqual(out.meterTokens, 60)
    assert.strictEqual(out.ingesterSent, 4)
    assert.strictEqual(out.ingesterFailed, 0)
    assert.strictEqual(out.serverListed, 3)
    assert.deepStrictEqual(out.serverNames, ["api.call"])
    assert.match(out.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.isTrue(existsSync(join(data, "app.db")) && existsSync(join(data, "server.db")))
  })

  it("runs the same packages from CommonJS", async () => {
    ok(install, "npm install")
    if (!existsSync(join(project, "build", "program.cjs"))) {
      ok(await run(tsc, ["-p", "tsconfig.node16.json", "--noCheck"], project), "tsc emit")
    }
    assert.match(readFileSync(join(project, "build", "program.cjs"), "utf8"), /require\("@polar-events\/core"\)/)
    const data = mkdtempSync(join(project, "data-"))
    const ran = ok(await run("node", ["build/program.cjs", data], project, { timeout: 60_000 }), "program.cjs")
    const out = JSON.parse(ran.stdout.trim().split("\n").at(-1)!)
    assert.deepStrictEqual(out.ingested, { inserted: 2, duplicates: 0 })
    assert.strictEqual(out.seconds, 7)
    assert.deepStrictEqual(out.prepared, [true, true])
    assert.strictEqual(out.server, "function")
    assert.strictEqual(out.memory, "object")
  })
})
