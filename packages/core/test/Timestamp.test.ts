import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck, Schema } from "effect"
import * as internal from "../src/internal/timestamp.js"
import * as T from "../src/Timestamp.js"

const decode = Schema.decodeUnknownEither(T.Timestamp)
const encode = Schema.encodeSync(T.Timestamp)

describe("Timestamp", () => {
  it("re-encodes a decoded timestamp to its exact wire text", () => {
    for (const text of [
      "2026-08-21T14:03:12.481000Z",
      "2026-07-02T09:20:01Z",
      "2026-08-21T14:03:12.902+02:00",
      "2026-08-01T00:00:05.118204Z",
      "2026-08-01T00:00:05.1-0330"
    ]) {
      const d = Either.getOrThrow(decode(text))
      assert.strictEqual(encode(d), text)
    }
  })

  it("keeps microseconds that a Date cannot hold", () => {
    const d = Either.getOrThrow(decode("2026-08-01T00:00:05.118204Z"))
    assert.strictEqual(d.getTime(), Date.UTC(2026, 7, 1, 0, 0, 5, 118))
    assert.strictEqual(T.toEpochMicros(d), Date.UTC(2026, 7, 1, 0, 0, 5, 118) * 1000 + 204)
    assert.strictEqual(T.format(T.fromEpochMicros(T.toEpochMicros(d))), "2026-08-01T00:00:05.118204Z")
  })

  it("converts offsets to the same instant", () => {
    const d = Either.getOrThrow(decode("2026-08-21T14:03:12.902+02:00"))
    assert.strictEqual(d.toISOString(), "2026-08-21T12:03:12.902Z")
  })

  it("writes a Date made in code the way Polar does", () => {
    assert.strictEqual(encode(new Date("2026-01-01T00:00:00.120Z")), "2026-01-01T00:00:00.120000Z")
    assert.strictEqual(encode(new Date("2026-01-01T00:00:00Z")), "2026-01-01T00:00:00Z")
    assert.strictEqual(T.formatEpochMicros(-1), "1969-12-31T23:59:59.999999Z")
  })

  it("forgets the wire text once the Date is changed", () => {
    const d = Either.getOrThrow(decode("2026-08-21T14:03:12.902+02:00"))
    d.setTime(d.getTime() + 1)
    assert.strictEqual(encode(d), "2026-08-21T12:03:12.903000Z")
    assert.strictEqual(T.toEpochMicros(d), d.getTime() * 1000)
  })

  it("rejects a naive timestamp as timezone_aware", () => {
    assert.deepStrictEqual(T.parse("2026-08-01T00:00:05"), { type: "timezone_aware", msg: "Input should have timezone info" })
    assert.isTrue(Either.isLeft(decode("2026-08-01T00:00:05")))
  })

  it("rejects impossible dates and garbage", () => {
    for (const text of ["2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "yesterday", "", "2026-01-01T00:00:00+25:00"]) {
      const r = T.parse(text)
      assert.isFalse(r instanceof Date, text)
    }
  })

  it("reads years before 100 as themselves", () => {
    const d = T.parse("0099-12-31T23:59:59Z")
    assert.isTrue(d instanceof Date)
    assert.strictEqual((d as Date).getUTCFullYear(), 99)
    assert.strictEqual(T.formatEpochMicros(T.toEpochMicros(d as Date)), "0099-12-31T23:59:59Z")
  })

  it("fails to encode an invalid Date", () => {
    assert.isTrue(Either.isLeft(Schema.encodeEither(T.Timestamp)(new Date(NaN))))
  })

  it.prop(
    "formatEpochMicros and parseEpochMicros are inverse (years 1685 to 2254)",
    [FastCheck.integer({ min: -90_000_000, max: 90_000_000 }).chain((hi) => FastCheck.integer({ min: 0, max: 99_999_999 }).map((lo) => hi * 100_000_000 + lo))],
    ([us]) => {
      assert.strictEqual(T.parseEpochMicros(T.formatEpochMicros(us)), us)
    }
  )

  it.prop(
    "agrees with Date.parse on ISO strings",
    [FastCheck.date({ min: new Date("1000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })],
    ([date]) => {
      const r = T.parse(date.toISOString())
      assert.isTrue(r instanceof Date)
      assert.strictEqual((r as Date).getTime(), date.getTime())
    }
  )
})

describe("Timestamp fast path", () => {
  const digits = (n: number, w: number) => String(n).padStart(w, "0")
  const text = FastCheck.record({
    year: FastCheck.integer({ min: 0, max: 9999 }),
    month: FastCheck.integer({ min: 0, max: 13 }),
    day: FastCheck.integer({ min: 0, max: 32 }),
    hour: FastCheck.integer({ min: 0, max: 25 }),
    minute: FastCheck.integer({ min: 0, max: 60 }),
    second: FastCheck.integer({ min: 0, max: 60 }),
    sep: FastCheck.constantFrom("T", "t", " "),
    fraction: FastCheck.option(FastCheck.stringMatching(/^\d{1,9}$/), { nil: undefined }),
    zone: FastCheck.constantFrom("Z", "z", "", "+02:00", "-03:30", "+0530", "+24:00", "+05:61")
  }).map((t) =>
    `${digits(t.year, 4)}-${digits(t.month, 2)}-${digits(t.day, 2)}${t.sep}${digits(t.hour, 2)}:${digits(t.minute, 2)}:${
      digits(t.second, 2)
    }${t.fraction === undefined ? "" : "." + t.fraction}${t.zone}`
  )

  it.prop(
    "reads every string exactly as the regular-expression path does",
    [FastCheck.oneof(text, FastCheck.string())],
    ([s]) => {
      const fast = internal.parseFast(s)
      if (fast !== undefined) assert.deepStrictEqual(fast, internal.parseSlow(s), s)
    },
    { fastCheck: { numRuns: 2000 } }
  )
})
