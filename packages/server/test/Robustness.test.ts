/**
 * What happens when things go wrong: a store failure is a bare 500 (and a
 * 503 health check) with the cause in the log and never in the response; a
 * body longer than declared stops being read at the limit.
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { SqlEventStore } from "@polar-events/store/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger } from "effect"
import * as EventsServer from "../src/EventsServer.js"
import { ingest, memoryStore, raw, serve, tempDatabase, TOKEN, tokens, wireEvent } from "./utils/harness.js"

describe("robustness", () => {
  it.scopedLive("a failing store: 500 plain text, 503 health, the cause logged without the token; recovery", () =>
    Effect.gen(function*() {
      const filename = yield* tempDatabase
      const lines: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.map(Logger.logfmtLogger, (line) => void lines.push(line)))
      const { url } = yield* serve({}, SqlEventStore.layerSqlite({ filename })).pipe(Effect.provide(capture))
      assert.strictEqual((yield* ingest(url, TOKEN.a, { events: [wireEvent(1)] })).status, 200)
      // a health check polled before the outage (@effect/sql-sqlite-node caches a statement that failed to
      // prepare for its cache TTL, so a lookup first prepared during the outage would keep failing after it)
      assert.strictEqual((yield* raw(url, { path: "/healthz" })).status, 200)

      // take every table of the store away (and back): a database that fails every statement
      const moveTables = (from: string, to: string) =>
        Effect.gen(function*() {
          const sql = yield* SqliteClient.SqliteClient
          const tables = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ${from + "%"}`
          for (const { name } of tables) yield* sql.unsafe(`ALTER TABLE "${name}" RENAME TO "${to}${name.slice(from.length)}"`)
          return tables.length
        }).pipe(Effect.provide(SqliteClient.layer({ filename })), Effect.scoped)
      assert.isTrue((yield* moveTables("pe_", "gone_")) >= 3)

      for (const res of [
        yield* raw(url, { path: "/v1/events/", token: TOKEN.a }),
        yield* raw(url, { path: "/v1/events/7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d", token: TOKEN.a }),
        yield* ingest(url, TOKEN.a, { events: [wireEvent(2)] })
      ]) {
        assert.strictEqual(res.status, 500)
        assert.strictEqual(res.text, "Internal Server Error")
        assert.strictEqual(res.headers["cache-control"], "private, no-store")
      }
      const health = yield* raw(url, { path: "/healthz" })
      assert.strictEqual(health.status, 503)
      assert.deepStrictEqual(health.json(), { status: "unavailable" })
      const errors = lines.filter((l) => l.includes("level=ERROR"))
      assert.isTrue(errors.length >= 3, lines.join("\n"))
      assert.isTrue(errors.some((l) => l.includes("no such table")), errors.join("\n"))
      for (const l of lines) assert.notInclude(l, TOKEN.a)

      yield* moveTables("gone_", "pe_")
      const healthy = yield* raw(url, { path: "/healthz" })
      assert.strictEqual(healthy.status, 200, lines.slice(-3).join("\n"))
      const list = yield* raw(url, { path: "/v1/events/", token: TOKEN.a })
      assert.strictEqual(list.status, 200)
      assert.strictEqual(list.json().pagination.total_count, 1)
    }))

  it.scopedLive("a body longer than its Content-Length is read only up to the limit (web handler, 413)", () =>
    Effect.gen(function*() {
      const { dispose, handler } = HttpLayerRouter.toWebHandler(
        EventsServer.layer({ tokens, maxBodyBytes: 64 * 1024 }).pipe(Layer.provide(memoryStore)),
        { disableLogger: true }
      )
      yield* Effect.addFinalizer(() => Effect.promise(dispose))
      let pulled = 0
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 16 * 1024
          controller.enqueue(new Uint8Array(16 * 1024).fill(32))
        }
      })
      const response = yield* Effect.promise(() =>
        handler(
          new Request("http://local/v1/events/ingest", {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN.a}`, "content-type": "application/json", "content-length": "1000" },
            body: endless,
            duplex: "half"
          } as RequestInit)
        )
      )
      assert.strictEqual(response.status, 413)
      assert.strictEqual(((yield* Effect.promise(() => response.json())) as { error: string }).error, "RequestBodyTooLarge")
      assert.isTrue(pulled <= 64 * 1024 + 4 * 16 * 1024, `pulled ${pulled} bytes`)

      const ok = yield* Effect.promise(() =>
        handler(
          new Request("http://local/v1/events/ingest", {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN.a}`, "content-type": "application/json", "content-length": "10" },
            body: JSON.stringify({ events: [wireEvent(1)] })
          })
        )
      )
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(yield* Effect.promise(() => ok.json()), { inserted: 1, duplicates: 0 })
    }))
})
