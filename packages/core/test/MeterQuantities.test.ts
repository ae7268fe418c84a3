import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Meter from "../src/Meter.js"

// Expected instants are worked out by hand from the zones' rules and were
// checked against PostgreSQL 15's date_trunc(field, timestamptz, zone):
// Europe/Berlin: CET (+01) until 2026-03-29 01:00Z, then CEST (+02).
// America/New_York: EST (-05) until 2026-03-08 07:00Z, EDT (-04) until 2026-11-01 06:00Z, then EST.

const iso = (d: Date) => d.toISOString().replace(".000Z", "Z")
const trunc = (t: string, interval: Meter.Interval, zone: string) => iso(Meter.truncate(new Date(t), interval, zone))

const BERLIN = "Europe/Berlin"
const NEW_YORK = "America/New_York"

describe("truncate", () => {
  it("hour keeps the instant's own offset (Berlin spring-forward)", () => {
    assert.strictEqual(trunc("2026-03-29T00:59:59Z", "hour", BERLIN), "2026-03-29T00:00:00Z", "01:59:59 CET -> 01:00 CET")
    assert.strictEqual(trunc("2026-03-29T01:30:00Z", "hour", BERLIN), "2026-03-29T01:00:00Z", "03:30 CEST -> 03:00 CEST")
  })

  it("hour in the repeated hour (New York fall-back)", () => {
    assert.strictEqual(trunc("2026-11-01T05:30:00Z", "hour", NEW_YORK), "2026-11-01T05:00:00Z", "01:30 EDT -> 01:00 EDT")
    assert.strictEqual(trunc("2026-11-01T06:30:00Z", "hour", NEW_YORK), "2026-11-01T06:00:00Z", "01:30 EST -> 01:00 EST")
  })

  it("hour in a half-hour zone", () => {
    assert.strictEqual(trunc("2026-03-29T10:15:00Z", "hour", "Asia/Kolkata"), "2026-03-29T09:30:00Z", "15:45 IST -> 15:00 IST")
  })

  it("day is local midnight, resolved again after the change", () => {
    assert.strictEqual(trunc("2026-03-29T12:00:00Z", "day", BERLIN), "2026-03-28T23:00:00Z", "29 Mar 00:00 CET")
    assert.strictEqual(trunc("2026-03-29T22:30:00Z", "day", BERLIN), "2026-03-29T22:00:00Z", "30 Mar 00:00 CEST")
    assert.strictEqual(trunc("2026-11-01T12:00:00Z", "day", NEW_YORK), "2026-11-01T04:00:00Z", "1 Nov 00:00 EDT")
    assert.strictEqual(trunc("2026-11-02T04:30:00Z", "day", NEW_YORK), "2026-11-01T04:00:00Z", "1 Nov 23:30 EST is still 1 Nov")
  })

  it("a midnight that does not exist takes the offset before the change; a repeated one the offset after", () => {
    assert.strictEqual(trunc("2018-11-04T12:00:00Z", "day", "America/Sao_Paulo"), "2018-11-04T03:00:00Z", "00:00 -03")
    assert.strictEqual(trunc("2026-11-01T12:00:00Z", "day", "America/Havana"), "2026-11-01T05:00:00Z", "00:00 CST, not CDT")
  })

  it("week starts on Monday, as in PostgreSQL", () => {
    assert.strictEqual(trunc("2026-03-29T12:00:00Z", "week", BERLIN), "2026-03-22T23:00:00Z", "Sunday 29 Mar -> Monday 23 Mar CET")
    assert.strictEqual(trunc("2026-03-30T10:00:00Z", "week", BERLIN), "2026-03-29T22:00:00Z", "Monday 30 Mar CEST")
    assert.strictEqual(trunc("2026-11-01T12:00:00Z", "week", NEW_YORK), "2026-10-26T04:00:00Z", "Sunday 1 Nov -> Monday 26 Oct EDT")
    assert.strictEqual(trunc("2026-11-02T12:00:00Z", "week", NEW_YORK), "2026-11-02T05:00:00Z", "Monday 2 Nov EST")
  })

  it("month and year", () => {
    assert.strictEqual(trunc("2026-03-31T21:59:00Z", "month", BERLIN), "2026-02-28T23:00:00Z", "31 Mar 23:59 CEST -> 1 Mar CET")
    assert.strictEqual(trunc("2026-03-31T22:30:00Z", "month", BERLIN), "2026-03-31T22:00:00Z", "1 Apr 00:30 CEST -> 1 Apr CEST")
    assert.strictEqual(trunc("2026-11-15T12:00:00Z", "month", NEW_YORK), "2026-11-01T04:00:00Z")
    assert.strictEqual(trunc("2026-06-01T00:00:00Z", "year", BERLIN), "2025-12-31T23:00:00Z")
    assert.strictEqual(trunc("2025-12-31T23:30:00Z", "year", BERLIN), "2025-12-31T23:00:00Z", "already 2026 in Berlin")
    assert.strictEqual(trunc("2026-07-04T12:00:00Z", "year", NEW_YORK), "2026-01-01T05:00:00Z")
  })

  it("UTC", () => {
    assert.strictEqual(trunc("2026-03-29T13:45:12.345Z", "hour", "UTC"), "2026-03-29T13:00:00Z")
    assert.strictEqual(trunc("2026-03-29T13:45:12.345Z", "week", "UTC"), "2026-03-23T00:00:00Z")
  })

  it("an unknown zone is a RangeError", () => {
    assert.throws(() => Meter.truncate(new Date(), "day", "Nowhere/Else"), RangeError)
  })

  it.prop("truncate is idempotent, not after the instant by more than a DST shift, and the next bucket is later", [
    fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2040-01-01T00:00:00Z"), noInvalidDate: true }),
    fc.constantFrom(...Meter.Interval.literals),
    fc.constantFrom(BERLIN, NEW_YORK, "UTC", "Asia/Kolkata", "Australia/Lord_Howe")
  ], ([date, interval, zone]) => {
    const b = Meter.truncate(date, interval, zone)
    assert.strictEqual(Meter.truncate(b, interval, zone).getTime(), b.getTime())
    assert.isAtMost(b.getTime(), date.getTime() + 3_600_000)
    const days = { year: 370, month: 32, week: 8, day: 2, hour: 1 }[interval]
    const [first, second] = Meter.buckets(b, new Date(b.getTime() + days * 86_400_000), interval, zone)
    assert.strictEqual(first!.getTime(), b.getTime())
    assert.isAbove(second!.getTime(), date.getTime())
  })
})

