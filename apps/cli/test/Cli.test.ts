/**
 * The command line itself: help, completions, exit codes (0/1/2), one-line
 * errors, `--verbose`, `NO_COLOR`, global options before or after the
 * command and from the environment, the remembered default organization,
 * `ingest` and `db info|migrate`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { execFile } from "node:child_process"
import { BIN, childEnv, cleanup, ndjson, ok, run, tempDir } from "./utils/cli.js"
import { ingestEvent, writeNdjson } from "./utils/events.js"

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => cleanup(dir))

let n = 0
const freshDb = () => path.join(dir, `db-${++n}`, "events.db")
const ESC = "\u001b["

describe("help, version and completions", () => {
  it("every command has --help, exit 0, on stdout", async () => {
    const root = await run(["--help"])
    assert.strictEqual(root.code, 0)
    for (const command of ["ingest", "import", "list", "get", "names", "quantities", "export", "push", "pull", "serve", "db"]) {
      assert.include(root.stdout, command)
      const r = await run([command, "--help"])
      assert.strictEqual(r.code, 0, `${command}: ${r.stderr}`)
      assert.match(r.stdout, new RegExp(`\\$ (polar-events )?${command}`))
    }
    const sub = await run(["db", "info", "--help"])
    assert.strictEqual(sub.code, 0)
    assert.include(sub.stdout, "--db")
    assert.include((await run(["list", "--help"])).stdout, "--external-customer-id")
    assert.match((await run(["--version"])).stdout, /\d+\.\d+\.\d+/)
  })

  it("writes shell completions for bash, zsh and fish", async () => {
    const bash = await run(["--completions", "bash"])
    assert.strictEqual(bash.code, 0)
    assert.include(bash.stdout, "complete -F")
    assert.include(bash.stdout, "polar-events")
    assert.include(bash.stdout, "quantities")
    const zsh = await run(["--completions", "zsh"])
    assert.strictEqual(zsh.code, 0)
    assert.include(zsh.stdout, "#compdef polar-events")
    const fish = await run(["--completions", "fish"])
    assert.strictEqual(fish.code, 0)
    assert.include(fish.stdout, "complete -c polar-events")
  })

  it("NO_COLOR (set by the tests) and pipes get no escape codes; FORCE of a TTY is not needed", async () => {
    const r = await run(["--help"])
    assert.notInclude(r.stdout, ESC)
    const bad = await run(["list", "--bogus"])
    assert.notInclude(bad.stderr, ESC)
  })
})

describe("progress", () => {
  /** Runs a command on a pseudo-terminal (util-linux `script`) and returns what the terminal got. */
  const onTty = (args: ReadonlyArray<string>, env: Record<string, string | undefined>) =>
    new Promise<string>((resolve, reject) => {
      const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ")
      execFile("script", ["-qfec", command, "/dev/null"], { env: childEnv(env), maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout))
    })

  it("draws a bar with rate and ETA on a terminal (colors unless NO_COLOR), plain lines otherwise", async () => {
    const file = path.join(dir, "progress.ndjson")
    writeNdjson(file, 60_000, (i) => ingestEvent(i, { stepMs: 1000 }))
    const colored = await onTty(["import", file, "--db", freshDb(), "--dry-run"], { NO_COLOR: undefined })
    assert.include(colored, "\r\u001b[2K")
    assert.match(colored, /[█░]{4,}.*checking: [\d,]+ records\s+\d+%\s+[\d,]+\/s\s+ETA \d+/)
    assert.include(colored, `${ESC}36m`)
    assert.match(colored, /dry run: 60,000 valid events/)
    const plain = await onTty(["import", file, "--db", freshDb(), "--dry-run"], { NO_COLOR: "1" })
    assert.match(plain, /[█░]{4,}/)
    assert.notInclude(plain, `${ESC}36m`)
    const piped = await run(["import", file, "--db", freshDb()])
    assert.strictEqual(piped.code, 0, piped.stderr)
    assert.notInclude(piped.stderr, "\r")
    assert.match(piped.stdout, /^imported 60,000 events in [\d.]+s \([\d,]+\/s\): 60,000 new$/m)
  })
})

