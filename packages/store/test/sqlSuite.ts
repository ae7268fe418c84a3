/**
 * What only the SQL adapters have: migrations, the hash-collision path of
 * dedup, group commit, and atomicity when the database fails half-way
 * through a batch (a real trigger raising an error, not a mock).
 */
import { assert, it } from "@effect/vitest"
import { Effect, Either, type Layer, type Scope } from "effect"
import { EventStore, validateAndIngest } from "../src/EventStore.js"
import * as SqlEventStore from "../src/SqlEventStore.js"
import { Ids } from "@polar-events/core"
import { newOrg } from "./utils/events.js"

/** A fresh database: a store layer over it, and raw SQL on it. */
export interface Target {
  readonly layer: (options?: SqlEventStore.InternalOptions) => Layer.Layer<EventStore, unknown>
  readonly exec: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>
  readonly failingTrigger: string
  /** a trigger that fails the names summary upsert of an event named 'late-boom' (the last write of a batch) */
  readonly failingNamesTrigger: string
}

const withStore = <A, E>(
  layer: Layer.Layer<EventStore, unknown>,
  f: (store: EventStore.Service) => Effect.Effect<A, E>
) => Effect.provide(Effect.flatMap(EventStore, f), layer)

/** Registers the SQL-only tests for one dialect. */
export const sqlSuite = (name: string, target: Effect.Effect<Target, never, Scope.Scope>) => {
  it.live(`${name}: migrations are versioned and run once, however often the store opens`, () =>
    Effect.scoped(Effect.gen(function*() {
      const t = yield* target
      yield* withStore(t.layer(), () => Effect.void)
      yield* withStore(t.layer(), () => Effect.void)
      const rows = yield* Effect.promise(() => t.exec("SELECT version, name FROM pe_migrations ORDER BY version"))
      assert.deepStrictEqual(rows.map((r) => Number(r.version)), [SqlEventStore.latestSchemaVersion])
    })))

  it.live(`${name}: a store that has not seen a customer lists it with its total, on every page`, () =>
    Effect.scoped(Effect.gen(function*() {
      const t = yield* target
      const org = newOrg()
      const events = Array.from({ length: 25 }, (_, i) => ({
        name: "x",
        externalCustomerId: i % 5 === 0 ? "alice" : "bob",
        timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, i))
      }))
      yield* withStore(t.layer(), (store) => validateAndIngest(store, org, [...events, { name: "x", customerId: "0b9e5a0e-8d7f-4b5a-9c3e-1f2a3b4c5d6e" }]))
      // a second store: its key cache is cold, so the customer is resolved inside the list statement
      const pages = (query: Parameters<EventStore.Service["list"]>[1]) =>
        withStore(t.layer(), (store) => store.list(org, query))
      const bob = yield* pages({ externalCustomerId: ["bob"], limit: 10 })
      assert.deepStrictEqual(bob.pagination, { totalCount: 20, maxPage: 2 })
      assert.deepStrictEqual(bob.items.map((e) => e.timestamp.getTime()), events.filter((e) => e.externalCustomerId === "bob").map((e) => e.timestamp.getTime()).reverse().slice(0, 10))
      assert.deepStrictEqual((yield* pages({ externalCustomerId: ["bob"], limit: 10, page: 2 })).items.length, 10)
      const past = yield* pages({ externalCustomerId: ["bob"], limit: 10, page: 3 })
      assert.deepStrictEqual(past, { items: [], pagination: { totalCount: 20, maxPage: 2 } }, "a page past the end still counts")
      assert.deepStrictEqual((yield* pages({ externalCustomerId: ["alice"], limit: 2 })).pagination, { totalCount: 5, maxPage: 3 })
      assert.deepStrictEqual((yield* pages({ customerId: [Ids.CustomerId.make("0b9e5a0e-8d7f-4b5a-9c3e-1f2a3b4c5d6e")] })).pagination, { totalCount: 1, maxPage: 1 })
      assert.deepStrictEqual(yield* pages({ externalCustomerId: ["nobody"] }), { items: [], pagination: { totalCount: 0, maxPage: 0 } })
      assert.deepStrictEqual(yield* pages({ externalCustomerId: ["nobody"], page: 2 }), { items: [], pagination: { totalCount: 0, maxPage: 0 } })
      const cursor = yield* pages({ externalCustomerId: ["bob"], limit: 15, cursorPagination: true })
      assert.deepStrictEqual([cursor.items.length, cursor.pagination], [15, { hasNextPage: true }])
      assert.strictEqual((yield* pages({ externalCustomerId: ["alice", "bob"], limit: 1 })).pagination.hasOwnProperty("totalCount"), true)
      assert.deepStrictEqual((yield* pages({ externalCustomerId: ["alice", "bob"], limit: 1 })).pagination, { totalCount: 25, maxPage: 25 })
    })))

  it.live(`${name}: dedup stays exact when external id hashes collide`, () =>
    Effect.scoped(Effect.gen(function*() {
      const t = yield* target
      yield* withStore(t.layer({ writer: { hash: () => 42 } }), (store) =>
        Effect.gen(function*() {
          const org = newOrg()
          const ids = Array.from({ length: 30 }, (_, i) => `id-${i}`)
          const batch = [...ids, ...ids.slice(0, 10)].map((externalId) => ({ name: "x", externalCustomerId: "c", externalId }))
          assert.deepStrictEqual(yield* validateAndIngest(store, org, batch), { inserted: 30, duplicates: 10 })
          assert.deepStrictEqual(yield* validateAndIngest(store, org, batch.slice(5, 35)), { inserted: 0, duplicates: 30 })
          assert.deepStrictEqual(yield* validateAndIngest(store, org, [{ name: "x", externalCustomerId: "c", externalId: "id-new" }]), {
            inserted: 1,
            duplicates: 0
          })
          // another organization has its own probe chain
          assert.deepStrictEqual(yield* validateAndIngest(store, newOrg(), batch.slice(0, 3)), { inserted: 3, duplicates: 0 })
          // a parent named by external id is found along the probe chain
          yield* validateAndIngest(store, org, [{ name: "child", externalCustomerId: "c", parentId: "id-17" }])
          const child = (yield* store.list(org, { name: ["child"] })).items[0]!
          const parent = (yield* store.list(org, { filter: { conjunction: "and", clauses: [] }, limit: 100 })).items
            .find((e) => e.id === child.parentId)
          assert.ok(parent !== undefined, "the parent was resolved")
          assert.strictEqual((yield* store.list(org, { limit: 1 })).pagination.hasOwnProperty("totalCount"), true)
          assert.strictEqual(((yield* store.list(org, { limit: 1 })).pagination as any).totalCount, 32)
        }))
      yield* withStore(t.layer({ writer: { hash: (s) => s.length } }), (store) =>
        Effect.gen(function*() {
          const org = newOrg()
          const batch = ["a", "b", "ab", "cd", "abc", "a", "cd"].map((externalId) => ({ name: "x", externalCustomerId: "c", externalId }))
          assert.deepStrictEqual(yield* validateAndIngest(store, org, batch), { inserted: 5, duplicates: 2 })
        }))
    })))

  it.live(`${name}: group commit answers each concurrent caller with its own result`, () =>
    Effect.scoped(Effect.gen(function*() {
      const t = yield* target
      yield* withStore(t.layer(), (store) =>
        Effect.gen(function*() {
          const org = newOrg()
          // caller i offers ids i..i+9: each id is offered by up to 10 callers
          const results = yield* Effect.forEach(
            Array.from({ length: 60 }, (_, i) => i),
            (i) => validateAndIngest(store, org, Array.from({ length: 10 }, (_, j) => ({ name: "g", externalCustomerId: "c", externalId: `k${i + j}` }))),
            { concurrency: "unbounded" }
          )
          assert.ok(results.every((r) => r.inserted + r.duplicates === 10))
          assert.strictEqual(results.reduce((n, r) => n + r.inserted, 0), 69)
          assert.strictEqual(results[0]!.inserted, 10, "the first caller wins every id it offered")
          assert.strictEqual(((yield* store.list(org, { limit: 1 })).pagination as any).totalCount, 69)
        }))
    })))

  it.live(`${name}: a database failure half-way through a batch writes nothing and spares the other callers`, () =>
    Effect.scoped(Effect.gen(function*() {
      const t = yield* target
      yield* withStore(t.layer(), (store) =>
        Effect.gen(function*() {
          yield* Effect.promise(() => t.exec(t.failingTrigger))
          const org = newOrg()
          const a = ["a1", "a2", "boom", "a3"].map((n) => ({ name: n, externalCustomerId: "c", externalId: n }))
          const b = ["b1", "b2"].map((n) => ({ name: n, externalCustomerId: "c", externalId: n }))
          const [ra, rb] = yield* Effect.all([Effect.either(validateAndIngest(store, org, a)), Effect.either(validateAndIngest(store, org, b))], {
            concurrency: 2
          })
          assert.ok(Either.isLeft(ra))
          assert.strictEqual((ra.left as any)._tag, "EventStoreError")
          assert.deepStrictEqual(rb, Either.right({ inserted: 2, duplicates: 0 }))
          const names = (yield* store.names(org, { sorting: ["name"] })).items.map((n) => n.name)
          assert.deepStrictEqual(names, ["b1", "b2"], "nothing of the failed batch, not even its names")
          assert.deepStrictEqual(
            (yield* store.list(org, { sorting: ["timestamp"], limit: 100 })).items.map((e) => e.name).sort(),
            ["b1", "b2"]
          )
          // its external ids were not consumed
          assert.deepStrictEqual(yield* validateAndIngest(store, org, a.filter((e) => e.name !== "boom")), { inserted: 3, duplicates: 0 })
          const bulk = yield* Effect.either(store.insert([
            { id: crypto.randomUUID(), timestamp: new Date(), organizationId: org, customerId: null, customer: null, externalCustomerId: "c", label: "x", name: "ok", source: "user", metadata: {} } as any,
            { id: crypto.randomUUID(), timestamp: new Date(), organizationId: org, customerId: null, customer: null, externalCustomerId: "c", label: "x", name: "boom", source: "user", metadata: {} } as any
          ]))
          assert.ok(Either.isLeft(bulk))
          assert.strictEqual(((yield* store.list(org, { name: ["ok"] })).pagination as any).totalCount, 0)
        }))
    })))

  it.live(`${name}: a failure in the last statement of a batch writes nothing of it, whatever path it took`, () =>
    Effect.scoped(Effect.gen(function*() {
      const t = yield* target
      yield* withStore(t.layer(), (store) =>
        Effect.gen(function*() {
          yield* Effect.promise(() => t.exec(t.failingNamesTrigger))
          const org = newOrg()
          const event = (n: string, externalId = `${n}-id`) => ({ name: n, externalCustomerId: "c", externalId })
          assert.deepStrictEqual(yield* validateAndIngest(store, org, [event("kept")]), { inserted: 1, duplicates: 0 })
          // all new (one round trip on a write thread), then with a duplicate (statement by statement)
          for (const batch of [[event("n1"), event("late-boom")], [event("kept"), event("n2"), event("late-boom")]]) {
            const [failed, spared] = yield* Effect.all(
              [Effect.either(validateAndIngest(store, org, batch)), Effect.either(validateAndIngest(store, org, [event(`other-${batch.length}`)]))],
              { concurrency: 2 }
            )
            assert.ok(Either.isLeft(failed))
            assert.strictEqual((failed.left as any)._tag, "EventStoreError")
            assert.deepStrictEqual(spared, Either.right({ inserted: 1, duplicates: 0 }))
          }
          const names = (yield* store.names(org, { sorting: ["name"] })).items.map((n) => `${n.name}:${n.occurrences}`)
          assert.deepStrictEqual(names, ["kept:1", "other-2:1", "other-3:1"])
          assert.strictEqual(((yield* store.list(org, { limit: 1 })).pagination as any).totalCount, 3)
          // the failed batches' external ids were not consumed
          assert.deepStrictEqual(yield* validateAndIngest(store, org, [event("n1"), event("n2")]), { inserted: 2, duplicates: 0 })
        }))
    })))
}
