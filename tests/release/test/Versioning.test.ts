/**
 * `changeset version` on the repo's real package.json files and changesets
 * config, in a temporary copy (never in the repo): a sample changeset bumps
 * the package it names and re-releases the packages that depend on it, each
 * package keeps its own version, CHANGELOG.md files are written, private
 * packages are left alone, and `pnpm pack` of a versioned package turns its
 * `workspace:` ranges into the new real ranges.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { afterAll } from "vitest"
import { root } from "../../../scripts/release-check.mjs"

const changesetBin = join(import.meta.dirname, "..", "node_modules", ".bin", "changeset")

interface Manifest {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
}

/** The workspace's package folders, from the globs of pnpm-workspace.yaml (`dir` or `dir/*`). */
const workspaceDirs = (): Array<string> => {
  const text = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8")
  const globs = [...text.split(/^catalog:|^allowBuilds:/m)[0]!.matchAll(/^\s+-\s+["']?([^"'\s]+)["']?\s*$/gm)].map((m) => m[1]!)
  return globs.flatMap((glob) => {
    if (!glob.endsWith("/*")) return existsSync(join(root, glob, "package.json")) ? [glob] : []
    const base = glob.slice(0, -2)
    if (!existsSync(join(root, base))) return []
    return readdirSync(join(root, base))
      .map((name) => `${base}/${name}`)
      .filter((dir) => existsSync(join(root, dir, "package.json")))
  })
}

const temps: Array<string> = []
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

/** A copy of the repo's manifests and changesets config (no sources, no pending changesets). */
const copyWorkspace = () => {
  const dir = mkdtempSync(join(tmpdir(), "polar-events-versioning-"))
  temps.push(dir)
  for (const file of ["package.json", "pnpm-workspace.yaml", ".changeset/config.json"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    cpSync(join(root, file), join(dir, file))
  }
  const packages = new Map<string, string>()
  for (const pkgDir of workspaceDirs()) {
    mkdirSync(join(dir, pkgDir), { recursive: true })
    cpSync(join(root, pkgDir, "package.json"), join(dir, pkgDir, "package.json"))
    packages.set(JSON.parse(readFileSync(join(root, pkgDir, "package.json"), "utf8")).name, pkgDir)
  }
  return { dir, packages }
}

const readManifest = (dir: string, pkgDir: string): Manifest => JSON.parse(readFileSync(join(dir, pkgDir, "package.json"), "utf8"))

const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, [...args], { cwd, timeout: 60_000, env: { ...process.env, NO_COLOR: "1", CI: "true" } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    })
  })

/** Writes a changeset, runs `changeset version`, and returns every package's manifest before and after. */
const version = async (releases: Record<string, "major" | "minor" | "patch">, summary: string) => {
  const { dir, packages } = copyWorkspace()
  const before = new Map([...packages].map(([name, pkgDir]) => [name, readManifest(dir, pkgDir)]))
  const frontmatter = Object.entries(releases).map(([name, type]) => `"${name}": ${type}`).join("\n")
  writeFileSync(join(dir, ".changeset", "sample-release.md"), `---\n${frontmatter}\n---\n\n${summary}\n`)
  const ran = await run(changesetBin, ["version"], dir)
  assert.strictEqual(ran.code, 0, `changeset version failed:\n${ran.stdout}\n${ran.stderr}`)
  const after = new Map([...packages].map(([name, pkgDir]) => [name, readManifest(dir, pkgDir)]))
  const changelog = (name: string) => {
    const file = join(dir, packages.get(name)!, "CHANGELOG.md")
    return existsSync(file) ? readFileSync(file, "utf8") : undefined
  }
  return { dir, packages, before, after, changelog }
}

type Versioned = Awaited<ReturnType<typeof version>>

/** Every package's version after, against `expected` (name -> version); unnamed packages keep theirs. */
const assertVersions = (v: Versioned, expected: Record<string, string>) => {
  const actual = Object.fromEntries([...v.after].map(([name, m]) => [name, m.version]))
  const wanted = Object.fromEntries([...v.before].map(([name, m]) => [name, expected[name] ?? m.version]))
  assert.deepStrictEqual(actual, wanted)
}

/** Private packages (bench, tests, examples) are never versioned and get no changelog. */
const assertPrivateUntouched = (v: Versioned) => {
  const privates = [...v.before].filter(([, m]) => m.private === true)
  assert.isAbove(privates.length, 0)
  for (const [name, m] of privates) {
    assert.strictEqual(v.after.get(name)!.version, m.version, `${name} is private: changesets must not version it`)
    assert.isUndefined(v.changelog(name), `${name} is private: no CHANGELOG.md`)
  }
}

