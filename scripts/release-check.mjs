#!/usr/bin/env node
// Packs every publishable package with `pnpm pack` (what `pnpm publish`
// uploads: `workspace:` and `catalog:` replaced by real ranges) and checks
// each tarball:
// - publint (no message of any level) and attw (no problem, every resolution
//   mode: node10, node16 from CJS, node16 from ESM, bundler);
// - the manifest: only dist, README.md and CHANGELOG.md published, an
//   `exports` map with ESM + CJS + types whose files are in the tarball (for
//   "." and for every subpath entry such as "./sql"),
//   `sideEffects: false`, no `workspace:`/`catalog:` left, peer ranges (not
//   pins), `effect` and the shared `@effect/*` packages as peers;
// - the code: every package the built files import is declared;
// - the README: install instructions and an example.
//
//   node scripts/release-check.mjs [--out DIR] [--json FILE] [name...]
//
// Prints one line per package and check, and exits 1 if anything failed.
// The tarballs are kept only with --out. `pnpm check:packages` builds first.
// tests/release runs the same checks (and reuses the tarballs) in CI.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { isBuiltin } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = join(dirname(fileURLToPath(import.meta.url)), "..")

/** The versions pinned in the root catalog of pnpm-workspace.yaml (`name -> version`). */
export const catalogVersions = () => {
  const text = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8")
  const out = {}
  let inCatalog = false
  for (const line of text.split("\n")) {
    if (/^\S/.test(line)) inCatalog = line.trim() === "catalog:"
    else if (inCatalog) {
      const m = /^\s+("?)([^"\s]+)\1:\s*(\S+)\s*$/.exec(line)
      if (m) out[m[2]] = m[3]
    }
  }
  return out
}

/** The folders whose non-private packages are published. */
export const publishedGroups = ["packages", "apps"]

/**
 * Packages users share with ours at run time: one copy of each must exist in
 * an application (effect's runtime, the SqlClient and HttpClient tags), so a
 * library that imports them takes them as peers. Drivers such as
 * `@effect/sql-sqlite-node` may stay plain dependencies.
 */
export const sharedPeers = ["effect", "@effect/platform", "@effect/sql", "@effect/experimental", "@effect/platform-node"]

/** The files a tarball may contain besides `dist/`. */
const allowedTopLevel = new Set(["package.json", "README.md", "CHANGELOG.md", "LICENSE", "LICENSE.md"])

/** Every non-private package of `packages/*` and `apps/*`, sorted by folder. */
export const publishablePackages = () => {
  const out = []
  for (const group of publishedGroups) {
    const groupDir = join(root, group)
    if (!existsSync(groupDir)) continue
    for (const name of readdirSync(groupDir).sort()) {
      const file = join(groupDir, name, "package.json")
      if (!existsSync(file)) continue
      const manifest = JSON.parse(readFileSync(file, "utf8"))
      if (manifest.private === true) continue
      out.push({ name: manifest.name, dir: `${group}/${name}`, manifest })
    }
  }
  return out
}

/** Whether a package is a command (a `bin` and no library entry point). */
export const isBinOnly = (manifest) => manifest.bin !== undefined && manifest.exports === undefined && manifest.main === undefined

/** `pnpm pack` of one package into `outDir`; returns the tarball's path. */
export const pack = (pkg, outDir) => {
  const stdout = execFileSync("pnpm", ["pack", "--json", "--pack-destination", outDir], {
    cwd: join(root, pkg.dir),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"]
  })
  const json = JSON.parse(stdout.slice(stdout.indexOf("{")))
  return json.filename
}

