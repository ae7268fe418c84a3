/**
 * `pnpm bench cli`: `polar-events import` of 1,000,000 NDJSON events through
 * the built binary (`apps/cli/dist/bin.js`, a child process), beside the
 * store's own bulk ingest rate measured in the same run:
 * - baseline: a minimal program (a child process too) reads the same file,
 *   `JSON.parse`s and decodes each line with core's `Event`, and calls
 *   `EventStore.insert` (the bulk path) in batches of the CLI's size into
 *   the same kind of SQLite file with the CLI's cache size. The baseline
 *   rate is events / time spent inside `insert` only: the store's own rate,
 *   with no reading or decoding. It runs before and after ours (the mean of
 *   the two), so a machine that gets busier slows both alike. The rate of
 *   that whole minimal program is in the notes;
 * - ours: the CLI's default import (check every line, then write: nothing
 *   is written if one line is bad) and the one-pass `--skip-invalid`, as
 *   shipped (default cache and batch sizes);
 * - peak RSS of each child (VmHWM), against the 250 MB budget;
 * - `polar-events export` of everything imported as NDJSON, with Node's
 *   default heap settings: its peak RSS against the 200 MB target, beside a
 *   raw better-sqlite3 `iterate()` loop writing the same rows as JSON lines.
 *
 * `POLAR_EVENTS_BENCH_CLI_EVENTS` changes the event count.
 */
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { rawSqliteExportLoop, type Row } from "./Bench.js"

const N = Number(process.env.POLAR_EVENTS_BENCH_CLI_EVENTS ?? 1_000_000)
/** the CLI's defaults */
const BATCH = 5_000
const CACHE_MIB = 16
const here = Path.dirname(fileURLToPath(import.meta.url))
const benchDir = Path.resolve(here, "..")
const cliDir = Path.resolve(here, "../../apps/cli")
const BIN = Path.join(cliDir, "dist/bin.js")

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const NAMES = ["llm.completion", "llm.completion", "api.request", "api.request", "api.request", "storage.upload"]
const MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4"]

/** Writes N wire events (about 450 bytes each, 10,000 customers, time-ordered v7 ids). */
const generate = (file: string): void => {
  const fd = Fs.openSync(file, "w")
  const start = Date.parse("2025-01-01T00:00:00Z")
  let seed = 12345
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x80000000
  }
  let buffer = ""
  for (let i = 0; i < N; i++) {
    const ms = start + Math.floor((i * 30 * 86_400_000) / N)
    const t = ms.toString(16).padStart(12, "0")
    let r = ""
    for (let k = 0; k < 10; k++) r += HEX[Math.floor(rand() * 256)]
    const id = `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${"89ab"[i & 3]}${r.slice(3, 6)}-${r.slice(6, 18).padEnd(12, "0")}`
    const name = NAMES[i % NAMES.length]!
    const input = 100 + Math.floor(rand() * 3900)
    const output = 20 + Math.floor(rand() * 800)
    const metadata = name === "llm.completion"
      ? {
        model: MODELS[i % 3],
        feature: "chat",
        _llm: { vendor: "openai", model: MODELS[i % 3], input_tokens: input, output_tokens: output, total_tokens: input + output },
        _cost: { amount: ((input + output) / 1000).toFixed(4), currency: "usd" }
      }
      : name === "api.request"
      ? { endpoint: "/v1/search", method: "GET", status: 200, latency_ms: Math.floor(rand() * 500), region: "eu-west-1" }
      : { bytes: Math.floor(rand() * 5_000_000), bucket: "user-uploads", content_type: "application/pdf" }
    buffer += JSON.stringify({
      id,
      timestamp: new Date(ms).toISOString(),
      organization_id: "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
      customer_id: null,
      customer: null,
      external_customer_id: `customer_${Math.floor(rand() * 10_000)}`,
      label: name,
      name,
      source: "user",
      metadata
    }) + "\n"
    if (buffer.length > 1 << 20) {
      Fs.writeSync(fd, buffer)
      buffer = ""
    }
  }
  Fs.writeSync(fd, buffer)
  Fs.closeSync(fd)
}

