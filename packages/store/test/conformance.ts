/**
 * The EventStore conformance suite: every adapter must pass it unchanged.
 * `conformance(name, layer)` registers it for one adapter. Each test works in
 * its own organization, so one store serves the whole suite.
 */
import { assert, layer as withLayer } from "@effect/vitest"
import { EventCreate, Meter, Timestamp } from "@polar-events/core"
import { Chunk, Effect, Either, FastCheck as fc, type Layer, Option, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { EventStore, validateAndIngest } from "../src/EventStore.js"
import type * as T from "../src/internal/types.js"
import { agreement } from "./properties.js"
import { ago, at, byPosition, newOrg, systemEvent, us, userEvent, wire } from "./utils/events.js"

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const CUSTOMER = "2b1f4a0e-9c3d-4e5f-8a6b-7c8d9e0f1a2b"
const CUSTOMER_2 = "3c2e5b1f-0d4e-4f60-9b7c-8d9e0f1a2b3c"
const MEMBER = "4d3f6c2a-1e5f-4071-8c8d-9e0f1a2b3c4d"

const ids = (events: ReadonlyArray<T.Event>) => events.map((e) => e.id)

/** Registers the conformance suite for one adapter. */
export const conformance = (name: string, layer: Layer.Layer<EventStore, unknown>) =>
  withLayer(layer, { excludeTestServices: true, timeout: "120 seconds" })(`EventStore conformance: ${name}`, (it) => {
    // -----------------------------------------------------------------------
    // ingest
    // -----------------------------------------------------------------------

    it.effect("ingest stores events the way Polar returns them", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const before = Date.now()
        const result = yield* validateAndIngest(store, org, [
          {
            name: "api.call",
            externalCustomerId: "customer-1",
            externalMemberId: "member-1",
            externalId: "e-1",
            timestamp: at("2024-05-01T10:00:00.123456Z"),
            metadata: { tokens: 5, model: "gpt-4o", ok: true, ratio: 0.5, _cost: { amount: 1.5, currency: "usd" } }
          },
          { name: "llm.tokens", customerId: CUSTOMER, memberId: MEMBER }
        ])
        const after = Date.now()
        assert.deepStrictEqual(result, { inserted: 2, duplicates: 0 })
        const page = yield* store.list(org, { sorting: ["timestamp"] })
        assert.strictEqual(page.items.length, 2)
        const [a, b] = page.items as [any, any]
        assert.match(a.id, UUID_V7)
        assert.match(b.id, UUID_V7)
        assert.strictEqual(a.source, "user")
        assert.strictEqual(a.organizationId, org)
        assert.strictEqual(a.name, "api.call")
        assert.strictEqual(a.label, "api.call")
        assert.strictEqual(a.customerId, null)
        assert.strictEqual(a.customer, null)
        assert.strictEqual(a.externalCustomerId, "customer-1")
        assert.strictEqual(a.externalMemberId, "member-1")
        assert.strictEqual(a.parentId, null)
        assert.strictEqual(Timestamp.format(a.timestamp), "2024-05-01T10:00:00.123456Z")
        assert.deepStrictEqual(a.metadata, {
          tokens: 5,
          model: "gpt-4o",
          ok: true,
          ratio: 0.5,
          _cost: { amount: "1.5", currency: "usd" }
        })
        assert.strictEqual(b.customerId, CUSTOMER)
        assert.strictEqual(b.memberId, MEMBER)
        assert.strictEqual(b.externalCustomerId, null)
        assert.ok(b.timestamp.getTime() >= before && b.timestamp.getTime() <= after, "timestamp defaults to now")
        const got = yield* store.get(org, a.id)
        assert.ok(Option.isSome(got))
        assert.deepStrictEqual(wire(got.value), wire(a))
        assert.ok(Option.isNone(yield* store.get(newOrg(), a.id)), "another organization does not see it")
        assert.ok(Option.isNone(yield* store.get(org, randomUUID())))
      }))

    it.effect("dedup by external_id: within a batch, across batches, forever, first write wins", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const e = (externalId: string | undefined, v: number) => ({
          name: "api.call",
          externalCustomerId: "customer-1",
          ...(externalId === undefined ? {} : { externalId }),
          metadata: { v }
        })
        assert.deepStrictEqual(
          yield* validateAndIngest(store, org, [e("a", 1), e("a", 2), e("b", 3), e(undefined, 4), e(undefined, 5)]),
          { inserted: 4, duplicates: 1 }
        )
        assert.deepStrictEqual(yield* validateAndIngest(store, org, [e("a", 6), e("b", 7), e("c", 8)]), { inserted: 1, duplicates: 2 })
        assert.deepStrictEqual(yield* validateAndIngest(store, org, [e(undefined, 9)]), { inserted: 1, duplicates: 0 })
        const all = (yield* store.list(org, { limit: 100 })).items
        assert.strictEqual(all.length, 6)
        assert.deepStrictEqual(all.map((x) => (x.metadata as any).v).sort((x: number, y: number) => x - y), [1, 3, 4, 5, 8, 9])
        // another organization has its own keys
        assert.deepStrictEqual(yield* validateAndIngest(store, newOrg(), [e("a", 1)]), { inserted: 1, duplicates: 0 })
        // many duplicates of one key in one batch
        const many = Array.from({ length: 50 }, (_, i) => e(`k${i % 5}`, i))
        assert.deepStrictEqual(yield* validateAndIngest(store, org, many), { inserted: 5, duplicates: 45 })
      }))

    it.effect("an invalid batch is rejected whole, with every error, and writes nothing", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const good = (i: number) => ({ name: "ok", externalCustomerId: "c", externalId: `g${i}`, metadata: { i } })
        const batch: Array<unknown> = Array.from({ length: 10 }, (_, i) => good(i))
        batch[2] = { name: "", externalCustomerId: "c" }
        batch[5] = { name: "x", customerId: "not-a-uuid" }
        batch[8] = { name: "x", externalCustomerId: "c", metadata: { nested: { no: 1 } } }
        const result = yield* Effect.either(validateAndIngest(store, org, batch))
        assert.ok(Either.isLeft(result))
        const error = result.left as any
        assert.strictEqual(error._tag, "RequestValidationError")
        assert.deepStrictEqual([...new Set(error.detail.map((d: any) => d.loc[2]))], [2, 5, 8])
        assert.strictEqual(error.detail.length, 3)
        assert.strictEqual((yield* store.list(org)).items.length, 0)
        assert.strictEqual((yield* store.names(org)).items.length, 0)
        // the good events were not consumed as dedup keys either
        assert.deepStrictEqual(yield* validateAndIngest(store, org, batch.filter((_, i) => ![2, 5, 8].includes(i))), {
          inserted: 7,
          duplicates: 0
        })
        // a timestamp in the future is invalid input too
        const future = yield* Effect.either(validateAndIngest(store, org, [{ name: "x", externalCustomerId: "c", timestamp: new Date(Date.now() + 3_600_000) }]))
        assert.ok(Either.isLeft(future))
        assert.strictEqual((yield* store.list(org)).pagination.hasOwnProperty("totalCount"), true)
        assert.strictEqual(((yield* store.list(org)).pagination as any).totalCount, 7)
      }))

    it.effect("insert keeps events as they are, is idempotent by id, and rejects invalid events whole", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const parent = userEvent(org, { timestamp: at("2024-01-01T00:00:00Z") })
        const events: Array<T.Event> = [
          parent,
          userEvent(org, {
            timestamp: at("2024-01-01T00:00:01.000001Z"),
            customerId: CUSTOMER,
            externalCustomerId: null,
            parentId: parent.id,
            label: "A custom label",
            metadata: { _llm: { vendor: "openai", model: "gpt", input_tokens: 1, output_tokens: 2, total_tokens: 3 } }
          }),
          { ...userEvent(org), memberId: null, externalMemberId: "m-1", childCount: 3 } as T.Event,
          systemEvent(org, { name: "meter.reset", metadata: { meter_id: "m-9" } }),
          systemEvent(org, { name: "brand.new_system_event", metadata: { anything: [1, { deep: true }] } })
        ]
        assert.deepStrictEqual(yield* store.insert(events), { inserted: 5, duplicates: 0 })
        assert.deepStrictEqual(yield* store.insert(events.slice(0, 2)), { inserted: 0, duplicates: 2 })
        for (const e of events) {
          const got = yield* store.get(org, e.id)
          assert.ok(Option.isSome(got), `stored ${e.id}`)
          assert.deepStrictEqual(wire(got.value), wire(e))
        }
        const bad = [userEvent(org), { ...userEvent(org), id: "not-an-id" } as T.Event, userEvent(org)]
        const result = yield* Effect.either(store.insert(bad))
        assert.ok(Either.isLeft(result))
        assert.deepStrictEqual((result.left as any).detail[0].loc.slice(0, 2), ["events", 1])
        assert.ok(Option.isNone(yield* store.get(org, bad[0]!.id)), "nothing of the rejected call was written")
        assert.ok(Option.isNone(yield* store.get(org, bad[2]!.id)))
        const nul = yield* Effect.either(store.insert([userEvent(org, { name: "a\u0000b" })]))
        assert.ok(Either.isLeft(nul))
      }))

    // -----------------------------------------------------------------------
    // list
    // -----------------------------------------------------------------------

    it.effect("list: every filter", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const t = (s: number) => at(`2024-03-01T00:00:${String(s).padStart(2, "0")}Z`)
        const e1 = userEvent(org, { timestamp: t(1), name: "api.call", customerId: CUSTOMER, externalCustomerId: null, metadata: { plan: "pro", n: 5 } })
        const e2 = userEvent(org, { timestamp: t(2), name: "api.call", externalCustomerId: "x-1", metadata: { plan: "free", n: 10 } })
        const e3 = userEvent(org, { timestamp: t(3), name: "llm.tokens", externalCustomerId: "x-2", metadata: { plan: "pro", n: 1, model: "GPT-4o mini" } })
        const e4 = systemEvent(org, { timestamp: t(4), name: "meter.reset", metadata: { meter_id: "m-1" } })
        const e5 = userEvent(org, { timestamp: t(5), name: "llm.tokens", customerId: CUSTOMER_2, externalCustomerId: "x-1", metadata: { plan: 1 } })
        yield* store.insert([e1, e2, e3, e4, e5])
        const q = (query: Parameters<typeof store.list>[1]) =>
          store.list(org, { sorting: ["timestamp"], limit: 100, ...query }).pipe(Effect.map((p) => ids(p.items)))
        assert.deepStrictEqual(yield* q({}), ids([e1, e2, e3, e4, e5]))
        assert.deepStrictEqual(yield* q({ customerId: [CUSTOMER as any] }), ids([e1]))
        assert.deepStrictEqual(yield* q({ externalCustomerId: ["x-1"] }), ids([e2, e5]))
        assert.deepStrictEqual(yield* q({ customerId: [CUSTOMER as any], externalCustomerId: ["x-2"] }), ids([e1, e3]), "either id matches")
        assert.deepStrictEqual(yield* q({ customerId: [CUSTOMER_2 as any] }), ids([e5]))
        assert.deepStrictEqual(yield* q({ externalCustomerId: ["nobody"] }), [])
        assert.deepStrictEqual(yield* q({ name: ["llm.tokens"] }), ids([e3, e5]))
        assert.deepStrictEqual(yield* q({ name: ["llm.tokens", "meter.reset"] }), ids([e3, e4, e5]))
        assert.deepStrictEqual(yield* q({ source: ["system"] }), ids([e4]))
        assert.deepStrictEqual(yield* q({ source: ["user"] }), ids([e1, e2, e3, e5]))
        assert.deepStrictEqual(yield* q({ startTimestamp: t(2) }), ids([e3, e4, e5]), "start is exclusive")
        assert.deepStrictEqual(yield* q({ endTimestamp: t(4) }), ids([e1, e2, e3]), "end is exclusive")
        assert.deepStrictEqual(yield* q({ startTimestamp: t(1), endTimestamp: t(3) }), ids([e2]))
        assert.deepStrictEqual(yield* q({ metadata: { plan: ["pro"] } }), ids([e1, e3]))
        assert.deepStrictEqual(yield* q({ metadata: { plan: ["pro", "free"] } }), ids([e1, e2, e3]), "values of a key are OR-ed")
        assert.deepStrictEqual(yield* q({ metadata: { plan: ["pro"], model: ["GPT-4o mini"] } }), ids([e3]), "keys are AND-ed")
        assert.deepStrictEqual(yield* q({ metadata: { plan: ["1"] } }), [], "only string values match")
        assert.deepStrictEqual(
          yield* q({ filter: { conjunction: "and", clauses: [{ property: "n", operator: "gte", value: 5 }] } }),
          ids([e1, e2])
        )
        assert.deepStrictEqual(
          yield* q({
            filter: {
              conjunction: "or",
              clauses: [
                { property: "name", operator: "eq", value: "meter.reset" },
                { conjunction: "and", clauses: [{ property: "metadata.plan", operator: "eq", value: "pro" }, { property: "n", operator: "lt", value: 5 }] }
              ]
            }
          }),
          ids([e3, e4])
        )
        assert.deepStrictEqual(yield* q({ query: "gpt" }), ids([e3]), "free text, case-insensitive, metadata values")
        assert.deepStrictEqual(yield* q({ query: "METER" }), ids([e4]), "free text matches names")
        assert.deepStrictEqual(yield* q({ query: "meter_id" }), ids([e4]), "free text matches metadata keys")
        assert.deepStrictEqual(yield* q({ organizationId: [newOrg() as any] }), [], "another organization asked for")
        assert.deepStrictEqual(yield* q({ organizationId: [org as any] }), ids([e1, e2, e3, e4, e5]))
        assert.deepStrictEqual(
          yield* q({ name: ["api.call", "llm.tokens"], externalCustomerId: ["x-1"], startTimestamp: t(1), metadata: { plan: ["free"] } }),
          ids([e2]),
          "filters combine with AND"
        )
        const meter = yield* Effect.either(store.list(org, { meterId: randomUUID() as any }))
        assert.ok(Either.isLeft(meter))
        assert.deepStrictEqual((meter.left as any).detail[0].loc, ["query", "meter_id"])
      }))

    it.effect("list: parent_id and depth", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const c = { externalCustomerId: "c" }
        // a child that arrives before its parent, by external id
        yield* validateAndIngest(store, org, [{ name: "early-child", ...c, externalId: "ec", parentId: "late-parent", timestamp: ago(9000) }])
        yield* validateAndIngest(store, org, [
          { name: "root", ...c, externalId: "p", timestamp: ago(8000) },
          { name: "child", ...c, externalId: "c1", parentId: "p", timestamp: ago(7000) },
          { name: "grandchild", ...c, externalId: "g1", parentId: "c1", timestamp: ago(6000) },
          { name: "orphan", ...c, externalId: "o", parentId: "nobody", timestamp: ago(5000) },
          { name: "late-parent", ...c, externalId: "late-parent", timestamp: ago(4000) }
        ])
        const first = (yield* store.list(org, { name: ["grandchild"] })).items[0]!
        // by event id as well
        yield* validateAndIngest(store, org, [{ name: "child-by-id", ...c, parentId: first.id, timestamp: ago(3000) }])
        const all = (yield* store.list(org, { sorting: ["timestamp"], limit: 100 })).items
        const byName = new Map(all.map((e) => [e.name, e]))
        const id = (n: string) => byName.get(n)!.id
        const q = (query: Parameters<typeof store.list>[1]) =>
          store.list(org, { sorting: ["timestamp"], limit: 100, ...query }).pipe(Effect.map((p) => p.items.map((e) => e.name)))
        assert.strictEqual(byName.get("child")!.parentId, id("root"))
        assert.strictEqual(byName.get("grandchild")!.parentId, id("child"))
        assert.strictEqual(byName.get("early-child")!.parentId, id("late-parent"), "resolved when the parent arrived")
        assert.strictEqual(byName.get("orphan")!.parentId, null)
        assert.strictEqual(byName.get("root")!.parentId, null)
        assert.deepStrictEqual(yield* q({ parentId: id("root") as any }), ["child"], "parent_id alone: direct children")
        assert.deepStrictEqual(yield* q({ parentId: id("root") as any, depth: 2 }), ["child", "grandchild"])
        assert.deepStrictEqual(yield* q({ parentId: id("root") as any, depth: 3 }), ["child", "grandchild", "child-by-id"])
        assert.deepStrictEqual(yield* q({ parentId: id("child") as any, depth: 5 }), ["grandchild", "child-by-id"])
        assert.deepStrictEqual(yield* q({ parentId: id("root") as any, depth: 0 }), [])
        assert.deepStrictEqual(yield* q({ parentId: id("late-parent") as any }), ["early-child"])
        assert.deepStrictEqual(yield* q({ depth: 0 }), ["root", "orphan", "late-parent"], "depth alone: roots")
        assert.deepStrictEqual(yield* q({ depth: 1 }), ["early-child", "root", "child", "orphan", "late-parent"])
        assert.deepStrictEqual(yield* q({ depth: 2 }).pipe(Effect.map((x) => x.length)), 6)
        assert.deepStrictEqual(yield* q({ depth: 3 }).pipe(Effect.map((x) => x.length)), 7)
        // imported events keep the parent they were given
        const imported = userEvent(org, { parentId: id("child-by-id"), name: "imported", timestamp: ago(1000) })
        yield* store.insert([imported])
        assert.deepStrictEqual(yield* q({ parentId: id("child-by-id") as any }), ["imported"])
        assert.deepStrictEqual(yield* q({ parentId: id("grandchild") as any, depth: 2 }), ["child-by-id", "imported"])
        assert.deepStrictEqual(yield* q({ depth: 3 }).pipe(Effect.map((x) => x.includes("imported"))), false)
        assert.deepStrictEqual(yield* q({ depth: 4 }).pipe(Effect.map((x) => x.includes("imported"))), true)
        // an imported child whose parent comes later gets its depth when the parent arrives
        const laterParent = userEvent(org, { name: "later-parent", parentId: imported.id, timestamp: ago(900) })
        const laterChild = userEvent(org, { name: "later-child", parentId: laterParent.id, timestamp: ago(800) })
        yield* store.insert([laterChild])
        yield* store.insert([laterParent])
        assert.deepStrictEqual(yield* q({ depth: 5 }).pipe(Effect.map((x) => x.includes("later-child"))), false)
        assert.deepStrictEqual(yield* q({ parentId: imported.id as any, depth: 2 }), ["later-parent", "later-child"])
      }))

    it.effect("list: order by timestamp, id as tiebreak, both directions", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const same = at("2024-02-02T02:02:02.000002Z")
        const events = [
          ...Array.from({ length: 6 }, () => userEvent(org, { timestamp: same })),
          userEvent(org, { timestamp: at("2024-02-02T02:02:02.000001Z") }),
          userEvent(org, { timestamp: at("2024-02-02T02:02:02.000003Z") }),
          userEvent(org, { timestamp: at("2023-12-31T23:59:59Z") })
        ]
        yield* store.insert(events)
        const asc = [...events].sort(byPosition)
        assert.deepStrictEqual(ids((yield* store.list(org, { sorting: ["timestamp"], limit: 100 })).items), ids(asc))
        assert.deepStrictEqual(ids((yield* store.list(org, { limit: 100 })).items), ids([...asc].reverse()), "default is newest first")
        assert.deepStrictEqual(ids((yield* store.list(org, { sorting: ["-timestamp", "timestamp"], limit: 100 })).items), ids([...asc].reverse()))
        const streamed = yield* Stream.runCollect(store.stream(org, { sorting: ["timestamp"] }))
        assert.deepStrictEqual(ids(Chunk.toReadonlyArray(streamed)), ids(asc))
      }))

    it.effect("list: page numbers with Polar's pagination", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const events = Array.from({ length: 25 }, (_, i) => userEvent(org, { timestamp: Timestamp.fromEpochMicros(us("2024-01-01T00:00:00Z") + i * 1_000_000) }))
        yield* store.insert(events)
        const asc = [...events].sort(byPosition)
        const p1 = yield* store.list(org, { sorting: ["timestamp"], limit: 10 })
        const p3 = yield* store.list(org, { sorting: ["timestamp"], limit: 10, page: 3 })
        const p4 = yield* store.list(org, { sorting: ["timestamp"], limit: 10, page: 4 })
        assert.deepStrictEqual(p1.pagination, { totalCount: 25, maxPage: 3 })
        assert.deepStrictEqual(ids(p1.items), ids(asc.slice(0, 10)))
        assert.deepStrictEqual(ids(p3.items), ids(asc.slice(20)))
        assert.deepStrictEqual(p4.items, [])
        assert.strictEqual((yield* store.list(org)).items.length, 10, "default limit")
        assert.strictEqual((yield* store.list(org, { limit: 1000 })).items.length, 25)
        assert.deepStrictEqual((yield* store.list(org, { limit: 1000 })).pagination, { totalCount: 25, maxPage: 1 }, "limit above 100 is 100")
        const none = yield* store.list(newOrg())
        assert.deepStrictEqual(none, { items: [], pagination: { totalCount: 0, maxPage: 0 } })
        // Polar's cursor_pagination without a cursor: pages by number, tells whether more follows
        const c2 = yield* store.list(org, { sorting: ["timestamp"], limit: 10, page: 3, cursorPagination: true })
        assert.deepStrictEqual(c2.pagination, { hasNextPage: false })
        assert.deepStrictEqual(ids(c2.items), ids(asc.slice(20)))
        const bad = yield* Effect.either(store.list(org, { cursor: "not a cursor" }))
        assert.ok(Either.isLeft(bad))
        assert.deepStrictEqual((bad.left as any).detail[0].loc, ["query", "cursor"])
        const ascCursor = (yield* store.list(org, { sorting: ["timestamp"], limit: 5, cursorPagination: true })).nextCursor!
        assert.ok(Either.isLeft(yield* Effect.either(store.list(org, { cursor: ascCursor }))), "a cursor keeps its order")
      }))

    it.effect("list: cursor paging through 10,000 events while inserts happen skips and repeats nothing", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const base = Date.now() - 86_400_000
        for (let b = 0; b < 10_000; b += 1000) {
          yield* validateAndIngest(
            store,
            org,
            Array.from({ length: 1000 }, (_, i) => ({
              name: "api.call",
              externalCustomerId: `c-${(b + i) % 37}`,
              externalId: `orig-${b + i}`,
              // pairs of equal timestamps exercise the id tiebreak
              timestamp: Timestamp.fromEpochMicros((base + Math.floor((b + i) / 2)) * 1000),
              metadata: { i: b + i }
            }))
          )
        }
        const seen = new Map<string, number>()
        let cursor: string | undefined
        let pages = 0
        let olderInserted = 0
        let page
        do {
          page = yield* store.list(org, cursor === undefined ? { limit: 100, cursorPagination: true } : { limit: 100, cursor })
          for (const e of page.items) seen.set(e.id, (seen.get(e.id) ?? 0) + 1)
          cursor = page.nextCursor
          pages++
          if (pages % 5 === 0 && page.nextCursor !== undefined) {
            // newer than everything (before the cursor: not seen) and older than everything (ahead: seen once)
            yield* validateAndIngest(store, org, Array.from({ length: 20 }, (_, i) => ({
              name: "late",
              externalCustomerId: "c-late",
              timestamp: Timestamp.fromEpochMicros((Date.now() - 1000) * 1000 + i),
              metadata: { newer: true }
            })))
            yield* validateAndIngest(store, org, Array.from({ length: 20 }, (_, i) => ({
              name: "late",
              externalCustomerId: "c-late",
              timestamp: Timestamp.fromEpochMicros((base - 3_600_000) * 1000 - pages * 100 - i),
              metadata: { older: true }
            })))
            olderInserted += 20
          }
        } while ("hasNextPage" in page.pagination && page.pagination.hasNextPage)
        assert.ok([...seen.values()].every((n) => n === 1), "nothing repeated")
        const items = new Set(seen.keys())
        const originals = (yield* Stream.runCollect(store.stream(org, { name: ["api.call"] }))).pipe(Chunk.toReadonlyArray)
        assert.strictEqual(originals.length, 10_000)
        assert.ok(originals.every((e) => items.has(e.id)), "nothing skipped")
        assert.strictEqual(items.size, 10_000 + olderInserted, "inserts behind the cursor are not seen, those ahead are")
      }))

    it.effect("stream: every matching event in order, in pages", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const events = Array.from({ length: 2500 }, (_, i) =>
          userEvent(org, {
            timestamp: Timestamp.fromEpochMicros(us("2024-06-01T00:00:00Z") + i * 1000),
            name: i % 3 === 0 ? "a" : "b",
            metadata: { i }
          }))
        yield* store.insert(events)
        const all = Chunk.toReadonlyArray(yield* Stream.runCollect(store.stream(org)))
        assert.deepStrictEqual(ids(all), ids([...events].sort(byPosition).reverse()))
        const filtered = Chunk.toReadonlyArray(yield* Stream.runCollect(store.stream(org, { name: ["a"], sorting: ["timestamp"], limit: 3, page: 7 })))
        assert.deepStrictEqual(ids(filtered), ids(events.filter((_, i) => i % 3 === 0)), "page and limit are ignored")
      }))

    // -----------------------------------------------------------------------
    // names
    // -----------------------------------------------------------------------

    it.effect("names: occurrences, first and last seen, labels, filters, sorting, pages", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        yield* store.insert([
          userEvent(org, { name: "api.call", timestamp: at("2024-01-01T00:00:00Z"), externalCustomerId: "x" }),
          userEvent(org, { name: "api.call", timestamp: at("2024-01-03T00:00:00Z"), externalCustomerId: "y" }),
          userEvent(org, { name: "api.call", timestamp: at("2024-01-02T00:00:00.5Z"), externalCustomerId: "x" }),
          userEvent(org, { name: "llm.tokens", timestamp: at("2024-01-05T00:00:00Z"), externalCustomerId: "y" }),
          systemEvent(org, { name: "meter.reset", timestamp: at("2024-01-04T00:00:00Z") }),
          systemEvent(org, { name: "meter.reset", timestamp: at("2023-12-31T00:00:00Z") })
        ])
        yield* validateAndIngest(store, org, [{ name: "ingested", customerId: CUSTOMER }])
        const page = yield* store.names(org, { sorting: ["name"] })
        assert.deepStrictEqual(page.pagination, { totalCount: 4, maxPage: 1 })
        const rows = page.items.map((n) => ({ ...n, firstSeen: Timestamp.format(n.firstSeen), lastSeen: Timestamp.format(n.lastSeen) }))
        assert.deepStrictEqual(rows.filter((r) => r.name !== "ingested"), [
          { name: "api.call", label: "api.call", source: "user", occurrences: 3, firstSeen: "2024-01-01T00:00:00Z", lastSeen: "2024-01-03T00:00:00Z" },
          { name: "llm.tokens", label: "llm.tokens", source: "user", occurrences: 1, firstSeen: "2024-01-05T00:00:00Z", lastSeen: "2024-01-05T00:00:00Z" },
          { name: "meter.reset", label: "Meter Reset", source: "system", occurrences: 2, firstSeen: "2023-12-31T00:00:00Z", lastSeen: "2024-01-04T00:00:00Z" }
        ])
        const names = (query: Parameters<typeof store.names>[1]) => store.names(org, query).pipe(Effect.map((p) => p.items.map((n) => n.name)))
        assert.deepStrictEqual(yield* names({}), ["ingested", "llm.tokens", "meter.reset", "api.call"], "default: -last_seen")
        assert.deepStrictEqual(yield* names({ sorting: ["-occurrences", "name"] }), ["api.call", "meter.reset", "ingested", "llm.tokens"])
        assert.deepStrictEqual(yield* names({ sorting: ["first_seen"] }), ["meter.reset", "api.call", "llm.tokens", "ingested"])
        assert.deepStrictEqual(yield* names({ sorting: ["-name"] }), ["meter.reset", "llm.tokens", "ingested", "api.call"])
        assert.deepStrictEqual(yield* names({ source: ["system"] }), ["meter.reset"])
        assert.deepStrictEqual(yield* names({ query: "TOK" }), ["llm.tokens"])
        assert.deepStrictEqual(yield* names({ sorting: ["name"], limit: 2, page: 2 }), ["llm.tokens", "meter.reset"])
        const byCustomer = yield* store.names(org, { externalCustomerId: ["x"] })
        assert.deepStrictEqual(byCustomer.items.map((n) => [n.name, n.occurrences, Timestamp.format(n.lastSeen)]), [["api.call", 2, "2024-01-02T00:00:00.500000Z"]])
        assert.deepStrictEqual(yield* names({ customerId: [CUSTOMER as any] }), ["ingested"])
        assert.deepStrictEqual(yield* names({ organizationId: [newOrg() as any] }), [])
        assert.deepStrictEqual((yield* store.names(newOrg())).items, [])
      }))

    // -----------------------------------------------------------------------
    // quantities
    // -----------------------------------------------------------------------

    it.effect("quantities: every interval in a non-UTC zone across DST changes, as core computes them", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const zone = "America/New_York"
        // one event per hour around both 2024 DST changes in New York
        const events: Array<T.Event> = []
        for (const [from, hours] of [["2024-03-09T00:00:00Z", 72], ["2024-11-02T00:00:00Z", 72]] as const) {
          for (let h = 0; h < hours; h++) {
            events.push(userEvent(org, {
              timestamp: Timestamp.fromEpochMicros(us(from) + h * 3_600_000_000 + 1_800_000_000),
              externalCustomerId: h % 2 === 0 ? "even" : "odd",
              metadata: { units: h % 5, kind: h % 3 === 0 ? "a" : "b" }
            }))
          }
        }
        yield* store.insert(events)
        const start = at("2024-03-01T00:00:00Z")
        const end = at("2024-11-30T00:00:00Z")
        for (const interval of ["hour", "day", "week", "month", "year"] as const) {
          for (const aggregation of [{ func: "count" }, { func: "sum", property: "units" }] as const) {
            const got = yield* store.quantities(org, { aggregation, start, end, interval, timezone: zone })
            const want = Meter.quantities(events, { aggregation, start, end, interval, timezone: zone })
            assert.strictEqual(got.quantities.length, want.quantities.length, `${interval} buckets`)
            assert.deepStrictEqual(
              got.quantities.map((q) => [q.timestamp.getTime(), q.quantity]),
              want.quantities.map((q) => [q.timestamp.getTime(), q.quantity]),
              `${interval} ${aggregation.func}`
            )
            assert.strictEqual(got.total, want.total)
          }
        }
        const days = yield* store.quantities(org, {
          aggregation: { func: "count" },
          start: at("2024-11-02T12:00:00Z"),
          end: at("2024-11-04T12:00:00Z"),
          interval: "day",
          timezone: zone
        })
        // New York days: Nov 2 from 04:00Z, Nov 3 has 25 hours, Nov 4 from 05:00Z
        assert.deepStrictEqual(days.quantities.map((q) => [q.timestamp.toISOString(), q.quantity]), [
          ["2024-11-02T04:00:00.000Z", 24],
          ["2024-11-03T04:00:00.000Z", 25],
          ["2024-11-04T05:00:00.000Z", 19]
        ])
        assert.strictEqual(days.total, 68)
        const spring = yield* store.quantities(org, {
          aggregation: { func: "count" },
          start: at("2024-03-10T05:00:00Z"),
          end: at("2024-03-10T05:00:00Z"),
          interval: "day",
          timezone: zone
        })
        assert.deepStrictEqual(spring.quantities.map((q) => [q.timestamp.toISOString(), q.quantity]), [["2024-03-10T05:00:00.000Z", 23]])
        const hours = yield* store.quantities(org, {
          aggregation: { func: "count" },
          start: at("2024-11-03T04:00:00Z"),
          end: at("2024-11-03T07:59:59Z"),
          interval: "hour",
          timezone: zone
        })
        assert.deepStrictEqual(hours.quantities.map((q) => q.timestamp.toISOString()), [
          "2024-11-03T04:00:00.000Z",
          "2024-11-03T05:00:00.000Z",
          "2024-11-03T06:00:00.000Z",
          "2024-11-03T07:00:00.000Z"
        ], "the repeated 01:00 hour is two buckets")
        const byCustomer = yield* store.quantities(org, { aggregation: { func: "count" }, start, end, interval: "year", timezone: zone, externalCustomerId: ["odd"] })
        assert.strictEqual(byCustomer.total, 72)
        const bad = yield* Effect.either(store.quantities(org, { aggregation: { func: "count" }, start, end, interval: "day", timezone: "Mars/Olympus" }))
        assert.ok(Either.isLeft(bad))
        assert.deepStrictEqual((bad.left as any).detail[0].loc, ["query", "timezone"])
      }))

    it.effect("quantities: every aggregation, Polar's totals, filters and customers", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const day = (d: number, h = 12) => at(`2024-04-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:00:00Z`)
        const events = [
          userEvent(org, { timestamp: day(1), name: "llm", metadata: { tokens: 10, model: "a", v: 1 } }),
          userEvent(org, { timestamp: day(1, 13), name: "llm", metadata: { tokens: 30, model: "b", v: "1" } }),
          userEvent(org, { timestamp: day(2), name: "llm", metadata: { tokens: 5, model: "a", v: true } }),
          userEvent(org, { timestamp: day(2, 1), name: "llm", metadata: { tokens: "7", model: "a" } }),
          userEvent(org, { timestamp: day(3), name: "llm", metadata: { tokens: true, model: "c", v: 1.0 } }),
          userEvent(org, { timestamp: day(3, 2), name: "other", metadata: { tokens: 1000 }, externalCustomerId: "other" }),
          userEvent(org, { timestamp: day(4), name: "llm", metadata: { tokens: 2.5, _cost: { amount: "0.25", currency: "usd" } } })
        ]
        yield* store.insert(events)
        const q = (aggregation: any, filter?: any, extra: object = {}) =>
          store.quantities(org, { aggregation, filter, start: day(1, 0), end: day(4, 23), interval: "day", timezone: "UTC", ...extra }).pipe(
            Effect.map((r) => [r.quantities.map((x) => x.quantity), r.total])
          )
        const llm = { conjunction: "and", clauses: [{ property: "name", operator: "eq", value: "llm" }] }
        assert.deepStrictEqual(yield* q({ func: "count" }), [[2, 2, 2, 1], 7])
        assert.deepStrictEqual(yield* q({ func: "count" }, llm), [[2, 2, 1, 1], 6])
        assert.deepStrictEqual(yield* q({ func: "sum", property: "tokens" }, llm), [[40, 5, 0, 2.5], 47.5], "strings and booleans never count")
        assert.deepStrictEqual(yield* q({ func: "max", property: "tokens" }, llm), [[30, 5, 0, 2.5], 30])
        assert.deepStrictEqual(yield* q({ func: "min", property: "tokens" }, llm), [[10, 5, 0, 2.5], 2.5], "min of the non-empty buckets")
        assert.deepStrictEqual(yield* q({ func: "avg", property: "tokens" }, llm), [[20, 5, 0, 2.5], 47.5 / 4], "avg total recomputed")
        assert.deepStrictEqual(yield* q({ func: "unique", property: "model" }), [[2, 1, 1, 0], 3])
        assert.deepStrictEqual(yield* q({ func: "unique", property: "v" }), [[2, 1, 1, 0], 3], "1 and \"1\" differ, 1 and 1.0 do not")
        assert.deepStrictEqual(yield* q({ func: "sum", property: "_cost.amount" }), [[0, 0, 0, 0.25], 0.25], "a decimal cost amount is a number")
        assert.deepStrictEqual(yield* q({ func: "count" }, undefined, { externalCustomerId: ["other"] }), [[0, 0, 1, 0], 1])
        assert.deepStrictEqual(yield* q({ func: "count" }, undefined, { externalCustomerId: ["nobody"] }), [[0, 0, 0, 0], 0])
        assert.deepStrictEqual(yield* q({ func: "sum", property: "timestamp" }, { conjunction: "and", clauses: [{ property: "name", operator: "eq", value: "other" }] }), [[0, 0, us("2024-04-03T02:00:00Z") / 1e6, 0], us("2024-04-03T02:00:00Z") / 1e6])
        const empty = yield* store.quantities(newOrg(), { aggregation: { func: "avg", property: "x" }, start: day(1), end: day(2), interval: "day" })
        assert.deepStrictEqual(empty.quantities.map((x) => x.quantity), [0, 0])
        assert.strictEqual(empty.total, 0)
      }))

    // -----------------------------------------------------------------------
    // hostile input
    // -----------------------------------------------------------------------

    it.effect("SQL and JSON metacharacters in names, metadata keys, filter properties and values are data", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const org = newOrg()
        const nasty = ["'; DROP TABLE pe_events; --", "a\"b", "$.x", "x'y", "%_", "back\\slash", "a.b", "[0]", "${x}", "é✓😀", "?", "$1", ":name"]
        const metadata: Record<string, unknown> = {}
        nasty.forEach((k, i) => (metadata[k] = `${k}=${i}`))
        metadata.nested = "x"
        yield* validateAndIngest(store, org, nasty.map((n) => ({ name: n, externalCustomerId: n, externalId: n, metadata })))
        assert.deepStrictEqual(yield* validateAndIngest(store, org, nasty.map((n) => ({ name: n, externalCustomerId: n, externalId: n }))), {
          inserted: 0,
          duplicates: nasty.length
        })
        for (const k of nasty) {
          const byName = yield* store.list(org, { name: [k] })
          assert.strictEqual(byName.items.length, 1, `name ${k}`)
          const byCustomer = yield* store.list(org, { externalCustomerId: [k] })
          assert.strictEqual(byCustomer.items.length, 1, `customer ${k}`)
          const byMetadata = yield* store.list(org, { metadata: { [k]: [`${k}=${nasty.indexOf(k)}`] }, limit: 100 })
          assert.strictEqual(byMetadata.items.length, nasty.length, `metadata key ${k}`)
          if (!k.includes(".")) {
            const filter = { conjunction: "and" as const, clauses: [{ property: `metadata.${k}`, operator: "eq" as const, value: `${k}=${nasty.indexOf(k)}` }] }
            assert.strictEqual((yield* store.list(org, { filter, limit: 100 })).items.length, nasty.length, `filter property ${k}`)
            const like = { conjunction: "and" as const, clauses: [{ property: k, operator: "like" as const, value: k }] }
            assert.strictEqual((yield* store.list(org, { filter: like, limit: 100 })).items.length, nasty.length, `like ${k}`)
          }
          const unique = yield* store.quantities(org, { aggregation: { func: "unique", property: k.includes(".") ? "nested" : k }, start: ago(86_400_000), end: new Date(), interval: "day" })
          assert.strictEqual(unique.total, 1)
        }
        // a dot path reads nested metadata, so the literal key "a.b" is not reachable by a filter
        const dotted = { conjunction: "and" as const, clauses: [{ property: "a.b", operator: "eq" as const, value: "a.b=6" }] }
        assert.strictEqual((yield* store.list(org, { filter: dotted })).items.length, 0)
        assert.strictEqual((yield* store.names(org, { limit: 100 })).items.length, nasty.length)
        assert.strictEqual((yield* store.list(org, { query: "DROP TABLE", limit: 100 })).items.length, nasty.length)
      }))

    // -----------------------------------------------------------------------
    // stats
    // -----------------------------------------------------------------------

    it.effect("stats: events in all and per organization with events, ordered by id, checked events taken as they are", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const [a, b] = [newOrg(), newOrg()].sort()
        const checked = EventCreate.validateEvents([
          { name: "s", externalCustomerId: "c", externalId: "s-1" },
          { name: "s", externalCustomerId: "c", externalId: "s-2" },
          { name: "s", externalCustomerId: "c", externalId: "s-1" }
        ])
        assert.ok(Either.isRight(checked))
        assert.deepStrictEqual(yield* store.ingest(b!, checked.right), { inserted: 2, duplicates: 1 })
        yield* store.insert([userEvent(a!), userEvent(a!), systemEvent(a!)])
        const empty = newOrg()
        assert.deepStrictEqual(yield* store.ingest(empty, []), { inserted: 0, duplicates: 0 })
        const other = yield* Effect.either(store.ingest(empty, EventCreate.validateEvents([
          { name: "s", externalCustomerId: "c", organizationId: newOrg() }
        ], { organizationToken: false }).pipe(Either.getOrThrow)))
        assert.ok(Either.isLeft(other))
        assert.deepStrictEqual((other.left as any).detail.map((d: any) => [d.loc, d.type]), [
          [["body", "events", 0, "organization_id"], "organization_id"]
        ])
        const stats = yield* store.stats
        const of = (org: string) => stats.organizations.find((o) => o.organizationId === org)
        assert.deepStrictEqual(of(a!), { organizationId: a, events: 3 })
        assert.deepStrictEqual(of(b!), { organizationId: b, events: 2 })
        assert.isUndefined(of(empty), "an organization without events is not listed")
        const ids = stats.organizations.map((o) => o.organizationId)
        assert.deepStrictEqual(ids, [...ids].sort())
        assert.strictEqual(stats.events, stats.organizations.reduce((n, o) => n + o.events, 0))
        assert.isTrue(stats.organizations.every((o) => o.events > 0))
      }))

    // -----------------------------------------------------------------------
    // agreement with core's evaluator on random events and filters
    // -----------------------------------------------------------------------

    it.effect("property: list and quantities agree with core's evaluator on random events and filters", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        yield* Effect.promise(() =>
          fc.assert(agreement(store), { numRuns: Number(process.env.POLAR_EVENTS_PROPERTY_RUNS ?? 100), endOnFailure: true })
        )
      }))
  })