describe("exit codes and errors", () => {
  it("a usage error is exit 2 with one line on stderr", async () => {
    for (const args of [["list", "--bogus"], ["frobnicate"], ["get"], ["list", "--limit", "many"], ["ingest", "--name", "x"]]) {
      const r = await run([...args, "--db", freshDb()])
      assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`)
      assert.strictEqual(r.stdout.trim() === "" || !r.stdout.includes("Error"), true)
      assert.notInclude(r.stderr, "    at ")
      assert.isAtMost(r.stderr.trim().split("\n").filter((l) => l.trim() !== "").length, 2, r.stderr)
    }
  })

  it("a runtime error is exit 1 with one line, and a stack trace only with --verbose", async () => {
    const blocker = path.join(dir, "not-a-folder")
    fs.writeFileSync(blocker, "x")
    const db = path.join(blocker, "events.db")
    const r = await run(["list", "--db", db])
    assert.strictEqual(r.code, 1)
    const lines = r.stderr.trim().split("\n")
    assert.strictEqual(lines.length, 1, r.stderr)
    assert.match(lines[0]!, /^error: cannot (open|create the folder of) .*not-a-folder\/events\.db: /)
    const verbose = await run(["list", "--db", db, "--verbose"])
    assert.strictEqual(verbose.code, 1)
    assert.isAbove(verbose.stderr.trim().split("\n").length, 1)
    assert.match(verbose.stderr, /^error: cannot (open|create the folder of) /)
    assert.include(verbose.stderr, "    at ")
  })
})

describe("global options", () => {
  it("go before or after the command, and --db falls back to POLAR_EVENTS_DB then .polar-events/events.db", async () => {
    const db = freshDb()
    await ok(["--db", db, "ingest", "--name", "before", "--external-customer-id", "a"])
    await ok(["ingest", "--name", "after", "--external-customer-id", "a", "--db", db])
    await ok(["ingest", "--name", "env", "--external-customer-id", "a"], { env: { POLAR_EVENTS_DB: db } })
    const names = ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db])).map((e) => e.name).sort()
    assert.deepStrictEqual(names, ["after", "before", "env"])
    const cwd = path.join(dir, "cwd")
    fs.mkdirSync(cwd)
    await ok(["ingest", "--name", "default", "--external-customer-id", "a"], { cwd })
    assert.isTrue(fs.existsSync(path.join(cwd, ".polar-events", "events.db")))
    const both = await run(["list", "--db", db, "--pg", "postgres://x@localhost/db"])
    assert.strictEqual(both.code, 2)
  })

  it("creates a default organization once and remembers it; --org picks another", async () => {
    const db = freshDb()
    const info1 = JSON.parse(await ok(["db", "info", "--db", db, "--json"]))
    assert.strictEqual(info1.exists, false)
    assert.isFalse(fs.existsSync(db))
    await ok(["ingest", "--name", "a", "--external-customer-id", "x", "--db", db])
    const info2 = JSON.parse(await ok(["db", "info", "--db", db, "--json"]))
    assert.match(info2.defaultOrganizationId, /^[0-9a-f-]{36}$/)
    await ok(["ingest", "--name", "b", "--external-customer-id", "x", "--db", db])
    const events = ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db]))
    assert.deepStrictEqual([...new Set(events.map((e) => e.organization_id))], [info2.defaultOrganizationId])
    const other = "3f0c1e52-7a4b-4c55-9d2e-0b1a2c3d4e5f"
    await ok(["ingest", "--name", "c", "--external-customer-id", "x", "--db", db, "--org", other])
    assert.deepStrictEqual(ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db, "--org", other])).map((e) => e.name), ["c"])
    assert.strictEqual(ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db])).length, 2)
    const info3 = JSON.parse(await ok(["db", "info", "--db", db, "--json"]))
    assert.strictEqual(info3.events, 3)
    assert.strictEqual(info3.schemaVersion, info3.latestSchemaVersion)
    assert.deepStrictEqual(info3.organizations.map((o: any) => o.events).sort(), [1, 2])
    const bad = await run(["list", "--db", db, "--org", "acme"])
    assert.strictEqual(bad.code, 2)
    assert.match(bad.stderr, /--org must be a UUID/)
  })

  it("db migrate creates the schema; db info reports it", async () => {
    const db = freshDb()
    const migrated = JSON.parse(await ok(["db", "migrate", "--db", db, "--json"]))
    assert.isAbove(migrated.schemaVersion, 0)
    const text = await ok(["db", "info", "--db", db])
    assert.match(text, /schema version:\s+\d+ of \d+/)
    assert.match(text, /events:\s+0/)
  })
})

describe("ingest", () => {
  it("needs exactly one of --customer-id and --external-customer-id (usage error, exit 2)", async () => {
    const db = freshDb()
    const neither = await run(["ingest", "--name", "x", "--db", db])
    assert.strictEqual(neither.code, 2)
    assert.match(neither.stderr, /^error: give exactly one of --customer-id and --external-customer-id$/m)
    const both = await run(["ingest", "--name", "x", "--customer-id", "8c5e1f2a-3b4c-4d5e-8f60-718293a4b5c6", "--external-customer-id", "y", "--db", db])
    assert.strictEqual(both.code, 2)
    assert.match(both.stderr, /not both/)
    const badUuid = await run(["ingest", "--name", "x", "--customer-id", "123", "--db", db])
    assert.strictEqual(badUuid.code, 2)
    assert.match(badUuid.stderr, /^error: --customer-id: /m)
    const v1 = await run(["ingest", "--name", "x", "--customer-id", "8c5e1f2a-3b4c-1d5e-8f60-718293a4b5c6", "--db", db])
    assert.strictEqual(v1.code, 2)
    assert.match(v1.stderr, /UUID version 4/)
    const future = await run(["ingest", "--name", "x", "--external-customer-id", "a", "--timestamp", "2999-01-01T00:00:00Z", "--db", db])
    assert.strictEqual(future.code, 2)
    assert.match(future.stderr, /--timestamp: .*Timestamp must be in the past/)
    const meta = await run(["ingest", "--name", "x", "--external-customer-id", "a", "--meta", "novalue", "--db", db])
    assert.strictEqual(meta.code, 2)
    assert.deepStrictEqual(ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db])), [])
  })

  it("records an event with typed metadata, a timestamp and an external id (a repeat is a duplicate)", async () => {
    const db = freshDb()
    const args = [
      "ingest",
      "--name",
      "llm.completion",
      "--customer-id",
      "8c5e1f2a-3b4c-4d5e-8f60-718293a4b5c6",
      "--meta",
      "tokens=1200",
      "--meta",
      "ratio=0.5",
      "--meta",
      "cached=true",
      "--meta",
      "model=gpt-4o",
      "--meta",
      "code=\"007\"",
      "--meta",
      "_cost.amount=12.5",
      "--meta",
      "_cost.currency=usd",
      "--timestamp",
      "2025-05-01T12:00:00+02:00",
      "--external-id",
      "req_1",
      "--db",
      db,
      "--json"
    ]
    assert.deepStrictEqual(JSON.parse(await ok(args)), { inserted: 1, duplicates: 0 })
    assert.deepStrictEqual(JSON.parse(await ok(args)), { inserted: 0, duplicates: 1 })
    const [event] = ndjson(await ok(["list", "--all", "--format", "ndjson", "--db", db]))
    assert.strictEqual(event!.name, "llm.completion")
    assert.strictEqual(event!.customer_id, "8c5e1f2a-3b4c-4d5e-8f60-718293a4b5c6")
    assert.strictEqual(Date.parse(event!.timestamp), Date.parse("2025-05-01T10:00:00Z"))
    assert.deepStrictEqual(event!.metadata, {
      tokens: 1200,
      ratio: 0.5,
      cached: true,
      model: "gpt-4o",
      code: "007",
      _cost: { amount: "12.5", currency: "usd" }
    })
    const text = await ok(["ingest", "--name", "api.call", "--external-customer-id", "acme", "--db", db])
    assert.match(text, /^ingested 1 event 'api\.call'$/m)
  })
})
