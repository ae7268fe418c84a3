import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const here = Path.dirname(fileURLToPath(import.meta.url))
/** tsx's loader, so that the child is ONE node process (the tsx CLI would start another, which a SIGKILL misses) */
const loader = pathToFileURL(
  Path.join(Fs.realpathSync(Path.resolve(here, "../../node_modules/tsx")), "dist/loader.mjs")
).href

export interface Child {
  readonly process: ChildProcess
  readonly lines: Array<string>
  readonly stderr: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `test/fixtures/<script>` with node and tsx's loader, collecting its stdout lines. */
export const run = (script: string, args: ReadonlyArray<string>): Child => {
  const child = spawn(process.execPath, ["--import", loader, Path.resolve(here, "../fixtures", script), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" }
  })
  const lines: Array<string> = []
  let buffer = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8")
    const parts = buffer.split("\n")
    buffer = parts.pop()!
    lines.push(...parts)
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  )
  return { process: child, lines, stderr: () => stderr, exited }
}
