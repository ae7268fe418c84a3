import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import * as Meter from "../src/Meter.js"
import * as Timestamp from "../src/Timestamp.js"

const T0 = "2026-03-01T12:00:00Z"

const event = (
  metadata: Record<string, unknown>,
  over: Partial<Meter.Filterable> = {}
): Meter.Filterable => ({ name: "api.call", source: "user", timestamp: new Date(T0), metadata, ...over })

const clause = (property: string, operator: Meter.FilterOperator, value: Meter.FilterValue): Meter.Filter => ({
  conjunction: "and",
  clauses: [{ property, operator, value }]
})

const holds = (property: string, operator: Meter.FilterOperator, value: Meter.FilterValue, e: Meter.Filterable) =>
  Meter.matches(clause(property, operator, value), e)

const OPERATORS: ReadonlyArray<Meter.FilterOperator> = Meter.FilterOperator.literals

describe("FilterClause operators", () => {
  const e = event({ model: "gpt-4o", tokens: 120, ratio: 1.5, cached: true })

  it("eq", () => {
    assert.isTrue(holds("model", "eq", "gpt-4o", e))
    assert.isFalse(holds("model", "eq", "gpt-4", e))
    assert.isTrue(holds("tokens", "eq", 120, e))
    assert.isTrue(holds("cached", "eq", true, e))
    assert.isFalse(holds("cached", "eq", false, e))
  })

  it("ne", () => {
    assert.isTrue(holds("model", "ne", "gpt-4", e))
    assert.isFalse(holds("model", "ne", "gpt-4o", e))
    assert.isTrue(holds("tokens", "ne", 121, e))
    assert.isFalse(holds("tokens", "ne", 120, e))
  })

  it("gt", () => {
    assert.isTrue(holds("tokens", "gt", 119, e))
    assert.isFalse(holds("tokens", "gt", 120, e))
    assert.isTrue(holds("ratio", "gt", 1, e), "a float metadata value compares with an integer clause value")
    assert.isTrue(holds("model", "gt", "gpt-4", e), "strings compare lexicographically")
    assert.isTrue(holds("cached", "gt", false, e), "True > False, as in Python")
  })

  it("gte", () => {
    assert.isTrue(holds("tokens", "gte", 120, e))
    assert.isFalse(holds("tokens", "gte", 121, e))
    assert.isFalse(holds("ratio", "gte", 2, e))
    assert.isTrue(holds("model", "gte", "gpt-4o", e))
  })

  it("lt", () => {
    assert.isTrue(holds("tokens", "lt", 121, e))
    assert.isFalse(holds("tokens", "lt", 120, e))
    assert.isTrue(holds("ratio", "lt", 2, e))
    assert.isFalse(holds("model", "lt", "gpt-4", e))
  })

  it("lte", () => {
    assert.isTrue(holds("tokens", "lte", 120, e))
    assert.isFalse(holds("tokens", "lte", 119, e))
    assert.isFalse(holds("ratio", "lte", 1, e))
  })

  it("like is a substring test, not a pattern", () => {
    assert.isTrue(holds("model", "like", "pt-4", e))
    assert.isTrue(holds("model", "like", "", e), "the empty string is in every string")
    assert.isFalse(holds("model", "like", "gpt%", e), "% is a literal character")
    assert.isFalse(holds("model", "like", "GPT", e), "case-sensitive")
    assert.isTrue(holds("tokens", "like", 12, e), "numbers are compared as their text: '12' in '120'")
    assert.isTrue(holds("tokens", "like", "20", e))
    assert.isTrue(holds("cached", "like", "True", e), "booleans read as Python writes them")
    assert.isFalse(holds("cached", "like", "true", e))
    assert.isTrue(holds("cached", "like", true, e))
  })

  it("not_like is the negation of like on a present value", () => {
    assert.isTrue(holds("model", "not_like", "claude", e))
    assert.isFalse(holds("model", "not_like", "gpt", e))
    assert.isFalse(holds("tokens", "not_like", 12, e))
  })

  it("strings compare by code point, as Python does", () => {
    const astral = event({ s: "\u{1F600}" })
    assert.isTrue(holds("s", "gt", "\uFFFF", astral), "U+1F600 > U+FFFF (UTF-16 order would say the opposite)")
  })
})

