/**
 * The property shared by every adapter: on random events and random filters,
 * `list` and `quantities` give exactly what core's pure evaluator gives.
 */
import { Meter, Timestamp } from "@polar-events/core"
import { Effect, FastCheck as fc } from "effect"
import { randomUUID } from "node:crypto"
import type { EventStore } from "../src/EventStore.js"
import type * as T from "../src/internal/types.js"
import { byPosition, us } from "./utils/events.js"

const CUSTOMER = "2b1f4a0e-9c3d-4e5f-8a6b-7c8d9e0f1a2b"
const T0 = us("2024-01-01T00:00:00Z")
const YEAR = 366 * 86_400_000_000

const scalar = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.integer({ min: -20, max: 20 }).map((k) => k / 4),
  fc.constantFrom("1", "a", "ab", "A", "b", "x.y", "", "abc", "True", "é", "2"),
  fc.boolean()
)

const userMetadata = fc.dictionary(fc.constantFrom("n", "s", "b", "f", "1", "a", "name"), scalar, { maxKeys: 5 }).chain((m) =>
  fc.option(fc.constantFrom("1.5", "2", "-0.25", "0.50", "+3", "12345.123456789012"), { nil: undefined }).map((amount) =>
    amount === undefined ? m : { ...m, _cost: { amount, currency: "usd" } }
  )
)

const systemMetadata = fc.dictionary(
  fc.constantFrom("n", "s", "a", "b", "_cost"),
  fc.oneof(
    scalar,
    fc.constant(null),
    fc.record({ b: scalar }),
    fc.array(scalar, { maxLength: 2 }),
    fc.record({ amount: fc.constantFrom("abc", "1.", ".5", "1.2.3", "-", "7", 7, true) })
  ),
  { maxKeys: 4 }
)

const timestamp = fc.oneof(
  fc.integer({ min: 0, max: YEAR }).map((d) => T0 + d),
  fc.constantFrom(T0 + 1_000_000, T0 + 1_500_000, us("2024-03-31T00:59:59.5Z"), us("2024-10-27T01:30:00Z"))
)

const eventOf = (org: string) =>
  fc.record({
    system: fc.boolean(),
    ts: timestamp,
    name: fc.constantFrom("a", "b", "api.call", "x.y"),
    customer: fc.constantFrom("c1", "c2", "id"),
    user: userMetadata,
    sys: systemMetadata
  }).map((r): T.Event => ({
    id: randomUUID(),
    timestamp: Timestamp.fromEpochMicros(r.ts),
    organizationId: org,
    customerId: r.customer === "id" ? CUSTOMER : null,
    customer: null,
    externalCustomerId: r.customer === "id" ? null : r.customer,
    label: r.name,
    name: r.system ? `sys.${r.name}` : r.name,
    source: r.system ? "system" : "user",
    metadata: r.system ? r.sys : r.user
  }) as unknown as T.Event)

const property = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("n", "s", "b", "f", "a", "1", "metadata.n", "name", "timestamp") },
  { weight: 2, arbitrary: fc.constantFrom("source", "a.b", "_cost.amount", "metadata.name") },
  { weight: 1, arbitrary: fc.constantFrom("a.0", "missing", "metadata.", "_cost.amount.x") }
)

const anyValue = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom("1", "a", "ab", "A", "b", "x.y", "", "abc", "sys", "user", "2", "0.5", "True", ".5", "1.5"),
  fc.boolean()
)

const valueFor = (p: string): fc.Arbitrary<string | number | boolean> => {
  switch (p) {
    case "name":
      return fc.oneof(fc.constantFrom("a", "b", "api.call", "x.y", "sys.a", "api", "sys"), anyValue)
    case "source":
      return fc.oneof(fc.constantFrom("user", "system", "sys", "er"), anyValue)
    case "timestamp":
      return fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: Math.floor(T0 / 1e6), max: Math.floor((T0 + YEAR) / 1e6) }) },
        { weight: 1, arbitrary: anyValue }
      )
    default:
      return fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: -5, max: 5 }) },
        { weight: 3, arbitrary: fc.constantFrom("1", "a", "ab", "A", "b", "x.y", "", "abc", "True", "é", "2", "1.5") },
        { weight: 2, arbitrary: fc.boolean() }
      )
  }
}