/** The files of a tarball (without the `package/` prefix) and its manifest. */
export const readTarball = (tarball) => {
  const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
    .split("\n")
    .filter((f) => f.length > 0 && !f.endsWith("/"))
    .map((f) => f.replace(/^package\//, ""))
  const read = (file) => execFileSync("tar", ["-xzOf", tarball, `package/${file}`], { maxBuffer: 64 * 1024 * 1024 })
  return { files, manifest: JSON.parse(read("package.json").toString("utf8")), read }
}

/** Whether `version` satisfies a caret range `^x.y.z` (other ranges are not judged). */
export const caretSatisfies = (range, version) => {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)
  if (m === null || v === null) return true
  const [a, b, c] = m.slice(1).map(Number)
  const [x, y, z] = v.slice(1).map(Number)
  const atLeast = x > a || (x === a && (y > b || (y === b && z >= c)))
  if (!atLeast) return false
  return a > 0 ? x === a : b > 0 ? x === 0 && y === b : x === 0 && y === 0 && z === c
}

const depFields = ["dependencies", "peerDependencies", "optionalDependencies", "devDependencies"]

/** Problems with a packed manifest and its file list. */
export const checkManifest = ({ files, manifest }) => {
  const problems = []
  const has = (path) => files.includes(path.replace(/^\.\//, ""))
  for (const f of files) {
    if (!f.startsWith("dist/") && !allowedTopLevel.has(f)) problems.push(`publishes ${f} (only dist, README.md and CHANGELOG.md belong in the tarball)`)
  }
  const expectedFiles = ["dist", "README.md", "CHANGELOG.md"]
  if (JSON.stringify([...(manifest.files ?? [])].sort()) !== JSON.stringify([...expectedFiles].sort())) {
    problems.push(`"files" is ${JSON.stringify(manifest.files)}, expected ${JSON.stringify(expectedFiles)}`)
  }
  for (const field of depFields) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog):/.test(range)) problems.push(`${field}.${name} is still ${range}`)
    }
  }
  const catalog = catalogVersions()
  for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
    if (/^\d/.test(range)) problems.push(`peerDependencies.${name} pins ${range}: a peer must be a range such as ^${range}`)
    else if (catalog[name] !== undefined && !caretSatisfies(range, catalog[name])) {
      problems.push(`peerDependencies.${name} is ${range}, which the catalog's ${catalog[name]} (what we test with) does not satisfy`)
    }
  }
  if (!(manifest.engines && manifest.engines.node)) problems.push(`no "engines.node"`)
  if (isBinOnly(manifest)) {
    for (const [bin, path] of Object.entries(typeof manifest.bin === "string" ? { [manifest.name]: manifest.bin } : manifest.bin)) {
      if (!has(path)) problems.push(`bin ${bin} -> ${path} is not in the tarball`)
    }
    return problems
  }
  if (manifest.sideEffects !== false) problems.push(`"sideEffects" is ${JSON.stringify(manifest.sideEffects)}, expected false`)
  if (manifest.exports?.["."] === undefined) problems.push(`no "exports" map with "."`)
  // the package's entry and each subpath entry (`./sql`): ESM + CJS, each with its own types
  for (const [subpath, dot] of Object.entries(manifest.exports ?? {})) {
    if (subpath === "./package.json") continue
    for (const condition of ["import", "require"]) {
      const entry = dot?.[condition]
      if (typeof entry !== "object" || entry === null || typeof entry.types !== "string" || typeof entry.default !== "string") {
        problems.push(`exports["${subpath}"].${condition} needs { types, default }`)
        continue
      }
      if (Object.keys(entry)[0] !== "types") problems.push(`exports["${subpath}"].${condition}.types must come first`)
      for (const path of [entry.types, entry.default]) if (!has(path)) problems.push(`exports["${subpath}"].${condition} -> ${path} is not in the tarball`)
    }
    if (dot?.import?.types !== undefined && dot.import.types === dot.require?.types) {
      problems.push(`${subpath === "." ? "" : `${subpath}: `}import and require share one types file; CJS needs its own (attw: masquerading)`)
    }
  }
  for (const field of ["main", "module", "types"]) {
    if (manifest[field] !== undefined && !has(manifest[field])) problems.push(`"${field}" -> ${manifest[field]} is not in the tarball`)
  }
  if (!manifest.peerDependencies?.effect) problems.push(`effect is not a peer dependency`)
  return problems
}

const specifierPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(["'])([^"'\n]+)\1/gm

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`). */
const packageOf = (specifier) => {
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]
}

/** The packages the built files (js, cjs, d.ts, d.cts) import, with the files that import them. */
export const importsOf = ({ files, read }) => {
  const found = new Map()
  for (const file of files) {
    if (!/^dist\/.*\.(m?js|cjs|d\.ts|d\.cts|d\.mts)$/.test(file)) continue
    const text = read(file).toString("utf8")
    for (const m of text.matchAll(specifierPattern)) {
      const spec = m[2]
      if (spec.startsWith(".") || spec.startsWith("/") || isBuiltin(spec) || spec.startsWith("node:")) continue
      const name = packageOf(spec)
      if (!found.has(name)) found.set(name, new Set())
      found.get(name).add(file)
    }
  }
  return found
}

/** Problems with what the built code imports: undeclared packages, shared packages that are not peers. */
export const checkImports = (tarball) => {
  const problems = []
  const imports = importsOf(tarball)
  const { manifest } = tarball
  const declared = new Set(["dependencies", "peerDependencies", "optionalDependencies"].flatMap((f) => Object.keys(manifest[f] ?? {})))
  for (const [name, where] of imports) {
    if (name === manifest.name) continue
    if (!declared.has(name)) {
      problems.push(`imports ${name} (${[...where].join(", ")}) without declaring it in dependencies or peerDependencies`)
    }
    if (!isBinOnly(manifest) && sharedPeers.includes(name) && manifest.dependencies?.[name] !== undefined) {
      problems.push(`${name} is a dependency; a library shares it with its user, so it must be a peer dependency`)
    }
  }
  return problems
}

/** Problems with the README: install instructions and a code example. */
export const checkReadme = ({ files, manifest, read }) => {
  if (!files.includes("README.md")) return ["no README.md in the tarball"]
  const text = read("README.md").toString("utf8")
  const problems = []
  const install = new RegExp(`(npm (i|install)|pnpm add|yarn add)[^\\n]*${manifest.name.replace(/[/.]/g, "\\$&")}`)
  if (!install.test(text)) problems.push(`the README has no install line for ${manifest.name} (npm install / pnpm add)`)
  if (!/```(ts|typescript|js|javascript|sh|bash|console)?\n[\s\S]*?```/.test(text)) problems.push("the README has no example (a fenced code block)")
  return problems
}

/** publint on the tarball; every message (error, warning, suggestion) is a problem. */
export const runPublint = async (tarballPath) => {
  const { publint } = await import("publint")
  const { formatMessage } = await import("publint/utils")
  const data = readFileSync(tarballPath)
  const result = await publint({
    pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
    strict: true,
    level: "suggestion"
  })
  return result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg, { color: false }) ?? m.code}`)
}

