import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type * as EventsClient from "../src/EventsClient.js"
import * as Outbox from "../src/Outbox.js"
import * as Child from "./utils/child.js"
import { client, event, eventually, polarServer } from "./utils/layers.js"
import type * as PolarServer from "./utils/PolarServer.js"
import * as Scripted from "./utils/ScriptedServer.js"

const TOKEN = "polar_oat_outbox_test_token"

const tempFile = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "polar-outbox-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "events.sqlite")))

/** Runs `f` with an outbox on `filename`; closing it when `f` ends. */
const withOutbox = <A, E>(
  url: string,
  filename: string,
  options: Outbox.Options,
  f: (outbox: Outbox.Service, sql: SqlClient.SqlClient) => Effect.Effect<A, E>,
  clientOptions: Partial<EventsClient.Options> = {}
) =>
  Effect.scoped(
    Effect.gen(function*() {
      const outbox = yield* Outbox.make(options)
      return yield* f(outbox, yield* SqlClient.SqlClient)
    })
  ).pipe(
    Effect.provide(Layer.merge(client(url, TOKEN, clientOptions), SqliteClient.layer({ filename })))
  )

const seqs = (server: PolarServer.PolarServer) =>
  [...server.stored.values()].map((e) => (e.wire.metadata as { seq: number }).seq).sort((a, b) => a - b)

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("Outbox", () => {
  it.scopedLive("an offer is committed before it returns; the sender delivers and marks it", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const filename = yield* tempFile
      yield* withOutbox(server.url, filename, { maxBatchAge: "1 hour", maxBatchSize: 1000 }, (outbox, sql) =>
        Effect.gen(function*() {
          yield* outbox.offer(event(7))
          const rows = yield* sql<{ external_id: string; body: string; delivered_at: number | null }>`
            SELECT external_id, body, delivered_at FROM polar_events_outbox`
          assert.strictEqual(rows.length, 1)
          const body = JSON.parse(rows[0]!.body) as Record<string, unknown>
          assert.strictEqual(body.external_id, rows[0]!.external_id)
          assert.strictEqual(body.name, "api.call")
          assert.match(body.timestamp as string, /^\d{4}-\d\d-\d\dT.*Z$/)
          assert.strictEqual(rows[0]!.delivered_at, null)
          assert.strictEqual(server.requests.length, 0)
          yield* outbox.flush
          const after = yield* sql<{ delivered_at: number | null }>`SELECT delivered_at FROM polar_events_outbox`
          assert.isNotNull(after[0]!.delivered_at)
          const stats = yield* outbox.stats
          assert.strictEqual(stats.delivered, 1)
          assert.strictEqual(stats.pending, 0)
          assert.strictEqual(server.stored.get(rows[0]!.external_id)?.wire.name, "api.call")
        }))
    }))

  it.scopedLive("group commit: 3,000 concurrent offers share a few transactions", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const filename = yield* tempFile
      const stats = yield* withOutbox(server.url, filename, { maxBatchSize: 500 }, (outbox) =>
        Effect.gen(function*() {
          yield* Effect.forEach(range(3000), (i) => outbox.offer(event(i)), { concurrency: "unbounded" })
          yield* outbox.flush
          return yield* outbox.stats
        }))
      assert.strictEqual(stats.offered, 3000)
      assert.isBelow(stats.commits, 50)
      assert.strictEqual(stats.delivered, 3000)
      assert.deepStrictEqual(seqs(server), range(3000))
    }))

  it.scopedLive("events Polar rejects for good are marked dead; the rest of the batch is delivered", () =>
    Effect.gen(function*() {
      const server = yield* polarServer({ token: TOKEN })
      const filename = yield* tempFile
      yield* withOutbox(server.url, filename, { maxBatchAge: "1 hour" }, (outbox, sql) =>
        Effect.gen(function*() {
          for (let i = 0; i < 20; i++) {
            yield* outbox.offer(event(i, i % 5 === 0 ? { timestamp: new Date(Date.now() + 600_000) } : {}))
          }
          yield* outbox.flush
          const dead = yield* sql<{ body: string; error: string }>`
            SELECT body, error FROM polar_events_outbox WHERE dead_at IS NOT NULL ORDER BY seq`
          assert.deepStrictEqual(dead.map((d) => (JSON.parse(d.body) as { metadata: { seq: number } }).metadata.seq), [
            0,
            5,
            10,
            15
          ])
          assert.include(dead[0]!.error, "timestamp")
          const stats = yield* outbox.stats
          assert.strictEqual(stats.dead, 4)
          assert.strictEqual(stats.delivered, 16)
          assert.strictEqual(stats.pending, 0)
        }), { clockSkew: "1 hour" })
      assert.deepStrictEqual(seqs(server), range(20).filter((i) => i % 5 !== 0))
    }))

  it.scopedLive("a failed send leaves the events pending and tries again after retryInterval", () =>
    Effect.gen(function*() {
      const server = yield* Scripted.scoped((req) => (req.n === 0 ? { status: 401 } : Scripted.ingested(req)))
      const filename = yield* tempFile
      yield* withOutbox(server.url, filename, { maxBatchAge: "1 millis", retryInterval: "300 millis" }, (outbox) =>
        Effect.gen(function*() {
          const t0 = Date.now()
          yield* outbox.offer(event(1))
          yield* eventually(() => server.seen.length === 2)
          assert.isAtLeast(server.seen[1]!.at - server.seen[0]!.at, 300)
          assert.strictEqual(server.seen[1]!.body, server.seen[0]!.body)
          yield* outbox.flush
          const stats = yield* outbox.stats
          assert.strictEqual(stats.sendFailures, 1)
          assert.strictEqual(stats.delivered, 1)
          assert.isBelow(Date.now() - t0, 5000)
        }))
    }))

  it.scopedLive("what one run leaves pending, the next start delivers", () =>
    Effect.gen(function*() {
      const down = yield* Scripted.scoped(() => ({ status: 503 }))
      const server = yield* polarServer({ token: TOKEN })
      const filename = yield* tempFile
      yield* withOutbox(
        down.url,
        filename,
        { maxBatchAge: "1 millis", retryInterval: "1 hour", shutdownTimeout: "200 millis" },
        (outbox) =>
          Effect.gen(function*() {
            yield* outbox.offerAll(range(100).map((i) => event(i)))
            yield* eventually(() => down.seen.length > 0)
          }),
        { retry: { maxAttempts: 1 } }
      )
      assert.strictEqual(server.requests.length, 0)
      const stats = yield* withOutbox(server.url, filename, {}, (outbox) =>
        Effect.gen(function*() {
          assert.strictEqual((yield* outbox.stats).pending, 100)
          yield* outbox.flush
          return yield* outbox.stats
        }))
      assert.strictEqual(stats.delivered, 100)
      assert.strictEqual(stats.offered, 0)
      assert.deepStrictEqual(seqs(server), range(100))
      const sentIds = JSON.parse(down.seen[0]!.body).events.map((e: { external_id: string }) => e.external_id)
      assert.deepStrictEqual([...server.stored.keys()].sort(), [...sentIds].sort())
    }))

  it.scopedLive("kill -9 mid-flight: a restart delivers the rest, each event exactly once", () =>
    Effect.gen(function*() {
      const filename = yield* tempFile
      const N = 20_000
      let child!: Child.Child
      let killedBatch: ReadonlyArray<string> = []
      let batchesSeen = 0
      const server = yield* polarServer({
        token: TOKEN,
        // a slow server, so a backlog builds up in the outbox; after the 5th batch is stored and before it is
        // answered, the child dies
        afterInsert: async (request) => {
          await new Promise((r) => setTimeout(r, 50))
          if (++batchesSeen !== 5) return
          killedBatch = request.externalIds ?? []
          child.process.kill("SIGKILL")
          await child.exited
        }
      })
      child = Child.run("outbox-child.ts", [server.url, TOKEN, filename, "offer", String(N)])
      const exit = yield* Effect.promise(() => child.exited)
      assert.strictEqual(exit.signal, "SIGKILL", child.stderr())
      const acked = child.lines.filter((l) => l.startsWith("acked ")).map((l) => Number(l.slice(6)))
      const lastAcked = Math.max(-1, ...acked)
      assert.isAbove(lastAcked, 0)
      assert.isBelow(lastAcked, N - 1, "the child died while still offering")
      assert.isAbove(killedBatch.length, 0)
      assert.isTrue(killedBatch.every((id) => server.stored.has(id)), "the last batch reached the server")
      const before = server.stored.size

      const restart = Child.run("outbox-child.ts", [server.url, TOKEN, filename, "resume"])
      const exit2 = yield* Effect.promise(() => restart.exited)
      assert.strictEqual(exit2.code, 0, restart.stderr())
      const stats = JSON.parse(restart.lines.find((l) => l.startsWith("stats "))!.slice(6)) as Outbox.Stats
      assert.strictEqual(stats.pending, 0)
      // the batch the server stored but the child never marked was sent again and counted as duplicates
      assert.isAtLeast(stats.duplicates, killedBatch.length)
      const resent = server.requests.filter((r) => r.externalIds?.some((id) => killedBatch.includes(id)))
      assert.isAtLeast(resent.length, 2)

      const counts = new Map<number, number>()
      for (const e of server.stored.values()) {
        const seq = (e.wire.metadata as { seq: number }).seq
        counts.set(seq, (counts.get(seq) ?? 0) + 1)
      }
      assert.isTrue([...counts.values()].every((c) => c === 1), "no event is held twice")
      for (let i = 0; i <= lastAcked; i++) assert.strictEqual(counts.get(i), 1, `acknowledged event ${i} delivered`)
      assert.isTrue([...counts.keys()].every((s) => s >= 0 && s < N))
      assert.isAbove(server.stored.size, before, "the restart delivered events the first run had not")
      assert.isAtLeast(stats.delivered, server.stored.size - before)
    }), { timeout: 90_000 })
})