describe("property paths", () => {
  const e = event({
    tokens: 5,
    _llm: { vendor: "openai", model: "gpt-4o", input_tokens: 10, output_tokens: 32, total_tokens: 42 },
    _cost: { amount: "0.0325", currency: "usd" },
    nested: { deeper: { leaf: "x" } }
  })

  it("a dot path reads into metadata, including _llm.total_tokens", () => {
    assert.isTrue(holds("_llm.total_tokens", "eq", 42, e))
    assert.isTrue(holds("_llm.vendor", "eq", "openai", e))
    assert.isTrue(holds("nested.deeper.leaf", "eq", "x", e))
    assert.strictEqual(Meter.propertyValue(e, "_llm.output_tokens"), 32)
    assert.isUndefined(Meter.propertyValue(e, "tokens.more"), "a path through a number is missing")
    assert.isUndefined(Meter.propertyValue(e, "_llm.nope"))
  })

  it("a leading metadata. is stripped", () => {
    assert.isTrue(holds("metadata.tokens", "eq", 5, e))
    assert.isTrue(holds("metadata._llm.total_tokens", "gte", 42, e))
    assert.strictEqual(Meter.stripMetadataPrefix("metadata.metadata.x"), "metadata.x", "only once")
    assert.isTrue(holds("metadata.name", "eq", "api.call", e), "after stripping, name is the event's name")
  })

  it("name and source are the event's own fields and need a string value", () => {
    assert.isTrue(holds("name", "eq", "api.call", e))
    assert.isTrue(holds("name", "like", "api", e))
    assert.isTrue(holds("source", "eq", "user", e))
    assert.isTrue(holds("source", "eq", "system", event({}, { source: "system" })))
    assert.isFalse(holds("name", "eq", 1, e))
    assert.isFalse(holds("source", "ne", true, e), "a non-string value is false even for ne")
    assert.isFalse(holds("name", "eq", "x", event({ name: "x" })), "metadata.name is shadowed by the event name")
  })

  it("timestamp is integer epoch seconds and needs an integer value", () => {
    const seconds = Date.UTC(2026, 2, 1, 12, 0, 0) / 1000
    assert.strictEqual(Meter.propertyValue(e, "timestamp"), seconds)
    assert.isTrue(holds("timestamp", "eq", seconds, e))
    assert.isTrue(holds("timestamp", "gt", seconds - 1, e))
    assert.isFalse(holds("timestamp", "gt", seconds, e))
    const late = event({}, { timestamp: Timestamp.fromEpochMicros(seconds * 1_000_000 + 999_999) })
    assert.strictEqual(Meter.propertyValue(late, "timestamp"), seconds, "fractions are truncated, not rounded")
    assert.isFalse(holds("timestamp", "eq", String(seconds), e), "a string value never matches timestamp")
    assert.isFalse(holds("timestamp", "gt", false, e), "a boolean is not an integer here")
    assert.isFalse(holds("timestamp", "like", String(seconds).slice(0, 4), e), "like on timestamp needs an integer too")
    assert.isTrue(holds("timestamp", "like", Number(String(seconds).slice(0, 4)), e))
  })

  it("_cost.amount, a decimal string on the wire, reads as the number Polar stores", () => {
    assert.strictEqual(Meter.propertyValue(e, "_cost.amount"), 0.0325)
    assert.isTrue(holds("_cost.amount", "lt", 1, e))
    assert.strictEqual(Meter.propertyValue(e, "_cost.currency"), "usd")
  })

  it("a missing or null value never matches, whatever the operator", () => {
    const withNull = event({ gone: null })
    for (const op of OPERATORS) {
      for (const value of ["x", 1, true] as const) {
        assert.isFalse(holds("absent", op, value, e), `absent ${op} ${value}`)
        assert.isFalse(holds("gone", op, value, withNull), `null ${op} ${value}`)
      }
    }
    assert.isUndefined(Meter.propertyValue(withNull, "gone"))
  })

  it("inherited object members are not metadata", () => {
    for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      assert.isFalse(holds(key, "ne", "x", e), key)
      assert.isUndefined(Meter.propertyValue(e, key), key)
    }
  })

  it("comparisons across types are false for every comparison operator", () => {
    const typed = event({ s: "1", n: 1, b: true })
    for (const op of ["eq", "ne", "gt", "gte", "lt", "lte"] as const) {
      assert.isFalse(holds("s", op, 1, typed), `"1" ${op} 1`)
      assert.isFalse(holds("s", op, true, typed), `"1" ${op} true`)
      assert.isFalse(holds("n", op, "1", typed), `1 ${op} "1"`)
      assert.isFalse(holds("n", op, true, typed), `1 ${op} true (a boolean is not a number)`)
      assert.isFalse(holds("b", op, 1, typed), `true ${op} 1`)
      assert.isFalse(holds("b", op, "True", typed), `true ${op} "True"`)
    }
  })

  it("objects and arrays never match", () => {
    for (const op of OPERATORS) {
      assert.isFalse(holds("_llm", op, "openai", e), `_llm ${op}`)
      assert.isFalse(holds("list", op, 1, event({ list: [1, 2] })), `list ${op}`)
    }
  })
})