/** attw (through scripts/release-attw.mjs) on the tarball; every problem is a problem. */
export const runAttw = (tarballPath) => {
  let stdout
  try {
    stdout = execFileSync(process.execPath, [join(root, "scripts/release-attw.mjs"), tarballPath, "--format", "json"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"]
    })
  } catch (error) {
    stdout = error.stdout ?? ""
    if (!stdout.trim().startsWith("{")) return { types: false, problems: [`attw failed: ${String(error.stderr || error.message).trim()}`] }
  }
  const json = JSON.parse(stdout)
  const analysis = json.analysis
  const problems = []
  for (const [kind, list] of Object.entries(json.problems ?? {})) {
    for (const p of list) {
      problems.push(`${kind}: ${p.entrypoint ?? ""} ${p.resolutionKind ?? ""} ${p.fileName ?? p.typesFileName ?? ""}`.replace(/\s+/g, " ").trim())
    }
  }
  return { types: analysis.types !== false, problems }
}

/**
 * Packs the given packages (default: every publishable one) into `outDir`.
 * @param {{ outDir?: string, only?: ReadonlyArray<string> }} [options]
 */
export const packAll = ({ outDir, only = [] } = {}) => {
  const out = outDir ?? mkdtempSync(join(tmpdir(), "polar-events-pack-"))
  mkdirSync(out, { recursive: true })
  const pkgs = publishablePackages().filter((p) => only.length === 0 || only.includes(p.name))
  return { outDir: out, packed: pkgs.map((pkg) => ({ name: pkg.name, dir: pkg.dir, tarball: pack(pkg, out) })) }
}

/**
 * Runs every check on packed packages.
 * @param {ReadonlyArray<{ name: string, dir: string, tarball: string }>} packed
 */
export const checkPacked = async (packed) => {
  const results = []
  for (const { name, dir, tarball: tarballPath } of packed) {
    const tarball = readTarball(tarballPath)
    results.push({
      name,
      dir,
      binOnly: isBinOnly(tarball.manifest),
      tarball: tarballPath,
      files: tarball.files,
      manifest: tarball.manifest,
      checks: {
        manifest: checkManifest(tarball),
        imports: checkImports(tarball),
        readme: checkReadme(tarball),
        publint: await runPublint(tarballPath),
        attw: runAttw(tarballPath).problems
      }
    })
  }
  return results
}

/**
 * Packs and checks the given packages (default: every publishable one).
 * @param {{ outDir?: string, only?: ReadonlyArray<string> }} [options]
 */
export const checkPackages = async (options = {}) => {
  const { outDir, packed } = packAll(options)
  return { outDir, results: await checkPacked(packed) }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (isMain) {
  const args = process.argv.slice(2)
  const take = (flag) => {
    const i = args.indexOf(flag)
    if (i === -1) return undefined
    const [, value] = args.splice(i, 2)
    return value
  }
  const outDir = take("--out")
  const jsonFile = take("--json")
  const report = await checkPackages({ outDir, only: args })
  let failed = 0
  for (const r of report.results) {
    for (const [check, problems] of Object.entries(r.checks)) {
      const label = `${r.name} (${r.dir}) ${check}`
      if (problems.length === 0) {
        console.log(`ok   ${label}`)
      } else {
        failed++
        console.log(`FAIL ${label}`)
        for (const p of problems) console.log(`     - ${p}`)
      }
    }
  }
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(report, null, 2))
  if (outDir === undefined) rmSync(report.outDir, { recursive: true, force: true })
  else console.log(`tarballs in ${report.outDir}`)
  console.log(`${report.results.length} packages, ${failed} failed checks`)
  process.exit(failed > 0 ? 1 : 0)
}
