/**
 * Running the built `polar-events` binary (`dist/bin.js`) as a child
 * process, as a user would, in a temporary directory.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The built executable (`POLAR_EVENTS_CLI_BIN` runs the tests against another build of it). */
export const BIN = process.env.POLAR_EVENTS_CLI_BIN ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/bin.js")

/** How a run ended. */
export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Options of a run. */
export interface RunOptions {
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
  readonly input?: string | Buffer
  readonly timeoutMs?: number
}

/** The environment of a child: no Polar or polar-events settings of the machine leak in; no colors. */
export const childEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" }
  for (const key of Object.keys(env)) {
    if (key.startsWith("POLAR_")) delete env[key]
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

/** Starts the binary and returns the child. */
export const start = (args: ReadonlyArray<string>, options: RunOptions = {}): ChildProcess =>
  spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: childEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"]
  })

/** Runs the binary to its end. */
export const run = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = start(args, options)
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`polar-events ${args.join(" ")} timed out; stderr: ${stderr.slice(-2000)}`))
    }, options.timeoutMs ?? 120_000)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin!.on("error", () => {})
    if (options.input !== undefined) child.stdin!.end(options.input)
    else child.stdin!.end()
  })

/** Runs the binary and fails unless it exits 0; returns stdout. */
export const ok = async (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<string> => {
  const r = await run(args, options)
  if (r.code !== 0) {
    throw new Error(`polar-events ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  }
  return r.stdout
}

/** Parses NDJSON output. */
export const ndjson = (text: string): Array<Record<string, any>> =>
  text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))

/** A fresh temporary directory, removed by `cleanup`. */
export const tempDir = (prefix = "polar-events-cli-"): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

/** Removes a temporary directory. */
export const cleanup = (dir: string): void => fs.rmSync(dir, { recursive: true, force: true })

/** Waits until `f` holds, polling. */
export const until = async (f: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = "a condition"): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A long-running child (`serve`): its output so far, and a way to wait for a line. */
export interface Running {
  readonly child: ChildProcess
  readonly out: () => string
  readonly err: () => string
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
  readonly stop: () => Promise<void>
}

/** Starts a long-running command and collects its output. */
export const background = (args: ReadonlyArray<string>, options: RunOptions = {}): Running => {
  const child = start(args, options)
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()))
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      let m: RegExpExecArray | null = null
      await until(() => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`)
        return (m = pattern.exec(stdout + stderr)) !== null
      }, timeoutMs, `${pattern} in the output of polar-events ${args.join(" ")}`)
      return m!
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Starts `serve` on a free port and waits until it listens; returns its URL too. */
export const serve = async (args: ReadonlyArray<string>, options: RunOptions = {}) => {
  const running = background(["serve", "--port", "0", ...args], options)
  const m = await running.waitFor(/listening on (http:\/\/\S+)/)
  return { ...running, url: m[1]! }
}

/**
 * Runs the binary and measures the peak resident set size of the child in
 * MB: GNU time's "Maximum resident set size" when /usr/bin/time exists, and
 * /proc/<pid>/status VmHWM sampled until it exits (the larger of the two).
 */
export const runMeasured = (
  args: ReadonlyArray<string>,
  options: RunOptions = {}
): Promise<Result & { readonly peakMiB: number; readonly seconds: number }> =>
  new Promise((resolve, reject) => {
    const t0 = Date.now()
    const gnuTime = fs.existsSync("/usr/bin/time")
    const child = gnuTime
      ? spawn("/usr/bin/time", ["-v", process.execPath, BIN, ...args], {
        cwd: options.cwd ?? process.cwd(),
        env: childEnv(options.env),
        stdio: ["pipe", "pipe", "pipe"]
      })
      : start(args, options)
    let stdout = ""
    let stderr = ""
    let peak = 0
    const pids = () => {
      if (!gnuTime) return [child.pid]
      try {
        return fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)
      } catch {
        return []
      }
    }
    const sample = () => {
      for (const pid of pids()) {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
          if (m) peak = Math.max(peak, Number(m[1]) / 1024)
        } catch {
          // gone
        }
      }
    }
    const timer = setInterval(sample, 20)
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearInterval(timer)
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
      if (m) peak = Math.max(peak, Number(m[1]) / 1024)
      resolve({ code, signal, stdout, stderr, peakMiB: peak, seconds: (Date.now() - t0) / 1000 })
    })
    child.stdin!.end()
  })