describe("conjunctions", () => {
  const e = event({ a: 1, b: 2 })
  const a1 = { property: "a", operator: "eq", value: 1 } as const
  const b3 = { property: "b", operator: "eq", value: 3 } as const

  it("an empty clause list is true for and and for or", () => {
    assert.isTrue(Meter.matches({ conjunction: "and", clauses: [] }, e))
    assert.isTrue(Meter.matches({ conjunction: "or", clauses: [] }, e))
  })

  it("and needs every clause, or any clause", () => {
    assert.isFalse(Meter.matches({ conjunction: "and", clauses: [a1, b3] }, e))
    assert.isTrue(Meter.matches({ conjunction: "or", clauses: [a1, b3] }, e))
    assert.isFalse(Meter.matches({ conjunction: "or", clauses: [b3] }, e))
  })

  it("nested groups", () => {
    const f: Meter.Filter = {
      conjunction: "and",
      clauses: [
        { property: "name", operator: "eq", value: "api.call" },
        { conjunction: "or", clauses: [b3, { conjunction: "and", clauses: [a1, { conjunction: "or", clauses: [] }] }] }
      ]
    }
    assert.isTrue(Meter.matches(f, e))
    assert.isFalse(Meter.matches(f, event({ a: 2, b: 2 })))
    assert.isTrue(Meter.matches(f, event({ a: 2, b: 3 })))
    assert.isFalse(Meter.matches(f, event({ a: 1 }, { name: "other" })))
  })
})

