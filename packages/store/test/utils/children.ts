/**
 * Child processes running the store built from source: the fixture is
 * bundled with tsup (esbuild) into `.test-build/`, inside the package so its
 * imports resolve to the package's node_modules, and removed afterwards.
 */
import { fork } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "tsup"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** Builds a fixture script; returns its path and a cleanup. */
export const buildFixture = async (name: string) => {
  const outDir = Path.join(root, `.test-build-${process.pid}-${name}`)
  await build({
    config: false,
    entry: { [name]: Path.join(root, "test/fixtures", `${name}.ts`) },
    outDir,
    format: ["esm"],
    platform: "node",
    target: "node20",
    dts: false,
    silent: true,
    skipNodeModulesBundle: true,
    external: ["better-sqlite3", /^@effect\//, /^@polar-events\//, "effect", "pg", "pg-copy-streams"],
    outExtension: () => ({ js: ".mjs" })
  })
  return {
    file: Path.join(outDir, `${name}.mjs`),
    cleanup: () => Fs.rmSync(outDir, { recursive: true, force: true })
  }
}

/** Runs a built script with arguments; resolves with its last stdout line parsed as JSON. */
export const runChild = (file: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<any> =>
  new Promise((resolve, reject) => {
    const child = fork(file, [...args], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      execArgv: [],
      env: { ...process.env, ...env }
    })
    let out = ""
    let err = ""
    child.stdout!.on("data", (d) => (out += d))
    child.stderr!.on("data", (d) => (err += d))
    child.on("error", reject)
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`child exited with ${code}: ${err}`))
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!))
      } catch (e) {
        reject(new Error(`bad child output ${out} ${err}`))
      }
    })
  })