/** `pnpm pack` of a package of the copy (its workspace dependencies linked as `pnpm install` would). */
const packManifest = async (v: Versioned, name: string): Promise<Manifest> => {
  const pkgDir = v.packages.get(name)!
  const manifest = v.after.get(name)!
  for (const field of ["dependencies", "peerDependencies", "devDependencies"] as const) {
    for (const dep of Object.keys(manifest[field] ?? {})) {
      const depDir = v.packages.get(dep)
      if (depDir === undefined) continue
      const link = join(v.dir, pkgDir, "node_modules", dep)
      if (existsSync(link)) continue
      mkdirSync(dirname(link), { recursive: true })
      symlinkSync(relative(dirname(link), join(v.dir, depDir)), link)
    }
  }
  const out = join(v.dir, "packed")
  mkdirSync(out, { recursive: true })
  const ran = await run("pnpm", ["pack", "--json", "--pack-destination", out], join(v.dir, pkgDir))
  assert.strictEqual(ran.code, 0, `pnpm pack ${name} failed:\n${ran.stdout}\n${ran.stderr}`)
  const tarball = JSON.parse(ran.stdout.slice(ran.stdout.indexOf("{"))).filename as string
  const extracted = await run("tar", ["-xzOf", tarball, "package/package.json"], out)
  return JSON.parse(extracted.stdout)
}

describe("changeset version, in a temporary copy of the workspace", () => {
  it("the copy holds the repo's publishable packages and its changesets config", () => {
    const { dir, packages } = copyWorkspace()
    for (const name of ["@polar-events/core", "@polar-events/store", "@polar-events/client", "@polar-events/server", "polar-events"]) {
      assert.isTrue(packages.has(name), name)
    }
    assert.deepStrictEqual(
      JSON.parse(readFileSync(join(dir, ".changeset", "config.json"), "utf8")),
      JSON.parse(readFileSync(join(root, ".changeset", "config.json"), "utf8"))
    )
    assert.isFalse(dir.startsWith(root))
  })

  it("a minor change of the server bumps the server and re-releases the CLI that depends on it, nothing else", async () => {
    const v = await version({ "@polar-events/server": "minor" }, "Serve a meter's quantities.")
    const server = v.before.get("@polar-events/server")!.version
    const cli = v.before.get("polar-events")!.version
    assertVersions(v, { "@polar-events/server": bump(server, "minor"), "polar-events": bump(cli, "patch") })
    assertPrivateUntouched(v)

    const serverLog = v.changelog("@polar-events/server")!
    assert.include(serverLog, `# @polar-events/server`)
    assert.include(serverLog, `## ${bump(server, "minor")}`)
    assert.match(serverLog, /### Minor Changes\n\n- [^\n]*Serve a meter's quantities\./)
    const cliLog = v.changelog("polar-events")!
    assert.include(cliLog, `## ${bump(cli, "patch")}`)
    assert.include(cliLog, "### Patch Changes")
    assert.include(cliLog, `@polar-events/server@${bump(server, "minor")}`)
    for (const untouched of ["@polar-events/core", "@polar-events/store", "@polar-events/client"]) {
      assert.isUndefined(v.changelog(untouched), untouched)
    }
    assert.isFalse(existsSync(join(v.dir, ".changeset", "sample-release.md")), "the changeset is consumed")

    // the manifest keeps `workspace:`; the packed one has the new real range
    assert.match(v.after.get("polar-events")!.dependencies!["@polar-events/server"]!, /^workspace:/)
    const packed = await packManifest(v, "polar-events")
    assert.strictEqual(packed.version, bump(cli, "patch"))
    assert.strictEqual(packed.dependencies!["@polar-events/server"], `^${bump(server, "minor")}`)
    assert.strictEqual(packed.dependencies!["@polar-events/core"], `^${v.after.get("@polar-events/core")!.version}`)
    assert.notMatch(JSON.stringify(packed), /"(workspace|catalog):/)
  })

  it("a minor change of core re-releases every package built on it with a patch, and none jumps a major", async () => {
    const v = await version({ "@polar-events/core": "minor" }, "Add a field to events.")
    const core = v.before.get("@polar-events/core")!.version
    const next = bump(core, "minor")
    const dependents = ["@polar-events/store", "@polar-events/client", "@polar-events/server", "polar-events"]
    const expected: Record<string, string> = { "@polar-events/core": next }
    for (const name of dependents) expected[name] = bump(v.before.get(name)!.version, "patch")
    assertVersions(v, expected)
    assertPrivateUntouched(v)

    assert.match(v.changelog("@polar-events/core")!, /### Minor Changes\n\n- [^\n]*Add a field to events\./)
    for (const name of dependents) {
      const log = v.changelog(name)!
      assert.include(log, `## ${expected[name]}`, name)
      assert.include(log, `@polar-events/core@${next}`, name)
    }
    const store = await packManifest(v, "@polar-events/store")
    const declared = { ...store.dependencies, ...store.peerDependencies }
    assert.strictEqual(declared["@polar-events/core"], `^${next}`)
    assert.match(declared["effect"]!, /^\^3\./)
  })
})

/** The next version for a bump type (no prerelease). */
function bump(version: string, type: "major" | "minor" | "patch"): string {
  const [major, minor, patch] = version.split(".").map(Number) as [number, number, number]
  if (type === "major") return `${major + 1}.0.0`
  if (type === "minor") return `${major}.${minor + 1}.0`
  return `${major}.${minor}.${patch + 1}`
}