/** The baseline program: the store's bulk path fed the file with nothing else around it. */
const baselineProgram = `
import { Event } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { SqlEventStore } from "@polar-events/store/sql"
import { Effect, Schema } from "effect"
import * as Fs from "node:fs"
import { StringDecoder } from "node:string_decoder"
const [file, db, batch, cache] = process.argv.slice(1)
const decode = Schema.decodeUnknownSync(Event.Event)
const program = Effect.gen(function*() {
  const store = yield* EventStore.EventStore
  let inside = 0n
  let n = 0
  let events = []
  const flush = function*() {
    const t = process.hrtime.bigint()
    yield* store.insert(events)
    inside += process.hrtime.bigint() - t
    n += events.length
    events = []
  }
  const fd = Fs.openSync(file, "r")
  const buf = Buffer.alloc(1 << 20)
  const dec = new StringDecoder("utf8")
  let rest = ""
  while (true) {
    const k = Fs.readSync(fd, buf, 0, buf.length, null)
    const text = k === 0 ? dec.end() : dec.write(buf.subarray(0, k))
    const lines = (rest + text).split("\\n")
    rest = k === 0 ? "" : lines.pop()
    for (const line of lines) {
      if (line.length === 0) continue
      events.push(decode(JSON.parse(line)))
      if (events.length >= Number(batch)) yield* flush()
    }
    if (k === 0) break
  }
  if (events.length > 0) yield* flush()
  process.stdout.write(JSON.stringify({ n, insertSeconds: Number(inside) / 1e9 }) + "\\n")
})
Effect.runPromise(program.pipe(Effect.provide(SqlEventStore.layerSqlite({ filename: db, cacheSizeMiB: Number(cache) }))))
`

/** The raw export: every row of the file as a JSON line, one at a time, to /dev/null. */
const rawExportProgram = `
import Database from "better-sqlite3"
import * as Fs from "node:fs"
const [db] = process.argv.slice(1)
const sink = Fs.createWriteStream("/dev/null")
const write = (data) => sink.write(data) ? undefined : new Promise((r) => sink.once("drain", r))
const conn = new Database(db, { readonly: true })
let count = 0
${rawSqliteExportLoop("conn")}
conn.close()
await new Promise((r) => sink.end(r))
process.stdout.write(JSON.stringify({ count }) + "\\n")
`

interface Run {
  readonly seconds: number
  readonly peakMiB: number
  readonly stdout: string
}

/** Runs a child process, sampling its peak RSS (VmHWM) until it exits. */
const runChild = (args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> =>
  new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let peak = 0
    const sample = () => {
      try {
        const status = Fs.readFileSync(`/proc/${child.pid}/status`, "utf8")
        const m = /VmHWM:\s+(\d+) kB/.exec(status)
        if (m) peak = Math.max(peak, Number(m[1]) / 1024)
      } catch {
        // exited
      }
    }
    const timer = setInterval(sample, 50)
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("exit", (code) => {
      clearInterval(timer)
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      if (code !== 0) reject(new Error(`${args.join(" ")} exited with ${code}: ${stderr.slice(-2000)}`))
      else resolve({ seconds, peakMiB: peak, stdout })
    })
  })

/** Builds the CLI (its dependencies are built by `pnpm bench`), so the binary measured is the current one. */
const ensureBuilt = () => {
  process.stderr.write("cli: building apps/cli ...\n")
  try {
    execFileSync("pnpm", ["--filter", "polar-events", "run", "build"], { cwd: cliDir, stdio: "pipe" })
  } catch (e) {
    if (!Fs.existsSync(BIN)) throw e
    process.stderr.write(`cli: could not rebuild (${(e as Error).message}); using the existing ${BIN}\n`)
  }
}