type Case = { readonly at: string; readonly tokens?: unknown; readonly user?: unknown; readonly name?: string }

const events = (cases: ReadonlyArray<Case>): Array<Meter.Filterable> =>
  cases.map((c) => ({
    name: c.name ?? "llm",
    source: "user",
    timestamp: new Date(c.at),
    metadata: { ...(c.tokens === undefined ? {} : { tokens: c.tokens }), ...(c.user === undefined ? {} : { user: c.user }) }
  }))

const run = (
  cases: ReadonlyArray<Case>,
  options: Omit<Meter.QuantitiesOptions, "start" | "end"> & { readonly start: string; readonly end: string }
) => {
  const q = Meter.quantities(events(cases), { ...options, start: new Date(options.start), end: new Date(options.end) })
  return { buckets: q.quantities.map((x) => [iso(x.timestamp), x.quantity] as const), total: q.total }
}

describe("quantities across DST", () => {
  it("hour, Berlin spring-forward: 02:00 local does not exist", () => {
    const r = run(
      [
        { at: "2026-03-28T23:59:00Z" },
        { at: "2026-03-29T00:15:00Z" },
        { at: "2026-03-29T00:45:00Z" },
        { at: "2026-03-29T01:10:00Z" },
        { at: "2026-03-29T02:59:00Z" },
        { at: "2026-03-29T03:00:00Z" }
      ],
      { aggregation: { func: "count" }, interval: "hour", timezone: BERLIN, start: "2026-03-29T00:00:00Z", end: "2026-03-29T02:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-03-29T00:00:00Z", 2],
      ["2026-03-29T01:00:00Z", 1],
      ["2026-03-29T02:00:00Z", 1]
    ])
    assert.strictEqual(r.total, 4)
  })

  it("hour, New York fall-back: 01:00 local happens twice", () => {
    const r = run(
      [{ at: "2026-11-01T05:30:00Z", tokens: 3 }, { at: "2026-11-01T06:30:00Z", tokens: 4 }, { at: "2026-11-01T06:45:00Z", tokens: 1 }],
      { aggregation: { func: "sum", property: "tokens" }, interval: "hour", timezone: NEW_YORK, start: "2026-11-01T04:00:00Z", end: "2026-11-01T07:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-11-01T04:00:00Z", 0],
      ["2026-11-01T05:00:00Z", 3],
      ["2026-11-01T06:00:00Z", 5],
      ["2026-11-01T07:00:00Z", 0]
    ])
    assert.strictEqual(r.total, 8)
  })

  it("day, Berlin: the 23-hour day, whole buckets at both ends", () => {
    const r = run(
      [
        { at: "2026-03-27T23:30:00Z", tokens: 1 },
        { at: "2026-03-29T21:30:00Z", tokens: 2 },
        { at: "2026-03-29T22:30:00Z", tokens: 4 },
        { at: "2026-03-30T21:59:00Z", tokens: 8 },
        { at: "2026-03-30T22:00:00Z", tokens: 16 }
      ],
      { aggregation: { func: "sum", property: "tokens" }, interval: "day", timezone: BERLIN, start: "2026-03-28T12:00:00Z", end: "2026-03-30T12:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-03-27T23:00:00Z", 1],
      ["2026-03-28T23:00:00Z", 2],
      ["2026-03-29T22:00:00Z", 12]
    ])
    assert.strictEqual(r.total, 15, "the 31 Mar event is outside every bucket")
  })

  it("day, New York: the 25-hour day", () => {
    const r = run(
      [{ at: "2026-11-01T04:00:00Z" }, { at: "2026-11-02T04:30:00Z" }, { at: "2026-11-02T05:00:00Z" }],
      { aggregation: { func: "count" }, interval: "day", timezone: NEW_YORK, start: "2026-10-31T12:00:00Z", end: "2026-11-02T12:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-10-31T04:00:00Z", 0],
      ["2026-11-01T04:00:00Z", 2],
      ["2026-11-02T05:00:00Z", 1]
    ])
  })

  it("day, New York spring-forward", () => {
    const r = run([{ at: "2026-03-09T03:59:00Z" }], {
      aggregation: { func: "count" },
      interval: "day",
      timezone: NEW_YORK,
      start: "2026-03-07T12:00:00Z",
      end: "2026-03-09T12:00:00Z"
    })
    assert.deepStrictEqual(r.buckets, [
      ["2026-03-07T05:00:00Z", 0],
      ["2026-03-08T05:00:00Z", 1],
      ["2026-03-09T04:00:00Z", 0]
    ])
  })

  it("week, Berlin: max of the non-empty buckets (an empty bucket is 0 but not a candidate)", () => {
    const r = run(
      [{ at: "2026-03-23T10:00:00Z", tokens: -5 }, { at: "2026-04-06T10:00:00Z", tokens: -2 }, { at: "2026-04-06T11:00:00Z", tokens: -7 }],
      { aggregation: { func: "max", property: "tokens" }, interval: "week", timezone: BERLIN, start: "2026-03-25T00:00:00Z", end: "2026-04-06T00:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-03-22T23:00:00Z", -5],
      ["2026-03-29T22:00:00Z", 0],
      ["2026-04-05T22:00:00Z", -2]
    ])
    assert.strictEqual(r.total, -2)
  })

  it("week, New York: min", () => {
    const r = run(
      [{ at: "2026-10-27T12:00:00Z", tokens: 5 }, { at: "2026-11-02T04:59:00Z", tokens: 3 }, { at: "2026-11-02T05:00:00Z", tokens: 9 }],
      { aggregation: { func: "min", property: "tokens" }, interval: "week", timezone: NEW_YORK, start: "2026-10-28T00:00:00Z", end: "2026-11-03T00:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-10-26T04:00:00Z", 3],
      ["2026-11-02T05:00:00Z", 9]
    ])
    assert.strictEqual(r.total, 3)
  })

  it("month, Berlin: avg total is recomputed over all events, not averaged over buckets", () => {
    const r = run(
      [
        { at: "2026-02-10T00:00:00Z", tokens: 10 },
        { at: "2026-03-31T21:59:00Z", tokens: 1 },
        { at: "2026-03-31T22:30:00Z", tokens: 2 },
        { at: "2026-04-10T00:00:00Z", tokens: 3 },
        { at: "2026-04-11T00:00:00Z", tokens: "100" }
      ],
      { aggregation: { func: "avg", property: "tokens" }, interval: "month", timezone: BERLIN, start: "2026-02-15T00:00:00Z", end: "2026-04-15T00:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-01-31T23:00:00Z", 10],
      ["2026-02-28T23:00:00Z", 1],
      ["2026-03-31T22:00:00Z", 2.5]
    ])
    assert.strictEqual(r.total, 4, "(10 + 1 + 2 + 3) / 4, not (10 + 1 + 2.5) / 3")
  })

  it("month, New York: unique total counts a value seen in two buckets once", () => {
    const r = run(
      [
        { at: "2026-10-31T12:00:00Z", user: "a" },
        { at: "2026-11-01T03:59:00Z", user: "b" },
        { at: "2026-11-01T04:00:00Z", user: "a" },
        { at: "2026-11-20T00:00:00Z", user: 1 },
        { at: "2026-11-21T00:00:00Z", user: "1" },
        { at: "2026-11-22T00:00:00Z" }
      ],
      { aggregation: { func: "unique", property: "user" }, interval: "month", timezone: NEW_YORK, start: "2026-10-01T12:00:00Z", end: "2026-11-30T00:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [
      ["2026-10-01T04:00:00Z", 2],
      ["2026-11-01T04:00:00Z", 3]
    ])
    assert.strictEqual(r.total, 4, "a, b, 1, \"1\"")
  })

  it("year, Berlin and New York, with a filter", () => {
    const cases: Array<Case> = [
      { at: "2025-12-31T22:59:00Z", name: "llm" },
      { at: "2025-12-31T23:00:00Z", name: "llm" },
      { at: "2026-01-01T04:59:00Z", name: "llm" },
      { at: "2026-06-01T00:00:00Z", name: "other" }
    ]
    const filter: Meter.Filter = { conjunction: "and", clauses: [{ property: "name", operator: "eq", value: "llm" }] }
    const berlin = run(cases, { filter, aggregation: { func: "count" }, interval: "year", timezone: BERLIN, start: "2025-06-01T00:00:00Z", end: "2026-06-01T00:00:00Z" })
    assert.deepStrictEqual(berlin.buckets, [["2024-12-31T23:00:00Z", 1], ["2025-12-31T23:00:00Z", 2]])
    const ny = run(cases, { filter, aggregation: { func: "count" }, interval: "year", timezone: NEW_YORK, start: "2025-06-01T00:00:00Z", end: "2026-06-01T00:00:00Z" })
    assert.deepStrictEqual(ny.buckets, [["2025-01-01T05:00:00Z", 3], ["2026-01-01T05:00:00Z", 0]])
    assert.strictEqual(ny.total, 3)
  })

  it("property aggregations skip events without a numeric value", () => {
    const r = run(
      [{ at: "2026-05-01T10:00:00Z", tokens: true }, { at: "2026-05-01T11:00:00Z", tokens: "5" }, { at: "2026-05-01T12:00:00Z" }],
      { aggregation: { func: "avg", property: "tokens" }, interval: "day", start: "2026-05-01T00:00:00Z", end: "2026-05-01T00:00:00Z" }
    )
    assert.deepStrictEqual(r.buckets, [["2026-05-01T00:00:00Z", 0]])
    assert.strictEqual(r.total, 0)
  })

  it("start after end gives no buckets and total 0; timezone defaults to UTC", () => {
    const r = run([{ at: "2026-05-01T10:00:00Z" }], {
      aggregation: { func: "count" },
      interval: "day",
      start: "2026-05-02T00:00:00Z",
      end: "2026-05-01T00:00:00Z"
    })
    assert.deepStrictEqual(r, { buckets: [], total: 0 })
  })

  it("an unknown zone is a RangeError", () => {
    assert.throws(
      () => Meter.quantities([], { aggregation: { func: "count" }, interval: "day", start: new Date(), end: new Date(), timezone: "X/Y" }),
      RangeError
    )
  })

  it.prop("count buckets add up to the events in range, and sum totals equal the sum of buckets", [
    fc.array(fc.record({
      at: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }),
      tokens: fc.integer({ min: -100, max: 100 })
    }), { maxLength: 60 }),
    fc.constantFrom(...Meter.Interval.literals),
    fc.constantFrom(BERLIN, NEW_YORK, "UTC")
  ], ([raw, interval, zone]) => {
    const es = raw.map((r) => ({ name: "n", source: "user", timestamp: new Date(r.at), metadata: { tokens: r.tokens } }))
    const start = new Date(Date.UTC(2026, 1, 1))
    const end = new Date(Date.UTC(2026, 10, 1))
    const count = Meter.quantities(es, { aggregation: { func: "count" }, interval, timezone: zone, start, end })
    const first = count.quantities[0]!.timestamp.getTime()
    const last = count.quantities[count.quantities.length - 1]!.timestamp.getTime()
    const inRange = es.filter((e) => {
      const b = Meter.truncate(e.timestamp, interval, zone).getTime()
      return b >= first && b <= last
    })
    assert.strictEqual(count.total, inRange.length)
    const sum = Meter.quantities(es, { aggregation: { func: "sum", property: "tokens" }, interval, timezone: zone, start, end })
    assert.strictEqual(sum.total, sum.quantities.reduce((a, q) => a + q.quantity, 0))
    assert.strictEqual(sum.total, Meter.aggregate({ func: "sum", property: "tokens" }, inRange))
  })
})
