import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, ParseResult, Schema } from "effect"
import { EventCreate, Timestamp } from "../src/index.js"

/** Timestamps from the arbitrary end in 2099; Schema has no clock, so the validator gets a late `now`. */
const AGREE: EventCreate.ValidateOptions = { now: new Date("2100-01-01T00:00:00Z"), organizationToken: false }

const ingest = Arbitrary.make(EventCreate.EventsIngest)
const encode = Schema.encodeSync(EventCreate.EventsIngest)
const decodeEither = Schema.decodeUnknownEither(EventCreate.EventsIngest)

const DELETE = Symbol("delete")
const UUID_V4 = "0f8d7e4a-3b2c-4d1e-9a8b-7c6d5e4f3a2b"
const UUID_V1 = "0f8d7e4a-3b2c-1d1e-9a8b-7c6d5e4f3a2b"

const PATHS: ReadonlyArray<ReadonlyArray<string>> = [
  ["name"],
  ["timestamp"],
  ["organization_id"],
  ["external_id"],
  ["parent_id"],
  ["metadata"],
  ["customer_id"],
  ["member_id"],
  ["external_customer_id"],
  ["external_member_id"],
  ["unknown_key"],
  ["metadata", "k"],
  ["metadata", "_cost"],
  ["metadata", "_cost", "amount"],
  ["metadata", "_cost", "currency"],
  ["metadata", "_llm"],
  ["metadata", "_llm", "input_tokens"],
  ["metadata", "_llm", "prompt"],
  ["metadata", "_llm", "vendor"]
]

const VALUES: ReadonlyArray<unknown> = [
  DELETE, null, "", 0, 42, 1.5, -0.25, true, {}, [], [1], "x".repeat(129), "y".repeat(501), "😀".repeat(129), "a\u0000b",
  "2026-01-01T00:00:00", "2026-01-01T00:00:00+01:00", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00.1234567Z",
  "not-a-uuid", UUID_V1, UUID_V4, UUID_V4.toUpperCase(), "usd", "eur", "123456.5", "0.0000000000001", "12.5", "1e3", 1e20,
  100000, 0.1 + 0.2, { amount: 1, currency: "usd" }, { vendor: "v", model: "m", input_tokens: 1, output_tokens: 1, total_tokens: 2 }
]

const value = fc.oneof(fc.constantFrom(...VALUES), fc.jsonValue({ maxDepth: 2 }))
const mutation = fc.record({ index: fc.nat(), path: fc.constantFrom(...PATHS), value })

const setPath = (target: Record<string, unknown>, path: ReadonlyArray<string>, v: unknown): void => {
  let o = target
  for (let i = 0; i < path.length - 1; i++) {
    const next = o[path[i]!]
    if (typeof next !== "object" || next === null || Array.isArray(next)) o[path[i]!] = {}
    o = o[path[i]!] as Record<string, unknown>
  }
  const last = path[path.length - 1]!
  if (v === DELETE) delete o[last]
  else o[last] = v
}

const pretty = (u: unknown) => JSON.stringify(u, (_, v) => (typeof v === "symbol" ? String(v) : v))