describe("aggregations", () => {
  const events = [
    event({ tokens: 10, user: "a", _cost: { amount: "1.5", currency: "usd" } }),
    event({ tokens: 2.5, user: 1 }),
    event({ tokens: true, user: "1" }),
    event({ tokens: "7", user: true }),
    event({ user: "a" }),
    event({ tokens: -4, user: 1 })
  ]

  it("count counts events", () => {
    assert.strictEqual(Meter.aggregate({ func: "count" }, events), 6)
  })

  it("sum takes only JSON numbers: booleans, numeric strings and missing keys are skipped", () => {
    assert.strictEqual(Meter.aggregate({ func: "sum", property: "tokens" }, events), 10 + 2.5 - 4)
    assert.strictEqual(Meter.aggregate({ func: "sum", property: "metadata.tokens" }, events), 8.5)
  })

  it("max and min", () => {
    assert.strictEqual(Meter.aggregate({ func: "max", property: "tokens" }, events), 10)
    assert.strictEqual(Meter.aggregate({ func: "min", property: "tokens" }, events), -4)
    assert.strictEqual(Meter.aggregate({ func: "max", property: "tokens" }, [event({ tokens: -3 }), event({ tokens: -1 })]), -1)
  })

  it("avg divides by the number of numeric values only", () => {
    assert.strictEqual(Meter.aggregate({ func: "avg", property: "tokens" }, events), (10 + 2.5 - 4) / 3)
  })

  it("unique tells 1 from \"1\" and true, and ignores missing keys", () => {
    assert.strictEqual(Meter.aggregate({ func: "unique", property: "user" }, events), 4, "a, 1, \"1\", true")
    assert.strictEqual(Meter.aggregate({ func: "unique", property: "nobody" }, events), 0)
    const objects = [event({ o: { a: 1, b: [1, 2] } }), event({ o: { b: [1, 2], a: 1 } }), event({ o: { a: 1, b: [2, 1] } })]
    assert.strictEqual(Meter.aggregate({ func: "unique", property: "o" }, objects), 2, "objects by content, key order aside")
  })

  it("unique always reads metadata, as Polar's SQL does", () => {
    const e = [event({ name: "x" }), event({ name: "y" }), event({})]
    assert.strictEqual(Meter.aggregate({ func: "unique", property: "name" }, e), 2)
  })

  it("an empty set gives 0 for every aggregation, avg included", () => {
    for (const agg of [
      { func: "count" },
      { func: "sum", property: "tokens" },
      { func: "max", property: "tokens" },
      { func: "min", property: "tokens" },
      { func: "avg", property: "tokens" },
      { func: "unique", property: "user" }
    ] as const) {
      assert.strictEqual(Meter.aggregate(agg, []), 0, agg.func)
    }
    assert.strictEqual(Meter.aggregate({ func: "avg", property: "tokens" }, [event({ tokens: "5" })]), 0)
  })

  it("timestamp aggregates as epoch seconds rounded like PostgreSQL's ::bigint; name and source never", () => {
    const s = Date.UTC(2026, 0, 1) / 1000
    const at = (us: number) => event({}, { timestamp: Timestamp.fromEpochMicros(us) })
    const es = [at(s * 1e6 + 500_000), at(s * 1e6 + 499_999)]
    assert.strictEqual(Meter.aggregate({ func: "max", property: "timestamp" }, es), s + 1)
    assert.strictEqual(Meter.aggregate({ func: "min", property: "timestamp" }, es), s)
    assert.strictEqual(Meter.aggregate({ func: "sum", property: "name" }, es), 0)
    assert.isFalse(Meter.takesPart({ func: "sum", property: "source" }, es[0]!))
  })

  it("_cost.amount sums as a number", () => {
    assert.strictEqual(Meter.aggregate({ func: "sum", property: "_cost.amount" }, events), 1.5)
  })

  it("takesPart: count and unique take every event, the others only numeric values", () => {
    assert.isTrue(Meter.takesPart({ func: "count" }, events[4]!))
    assert.isTrue(Meter.takesPart({ func: "unique", property: "zzz" }, events[4]!))
    assert.isTrue(Meter.takesPart({ func: "avg", property: "tokens" }, events[1]!))
    assert.isFalse(Meter.takesPart({ func: "avg", property: "tokens" }, events[2]!))
    assert.isFalse(Meter.takesPart({ func: "avg", property: "tokens" }, events[3]!))
  })
})

