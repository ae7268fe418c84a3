/**
 * The `Sync` service in-process: a real `polar-events` server
 * (`EventsServer.layerServe` on 127.0.0.1, port 0, over a memory store), a
 * local SQLite file pushed to it through the durable outbox, and another
 * pulled from it; both resume from their cursors. Live clock: the outbox
 * and the server run on real time.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EventCreate } from "@polar-events/core"
import { EventsServer } from "@polar-events/server"
import { EventStore, MemoryEventStore } from "@polar-events/store"
import { Context, Effect, Either, Layer, Option, Redacted, Stream } from "effect"
import * as path from "node:path"
import * as Sync from "../src/Sync.js"
import { cleanup, tempDir } from "./utils/cli.js"
import { ingestEvent } from "./utils/events.js"
import { captured, storage } from "./utils/services.js"

const LOCAL_ORG = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
const REMOTE_ORG = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
const TOKEN = "polar_oat_sync_test_0123456789"

let dir: string
beforeAll(() => {
  dir = tempDir("polar-events-sync-")
})
afterAll(() => cleanup(dir))

/** A polar-events server on a free port over a fresh memory store, for the test's scope. */
const startServer = Effect.gen(function*() {
  const context = yield* Layer.build(
    EventsServer.layerServe({
      tokens: [{ token: Redacted.make(TOKEN), organizationId: REMOTE_ORG }],
      host: "127.0.0.1",
      port: 0
    }).pipe(Layer.provide(MemoryEventStore.layerMemory))
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  assert.strictEqual(address._tag, "TcpAddress")
  return `http://127.0.0.1:${(address as HttpServer.TcpAddress).port}`
})

/** Runs `f` with the `Sync` service and the store of a local SQLite file. */
const withLocal = <A, E>(
  db: string,
  f: (sync: Sync.Sync, store: EventStore.EventStore.Service) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const sync = yield* Sync.Sync
    const store = yield* EventStore.EventStore
    return yield* f(sync, store)
  }).pipe(Effect.provide(Sync.Sync.Default), Effect.provide(storage(db, LOCAL_ORG)))

const count = (store: EventStore.EventStore.Service) => Stream.runCount(store.stream(LOCAL_ORG))

describe("Sync", () => {
  it.scopedLive("push delivers local events once, pull brings them back, and both resume from their cursors", () =>
    Effect.gen(function*() {
      const url = yield* startServer
      const remote = { token: Redacted.make(TOKEN), server: url }
      const pushOptions = { remote, full: false, batchSize: 100, timeout: 30, outbox: Option.none(), progress: false }
      const local = path.join(dir, "local.db")
      const N = 250
      const first = yield* withLocal(local, (sync, store) =>
        Effect.gen(function*() {
          const events = EventCreate.validate({ events: Array.from({ length: N }, (_, i) => ingestEvent(i)) })
          assert.isTrue(Either.isRight(events))
          yield* store.ingest(LOCAL_ORG, Either.getOrThrow(events))
          return yield* sync.push(pushOptions)
        }))
      assert.deepStrictEqual(
        [first.summary.server, first.summary.offered, first.summary.delivered, first.summary.pending],
        [url, N, N, 0]
      )
      const printed = yield* captured(Sync.renderPush(first, true))
      assert.strictEqual(JSON.parse(printed.out[0]!).delivered, N)
      assert.notInclude(printed.out.join("\n") + printed.err.join("\n"), TOKEN)

      const again = yield* withLocal(local, (sync) => sync.push(pushOptions))
      assert.deepStrictEqual([again.summary.offered, again.summary.delivered], [0, 0])
      const full = yield* withLocal(local, (sync) => sync.push({ ...pushOptions, full: true }))
      assert.deepStrictEqual([full.summary.offered, full.summary.delivered, full.summary.duplicates], [N, 0, N])

      const pulledDb = path.join(dir, "pulled.db")
      const pulled = yield* withLocal(pulledDb, (sync, store) =>
        Effect.gen(function*() {
          const report = yield* sync.pull({ remote, full: false, progress: false })
          return { report, stored: yield* count(store) }
        }))
      assert.deepStrictEqual([pulled.report.seen, pulled.report.inserted, pulled.report.duplicates], [N, N, 0])
      assert.strictEqual(pulled.stored, N)
      const resumed = yield* withLocal(pulledDb, (sync) => sync.pull({ remote, full: false, progress: false }))
      assert.strictEqual(resumed.inserted, 0)
      assert.isBelow(resumed.seen, 5)
      const line = yield* captured(Sync.renderPull(resumed, false))
      assert.match(line.out[0]!, /^pulled from http:\/\/127\.0\.0\.1:\d+: 0 new events, \d+ already stored in [\d.]+s$/)
    }))

  it.scopedLive("a refused token fails the pull without showing it", () =>
    Effect.gen(function*() {
      const url = yield* startServer
      const wrong = "polar_oat_wrong_sync_secret"
      const error = yield* Effect.flip(
        withLocal(path.join(dir, "refused.db"), (sync) =>
          sync.pull({ remote: { token: Redacted.make(wrong), server: url }, full: false, progress: false }))
      )
      assert.include(String((error as { message?: unknown }).message ?? error._tag), "401")
      assert.notInclude(JSON.stringify(error) + String(error), wrong)
    }))
})