describe("EventCreate properties", () => {
  it.prop("random ingest payloads round-trip: encode, decode, encode gives the same wire JSON", [ingest], ([body]) => {
    const wire = encode(body)
    const again = encode(Schema.decodeUnknownSync(EventCreate.EventsIngest)(wire))
    assert.deepStrictEqual(again, wire)
    const json = JSON.parse(JSON.stringify(wire))
    assert.deepStrictEqual(encode(Schema.decodeUnknownSync(EventCreate.EventsIngest)(json)), json)
  })

  it.prop("on valid random payloads the validator returns what the schema decodes", [ingest], ([body]) => {
    const wire = encode(body)
    const fast = EventCreate.validate(wire, AGREE)
    if (Either.isLeft(fast)) assert.fail(`validator rejected ${pretty(wire)}: ${fast.left.message}`)
    const slow = decodeEither(wire)
    if (Either.isLeft(slow)) assert.fail(ParseResult.TreeFormatter.formatErrorSync(slow.left))
    assert.deepStrictEqual(fast.right, slow.right.events)
  })

  it.prop(
    "on mutated random payloads the validator accepts exactly what the schema accepts, and blames the mutated events",
    [ingest, fc.array(mutation, { minLength: 1, maxLength: 3 })],
    ([body, mutations]) => {
      const wire = JSON.parse(JSON.stringify(encode(body))) as { events: Array<Record<string, unknown>> }
      if (wire.events.length === 0) wire.events.push({ name: "x", external_customer_id: "u" })
      const touched = new Set<number>()
      for (const m of mutations) {
        const i = m.index % wire.events.length
        touched.add(i)
        setPath(wire.events[i]!, m.path, m.value)
      }
      const fast = EventCreate.validate(wire, AGREE)
      const slow = decodeEither(wire)
      assert.strictEqual(
        Either.isRight(fast),
        Either.isRight(slow),
        `disagree on ${pretty(wire)}: validator ${Either.isLeft(fast) ? fast.left.message : "accepts"}; schema ${
          Either.isLeft(slow) ? ParseResult.TreeFormatter.formatErrorSync(slow.left) : "accepts"
        }`
      )
      if (Either.isRight(fast) && Either.isRight(slow)) assert.deepStrictEqual(fast.right, slow.right.events)
      if (Either.isLeft(fast)) {
        assert.isAbove(fast.left.detail.length, 0)
        for (const d of fast.left.detail) {
          assert.deepStrictEqual(d.loc.slice(0, 2), ["body", "events"])
          assert.isTrue(touched.has(d.loc[2] as number), `error at an untouched event: ${pretty(d.loc)}`)
        }
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  const DOMAIN_PATHS: ReadonlyArray<ReadonlyArray<string>> = [
    ["name"],
    ["timestamp"],
    ["organizationId"],
    ["externalId"],
    ["parentId"],
    ["metadata"],
    ["customerId"],
    ["memberId"],
    ["externalCustomerId"],
    ["externalMemberId"],
    ["unknown_key"],
    ["external_customer_id"],
    ...PATHS.filter((p) => p[0] === "metadata")
  ]
  const domainValue = fc.oneof(
    value,
    fc.constantFrom(undefined, new Date("2026-01-01T00:00:00Z"), new Date("2101-01-01T00:00:00Z"), new Date(Number.NaN))
  )
  const domainMutation = fc.record({ index: fc.nat(), path: fc.constantFrom(...DOMAIN_PATHS), value: domainValue })

  /** Domain events as apps build them: plain objects the fast check of `reuse` should take as they are. */
  const plainEvent = fc
    .tuple(
      fc.record(
        {
          name: fc.string({ minLength: 1, maxLength: 128 }),
          timestamp: fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z") }),
          externalId: fc.string({ minLength: 1 }),
          metadata: fc.record(
            {
              text: fc.string({ minLength: 1, maxLength: 500 }),
              int: fc.integer(),
              float: fc.double({ noNaN: true, noDefaultInfinity: true }),
              flag: fc.boolean(),
              _llm: fc.record(
                {
                  vendor: fc.string(),
                  model: fc.string(),
                  input_tokens: fc.nat(),
                  output_tokens: fc.nat(),
                  total_tokens: fc.nat(),
                  cached_input_tokens: fc.nat(),
                  prompt: fc.option(fc.string()),
                  response: fc.string()
                },
                { requiredKeys: ["vendor", "model", "input_tokens", "output_tokens", "total_tokens"] }
              ),
              _cost: fc.record({
                amount: fc.integer({ min: -99_999_999, max: 99_999_999 }).map((n) => n / 1000),
                currency: fc.constant("usd")
              })
            },
            { requiredKeys: [] }
          )
        },
        { requiredKeys: ["name"] }
      ),
      fc.oneof(
        fc.record({ externalCustomerId: fc.string({ minLength: 1 }) }),
        fc.record({ customerId: fc.uuid({ version: 4 }) })
      )
    )
    .map(([common, customer]) => ({ ...common, ...customer }) as Record<string, unknown>)

  it.prop(
    "validateEvents with reuse takes plain valid domain events as they are, and agrees with validateEvents on mutated ones",
    [fc.array(plainEvent, { minLength: 1, maxLength: 4 }), fc.array(domainMutation, { maxLength: 3 })],
    ([events, mutations]) => {
      const plain = EventCreate.validateEvents(events, { ...AGREE, reuse: true })
      if (Either.isLeft(plain) || plain.right !== (events as ReadonlyArray<unknown>)) {
        assert.fail(`not reused: ${pretty(events)}`)
      }
      // reused events are what the full check returns, key for key
      assert.deepStrictEqual(plain.right, Either.getOrThrow(EventCreate.validateEvents(events, AGREE)))
      for (const m of mutations) setPath(events[m.index % events.length]!, m.path, m.value)
      const copied = EventCreate.validateEvents(events, AGREE)
      const reused = EventCreate.validateEvents(events, { ...AGREE, reuse: true })
      assert.deepStrictEqual(reused, copied, pretty(events))
      if (Either.isRight(reused) && reused.right === (events as ReadonlyArray<unknown>)) {
        assert.deepStrictEqual(reused.right, Either.getOrThrow(copied))
      }
    },
    { fastCheck: { numRuns: 1000 } }
  )

  it.prop(
    "validateEvents with reuse agrees with validateEvents on mutated wire events, and shares only plain valid metadata",
    [ingest, fc.array(mutation, { maxLength: 3 })],
    ([body, mutations]) => {
      const wire = JSON.parse(JSON.stringify(encode(body))) as { events: Array<Record<string, unknown>> }
      if (wire.events.length === 0) wire.events.push({ name: "x", external_customer_id: "u", metadata: { k: 1 } })
      for (const m of mutations) setPath(wire.events[m.index % wire.events.length]!, m.path, m.value)
      const copied = EventCreate.validateEvents(wire.events, AGREE)
      const reused = EventCreate.validateEvents(wire.events, { ...AGREE, reuse: true })
      assert.deepStrictEqual(reused, copied, pretty(wire))
      if (Either.isRight(reused)) {
        reused.right.forEach((e, i) => {
          if (e.metadata !== undefined && e.metadata === wire.events[i]!.metadata) {
            assert.deepStrictEqual(e.metadata, Either.getOrThrow(copied)[i]!.metadata)
          }
        })
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "validateEvents with reuse agrees with validateEvents on mutated decoded events",
    [ingest, fc.array(domainMutation, { maxLength: 3 })],
    ([body, mutations]) => {
      const decoded = Schema.decodeUnknownSync(EventCreate.EventsIngest)(JSON.parse(JSON.stringify(encode(body))))
      const events = decoded.events.map((e) => ({ ...e }) as Record<string, unknown>)
      if (events.length === 0) events.push({ name: "x", externalCustomerId: "u" })
      for (const m of mutations) setPath(events[m.index % events.length]!, m.path, m.value)
      assert.deepStrictEqual(
        EventCreate.validateEvents(events, { ...AGREE, reuse: true }),
        EventCreate.validateEvents(events, AGREE),
        pretty(events)
      )
    },
    { fastCheck: { numRuns: 300 } }
  )

  const pad = (n: number, width: number) => String(n).padStart(width, "0")
  const timestampText = fc
    .record({
      year: fc.integer({ min: 1000, max: 9999 }),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 24 }),
      minute: fc.integer({ min: 0, max: 60 }),
      second: fc.integer({ min: 0, max: 60 }),
      sep: fc.constantFrom("T", "t", " "),
      fraction: fc.option(fc.stringMatching(/^\d{1,10}$/), { nil: undefined }),
      zone: fc.oneof(
        fc.constantFrom("Z", "z", ""),
        fc.tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.boolean())
          .map(([s, h, m, colon]) => `${s}${pad(h, 2)}${colon ? ":" : ""}${pad(m, 2)}`)
      )
    })
    .map((t) =>
      `${t.year}-${pad(t.month, 2)}-${pad(t.day, 2)}${t.sep}${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${
        t.fraction === undefined ? "" : "." + t.fraction
      }${t.zone}`
    )

  it.prop(
    "the validator reads every timestamp exactly as Timestamp.parseEpochMicros does",
    [fc.oneof(timestampText, fc.string())],
    ([text]) => {
      const expected = Timestamp.parseEpochMicros(text)
      const r = EventCreate.validate(
        { events: [{ name: "t", external_customer_id: "u", timestamp: text }] },
        { now: new Date(8.64e15) }
      )
      if (typeof expected === "number") {
        if (Either.isLeft(r)) assert.fail(`${text}: ${r.left.message}`)
        assert.strictEqual(Timestamp.toEpochMicros(r.right[0]!.timestamp!), expected, text)
        assert.strictEqual(Timestamp.format(r.right[0]!.timestamp!), text)
      } else {
        if (Either.isRight(r)) assert.fail(`${text} accepted, Timestamp says ${expected.type}`)
        assert.strictEqual(r.left.detail[0]!.type, expected.type, text)
      }
    },
    { fastCheck: { numRuns: 1000 } }
  )

  const reference = (s: string): boolean => {
    const m = /^[+-]?(\d*)(?:\.(\d*))?$/.exec(s)
    if (m === null || (m[1] === "" && (m[2] ?? "") === "")) return false
    const whole = m[1]!.replace(/^0+/, "").length
    const decimals = (m[2] ?? "").replace(/0+$/, "").length
    return whole <= 5 && decimals <= 12
  }

  it.prop(
    "a _cost amount string is accepted exactly when it has at most 5 integer digits and 12 decimals",
    [fc.stringMatching(/^[+-]?0{0,3}\d{0,7}(\.\d{0,14}0{0,3})?$/)],
    ([amount]) => {
      const r = EventCreate.validate(
        { events: [{ name: "c", external_customer_id: "u", metadata: { _cost: { amount, currency: "usd" } } }] },
        { now: new Date(0) }
      )
      assert.strictEqual(Either.isRight(r), reference(amount), amount)
    },
    { fastCheck: { numRuns: 500 } }
  )
})