describe("schemas", () => {
  const decodeFilter = Schema.decodeUnknownEither(Meter.Filter)

  it("Filter decodes Polar JSON with nested groups and ignores unknown keys", () => {
    const json = {
      conjunction: "and",
      clauses: [
        { property: "name", operator: "eq", value: "llm", extra: 1 },
        { conjunction: "or", clauses: [{ property: "tokens", operator: "gt", value: 1.0 }] }
      ]
    }
    const r = decodeFilter(json)
    assert.isTrue(Either.isRight(r))
    assert.deepStrictEqual(Either.getOrThrow(r), {
      conjunction: "and",
      clauses: [
        { property: "name", operator: "eq", value: "llm" },
        { conjunction: "or", clauses: [{ property: "tokens", operator: "gt", value: 1 }] }
      ]
    })
  })

  it("a clause value is a string up to 1000 characters, an int32 or a boolean", () => {
    const ok = (value: unknown) => Either.isRight(decodeFilter({ conjunction: "or", clauses: [{ property: "p", operator: "eq", value }] }))
    assert.isTrue(ok("x".repeat(1000)))
    assert.isFalse(ok("x".repeat(1001)))
    assert.isTrue(ok(2_147_483_647))
    assert.isFalse(ok(2_147_483_648))
    assert.isTrue(ok(-2_147_483_648))
    assert.isFalse(ok(-2_147_483_649))
    assert.isFalse(ok(1.5), "no floats")
    assert.isTrue(ok(false))
    assert.isFalse(ok(null))
  })

  it("validateFilter reports every problem with its location", () => {
    const r = Meter.validateFilter(
      {
        conjunction: "xor",
        clauses: [
          { property: "a", operator: "between", value: 1.5 },
          { conjunction: "and" },
          "nope"
        ]
      },
      ["body", "filter"]
    )
    assert.isTrue(Either.isLeft(r))
    const details = Either.isLeft(r) ? r.left : []
    assert.deepStrictEqual(details.map((d) => [d.loc.join("."), d.type]), [
      ["body.filter.conjunction", "enum"],
      ["body.filter.clauses.0.FilterClause.operator", "enum"],
      ["body.filter.clauses.0.FilterClause.value", "int_from_float"],
      ["body.filter.clauses.1.Filter.clauses", "missing"],
      ["body.filter.clauses.2.FilterClause", "model_type"],
      ["body.filter.clauses.2.Filter", "model_type"]
    ])
    assert.strictEqual(details[0]!.msg, "Input should be 'and' or 'or'")
  })

  it("parseFilterJson: invalid JSON is json_invalid at the given location", () => {
    const r = Meter.parseFilterJson("{not json", ["query", "filter"])
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) {
      assert.deepStrictEqual(r.left[0]!.loc, ["query", "filter"])
      assert.strictEqual(r.left[0]!.type, "json_invalid")
    }
  })

  it.prop("validateFilter accepts exactly what the Filter schema accepts", [
    fc.oneof(
      Arbitrary.make(Meter.Filter),
      fc.anything(),
      fc.record({
        conjunction: fc.constantFrom("and", "or", "xor"),
        clauses: fc.array(
          fc.record({
            property: fc.oneof(fc.string(), fc.integer()),
            operator: fc.constantFrom("eq", "like", "nope"),
            value: fc.oneof(fc.string({ maxLength: 1002 }), fc.double(), fc.boolean(), fc.constant(null))
          }, { requiredKeys: [] })
        )
      })
    )
  ], ([u]) => {
    const bySchema = Either.isRight(decodeFilter(u))
    const byValidator = Meter.validateFilter(u)
    assert.strictEqual(Either.isRight(byValidator), bySchema)
    if (Either.isLeft(byValidator)) assert.isAbove(byValidator.left.length, 0)
  })

  it.prop("Filter round-trips through JSON", [Meter.Filter], ([f]) => {
    const text = JSON.stringify(Schema.encodeSync(Meter.Filter)(f))
    assert.deepStrictEqual(Either.getOrThrow(Meter.parseFilterJson(text)), f)
  })

  it("Aggregation is discriminated by func, which is required", () => {
    const decode = Schema.decodeUnknownEither(Meter.Aggregation)
    assert.deepStrictEqual(Either.getOrThrow(decode({ func: "count" })), { func: "count" })
    assert.deepStrictEqual(Either.getOrThrow(decode({ func: "avg", property: "tokens" })), { func: "avg", property: "tokens" })
    assert.deepStrictEqual(Either.getOrThrow(decode({ func: "unique", property: "user" })), { func: "unique", property: "user" })
    assert.isTrue(Either.isLeft(decode({})))
    assert.isTrue(Either.isLeft(decode({ func: "sum" })), "sum needs a property")
    assert.isTrue(Either.isLeft(decode({ func: "median", property: "x" })))
  })

  it("MeterQuantities round-trips Polar JSON", () => {
    const wire = {
      quantities: [
        { timestamp: "2026-03-29T00:00:00Z", quantity: 10 },
        { timestamp: "2026-03-30T00:00:00Z", quantity: 2.5 }
      ],
      total: 12.5
    }
    const decoded = Schema.decodeUnknownSync(Meter.MeterQuantities)(wire)
    assert.instanceOf(decoded.quantities[0]!.timestamp, Date)
    assert.deepStrictEqual(Schema.encodeSync(Meter.MeterQuantities)(decoded), wire)
  })

  it("Interval and TimeZone", () => {
    assert.deepStrictEqual(Meter.Interval.literals, ["year", "month", "week", "day", "hour"])
    assert.isTrue(Meter.isTimeZone("Europe/Berlin"))
    assert.isFalse(Meter.isTimeZone("Mars/Olympus_Mons"))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Meter.TimeZone)("Nowhere/Else")))
  })
})