/** The suite. */
export const run = async (): Promise<ReadonlyArray<Row>> => {
  ensureBuilt()
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "polar-events-bench-cli-"))
  try {
    const file = Path.join(dir, "events.ndjson")
    process.stderr.write(`cli: writing ${N.toLocaleString("en-US")} events ...\n`)
    generate(file)
    const mib = Fs.statSync(file).size / 1024 / 1024

    const baseline = async (name: string) => {
      process.stderr.write(`cli: baseline (store bulk path, ${name}) ...\n`)
      const r = await runChild(
        ["--input-type=module", "-e", baselineProgram, file, Path.join(dir, `${name}.db`), String(BATCH), String(CACHE_MIB)],
        benchDir
      )
      const result = JSON.parse(r.stdout.trim().split("\n").pop()!) as { n: number; insertSeconds: number }
      return { ...r, insertRate: result.n / result.insertSeconds, pipelineRate: result.n / r.seconds }
    }
    const before = await baseline("before")
    process.stderr.write("cli: polar-events import ...\n")
    const ours = await runChild([BIN, "import", file, "--db", Path.join(dir, "cli.db"), "--no-progress", "--json"], dir)
    const oursResult = JSON.parse(ours.stdout.trim().split("\n").pop()!) as { inserted: number }
    process.stderr.write("cli: polar-events import --skip-invalid ...\n")
    const once = await runChild(
      [BIN, "import", file, "--db", Path.join(dir, "cli-once.db"), "--no-progress", "--json", "--skip-invalid"],
      dir
    )
    process.stderr.write("cli: polar-events export ...\n")
    const exported = await runChild(
      [BIN, "export", "--db", Path.join(dir, "cli.db"), "--output", "/dev/null", "--json"],
      dir
    )
    const exportedCount = (JSON.parse(exported.stdout.trim().split("\n").pop()!) as { exported: number }).exported
    if (exportedCount !== N) throw new Error(`cli: exported ${exportedCount} of ${N}`)
    const rawExport = await runChild(["--input-type=module", "-e", rawExportProgram, Path.join(dir, "cli.db")], benchDir)
    const after = await baseline("after")
    const insertRate = (before.insertRate + after.insertRate) / 2
    const pipelineRate = (before.pipelineRate + after.pipelineRate) / 2
    if (oursResult.inserted !== N) throw new Error(`cli: imported ${oursResult.inserted} of ${N}`)

    const rate = N / ours.seconds
    const onceRate = N / once.seconds
    const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
    return [
      {
        what: `cli: import ${N.toLocaleString("en-US")} NDJSON events (check all, then write)`,
        ours: rate,
        baseline: insertRate,
        unit: "events/s",
        better: "higher",
        baselineName: "store insert() alone (bulk path)",
        target: ">= 0.7x",
        note: `${ours.seconds.toFixed(1)} s for ${mib.toFixed(0)} MB; read+decode+insert program ${fmt(pipelineRate)}/s`
      },
      {
        what: "cli: import --skip-invalid (one pass)",
        ours: onceRate,
        baseline: insertRate,
        unit: "events/s",
        better: "higher",
        baselineName: "store insert() alone (bulk path)",
        target: ">= 0.7x",
        note: `${once.seconds.toFixed(1)} s`
      },
      {
        what: "cli: import peak RSS",
        ours: Math.max(ours.peakMiB, once.peakMiB),
        baseline: Math.max(before.peakMiB, after.peakMiB),
        unit: "MB",
        better: "lower",
        baselineName: "the read+decode+insert program",
        target: "< 250 MB",
        note: `default ${ours.peakMiB.toFixed(0)} MB, --skip-invalid ${once.peakMiB.toFixed(0)} MB`
      },
      {
        what: `cli: export ${N.toLocaleString("en-US")} events as NDJSON, peak RSS (Node's default heap)`,
        ours: exported.peakMiB,
        baseline: rawExport.peakMiB,
        unit: "MB",
        better: "lower",
        baselineName: "better-sqlite3 iterate() writing JSON lines",
        target: "< 200 MB",
        note: `ours ${fmt(N / exported.seconds)} events/s, raw ${fmt(N / rawExport.seconds)}/s`
      }
    ]
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}
