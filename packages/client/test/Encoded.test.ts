/**
 * The byte queue behind the Ingester: whatever is pushed and however it is
 * taken, every batch's body is the JSON `{"events":[...]}` of exactly those
 * events, in order, and the sizes add up.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { Encoded, EncodedQueue, FRAME_BYTES } from "../src/internal/encoded.js"

const eventArb = FastCheck.record({
  name: FastCheck.string({ minLength: 1, maxLength: 20 }),
  external_id: FastCheck.uuid(),
  metadata: FastCheck.dictionary(
    FastCheck.string({ minLength: 1, maxLength: 8 }),
    FastCheck.oneof(FastCheck.string({ unit: "binary", maxLength: 40 }), FastCheck.integer(), FastCheck.boolean())
  )
})

describe("EncodedQueue", () => {
  it.prop(
    "batches taken in any sizes hold every pushed event once, in order, as valid JSON",
    {
      events: FastCheck.array(eventArb, { maxLength: 300 }),
      takes: FastCheck.array(FastCheck.tuple(FastCheck.integer({ min: 1, max: 50 }), FastCheck.integer({ min: 1, max: 5000 })), {
        minLength: 1,
        maxLength: 50
      }),
      big: FastCheck.boolean()
    },
    ({ big, events, takes }) => {
      const q = new EncodedQueue()
      const out: Array<unknown> = []
      let t = 0
      const takeOne = (count: number, bytes: number) => {
        const before = q.bytes
        const batch = q.take(count, bytes)
        assert.isAtMost(batch.count, count)
        const body = batch.body()
        assert.strictEqual(body.length, batch.bodySize)
        const parsed = JSON.parse(body.toString("utf8")) as { events: Array<unknown> }
        assert.strictEqual(parsed.events.length, batch.count)
        let sum = 0
        for (let i = 0; i < batch.count; i++) {
          assert.deepStrictEqual(JSON.parse(batch.json(i)), parsed.events[i])
          sum += batch.bytesOf(i)
        }
        assert.strictEqual(before - q.bytes, sum)
        out.push(...parsed.events)
        batch.release()
      }
      for (const e of events) {
        // a long string now and then forces a block of its own
        const json = JSON.stringify(big && out.length % 97 === 3 ? { ...e, pad: "x".repeat(1024 * 1024) } : e)
        const before = q.bytes
        const written = q.push(json, 0)
        assert.strictEqual(written, Buffer.byteLength(json))
        assert.strictEqual(q.bytes, before + written)
        const [count, bytes] = takes[t++ % takes.length]!
        if (t % 3 === 0) takeOne(count, bytes)
      }
      while (q.size > 0) takeOne(50, 5000)
      assert.strictEqual(q.bytes, 0)
      assert.strictEqual(out.length, events.length)
      for (let i = 0; i < events.length; i++) {
        const got = out[i] as Record<string, unknown>
        assert.strictEqual(got.external_id, events[i]!.external_id)
      }
    }
  )

  it("slices, filters and joins keep the events and their JSON", () => {
    const jsons = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i, s: "é€😀".repeat(i) }))
    const e = Encoded.fromPrepared(jsons.map((json, i) => ({ externalId: `e${i}`, json, bytes: Buffer.byteLength(json) })))
    assert.strictEqual(e.count, 10)
    assert.strictEqual(e.bodySize, FRAME_BYTES + jsons.reduce((n, j) => n + Buffer.byteLength(j), 0) + 9)
    const s = e.slice(3, 7)
    assert.deepStrictEqual(JSON.parse(s.body().toString()).events.map((x: { i: number }) => x.i), [3, 4, 5, 6])
    const odd = e.filter((i) => i % 2 === 1)
    assert.deepStrictEqual(JSON.parse(odd.body().toString()).events.map((x: { i: number }) => x.i), [1, 3, 5, 7, 9])
    assert.strictEqual(odd.json(2), jsons[5])
    const joined = Encoded.concat([e.slice(8, 10), s, Encoded.empty])
    assert.deepStrictEqual(JSON.parse(joined.body().toString()).events.map((x: { i: number }) => x.i), [8, 9, 3, 4, 5, 6])
    assert.throws(() => Encoded.fromPrepared([{ externalId: "x", json: "{}", bytes: 3 }]))
  })

  it("recycles blocks only once every batch taken from them is released", () => {
    const q = new EncodedQueue()
    const json = JSON.stringify({ pad: "y".repeat(1000) })
    for (let i = 0; i < 3000; i++) q.push(json, i)
    const first = q.take(500, Number.POSITIVE_INFINITY)
    const text = first.body().toString()
    // take everything else, pushing more so that new blocks are needed
    while (q.size > 0) q.take(1000, Number.POSITIVE_INFINITY).release()
    const other = JSON.stringify({ pad: "z".repeat(1000) })
    for (let i = 0; i < 3000; i++) q.push(other, i)
    assert.strictEqual(first.body().toString(), text, "an unreleased batch is never overwritten")
    first.release()
    assert.strictEqual(q.oldest(), 0)
  })
})