const clause = property.chain((p) =>
  fc.record({
    property: fc.constant(p),
    operator: fc.constantFrom("eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like") as fc.Arbitrary<any>,
    value: valueFor(p)
  })
)

const filter: fc.Arbitrary<T.Filter> = fc.letrec<{ filter: T.Filter }>((tie) => ({
  filter: fc.record({
    conjunction: fc.constantFrom("and", "or", "or") as fc.Arbitrary<"and" | "or">,
    clauses: fc.oneof(
      { weight: 1, arbitrary: fc.constant([]) },
      { weight: 6, arbitrary: fc.array(fc.oneof({ depthSize: "small", withCrossShrink: true }, clause, tie("filter")), { minLength: 1, maxLength: 3 }) }
    )
  })
})).filter

const aggregation: fc.Arbitrary<T.Aggregation> = fc.oneof(
  fc.constant({ func: "count" as const }),
  fc.record({ func: fc.constantFrom("sum", "max", "min", "avg") as fc.Arbitrary<"sum">, property }),
  fc.record({ func: fc.constant("unique" as const), property })
)

const close = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))

interface Input {
  readonly org: string
  readonly events: Array<T.Event>
  readonly filter: T.Filter
  readonly aggregation: T.Aggregation
  readonly interval: T.Interval
  readonly timezone: string
  readonly range: [number, number]
}

/** The agreement property for one store. */
export const agreement = (store: EventStore.Service): fc.IAsyncPropertyWithHooks<[Input]> =>
  fc.asyncProperty(
    fc.constant(null).chain((): fc.Arbitrary<Input> => {
      const org = randomUUID()
      return fc.record({
        org: fc.constant(org),
        events: fc.array(eventOf(org), { minLength: 1, maxLength: 40, size: "max" }),
        filter,
        aggregation,
        interval: fc.constantFrom("hour", "day", "week", "month", "year") as fc.Arbitrary<T.Interval>,
        timezone: fc.constantFrom("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"),
        range: fc.tuple(fc.integer({ min: 0, max: YEAR }), fc.integer({ min: 0, max: 40 * 86_400_000_000 }))
      })
    }),
    async ({ aggregation, events, filter, interval, org, range, timezone }: Input) => {
      const start = Timestamp.fromEpochMicros(T0 + range[0])
      // hourly buckets over a short period, longer intervals over up to 40 days
      const end = Timestamp.fromEpochMicros(T0 + range[0] + (interval === "hour" ? Math.floor(range[1] / 20) : range[1]))
      const [page, quantities] = await Effect.runPromise(Effect.gen(function*() {
        yield* store.insert(events)
        const page = yield* store.list(org, { filter, sorting: ["timestamp"], limit: 100 })
        const quantities = yield* store.quantities(org, { filter, aggregation, start, end, interval, timezone })
        return [page, quantities] as const
      }))
      const want = events.filter((e) => Meter.matches(filter, e)).sort(byPosition).map((e) => e.id)
      if (JSON.stringify(page.items.map((e) => e.id)) !== JSON.stringify(want)) {
        throw new Error(`list differs: got ${page.items.length} events, want ${want.length}`)
      }
      const q = Meter.quantities(events, { filter, aggregation, start, end, interval, timezone })
      if (q.quantities.length !== quantities.quantities.length) throw new Error("bucket count differs")
      q.quantities.forEach((b, i) => {
        const got = quantities.quantities[i]!
        if (b.timestamp.getTime() !== got.timestamp.getTime()) throw new Error(`bucket ${i} starts differ`)
        if (!close(b.quantity, got.quantity)) throw new Error(`bucket ${i}: got ${got.quantity}, want ${b.quantity}`)
      })
      if (!close(q.total, quantities.total)) throw new Error(`total: got ${quantities.total}, want ${q.total}`)
    }
  )
