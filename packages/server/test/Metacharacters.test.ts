/**
 * SQL and JSON metacharacters in every string field, in metadata keys and in
 * filter properties: stored and returned verbatim, matched only literally,
 * and never writing or reading anything else.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { count, ingest, layerServer, ORG_A, ORG_B, raw, Server, TOKEN } from "./utils/harness.js"

const NASTY = [
  `'; DROP TABLE events; --`,
  `" OR "1"="1`,
  `\\'); DELETE FROM events WHERE ('1'='1`,
  `%_*?{}`,
  `{"$gt": ""}`,
  `back\\slash \\" \\\\ \\u0041`,
  `line\nbreak\ttab\r\u2028\u2029`,
  `ünïcødé 🎉 \${x} \`cmd\``,
  `$.metadata[0]`,
  `) UNION SELECT * FROM sqlite_master --`,
  `a'b"c`,
  `_`,
  `%`
] as const

/** Keys with `]` cannot be written as `metadata[key]`, and keys with `.` are paths in a filter. */
const queryableKey = (s: string) => !s.includes("]")
const filterableKey = (s: string) => !s.includes(".")

const q = (params: ReadonlyArray<readonly [string, string]>) => new URLSearchParams(params as Array<[string, string]>).toString()

layer(layerServer(), { excludeTestServices: true })("metacharacters", (it) => {
  it.effect("every string field and metadata key round-trips verbatim; filters match only literally", () =>
    Effect.gen(function*() {
      const { store, url } = yield* Server
      const beforeA = yield* count(store, ORG_A)
      const beforeB = yield* count(store, ORG_B)
      const events = NASTY.map((s, i) => ({
        name: s,
        external_customer_id: s,
        external_member_id: s,
        external_id: `ext ${s}`,
        timestamp: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString(),
        metadata: { [s]: s, kind: s, i }
      }))
      const child = {
        name: "child",
        external_customer_id: NASTY[0],
        external_id: "child of a nasty parent",
        parent_id: `ext ${NASTY[1]}`,
        metadata: { kind: "child" }
      }
      const res = yield* ingest(url, TOKEN.a, { events: [...events, child] })
      assert.strictEqual(res.status, 200, res.text)
      assert.deepStrictEqual(res.json(), { inserted: NASTY.length + 1, duplicates: 0 })
      assert.strictEqual(yield* count(store, ORG_A), beforeA + NASTY.length + 1)
      assert.strictEqual(yield* count(store, ORG_B), beforeB)

      // the same external ids again: all duplicates, nothing written
      const again = yield* ingest(url, TOKEN.a, { events })
      assert.deepStrictEqual(again.json(), { inserted: 0, duplicates: NASTY.length })

      const list = (params: ReadonlyArray<readonly [string, string]>) =>
        Effect.map(raw(url, { path: `/v1/events/?${q([...params, ["limit", "100"]])}`, token: TOKEN.a }), (r) => {
          assert.strictEqual(r.status, 200, r.text)
          return r.json().items as Array<any>
        })

      for (let i = 0; i < NASTY.length; i++) {
        const s = NASTY[i]!
        const byName = yield* list([["name", s]])
        assert.strictEqual(byName.length, 1, `name ${JSON.stringify(s)}`)
        const e = byName[0]
        assert.strictEqual(e.name, s)
        assert.strictEqual(e.label, s)
        assert.strictEqual(e.external_customer_id, s)
        assert.strictEqual(e.external_member_id, s)
        assert.deepStrictEqual(e.metadata, { [s]: s, kind: s, i })

        const got = yield* raw(url, { path: `/v1/events/${e.id}`, token: TOKEN.a })
        assert.strictEqual(got.status, 200)
        assert.deepStrictEqual(got.json(), e)

        const byCustomer = yield* list([["external_customer_id", s]])
        assert.deepStrictEqual(
          byCustomer.map((x) => x.name).sort(),
          (i === 0 ? [s, "child"] : [s]).sort(),
          `external_customer_id ${JSON.stringify(s)}`
        )
        const byKind = yield* list([["metadata[kind]", s]])
        assert.deepStrictEqual(byKind.map((x) => x.id), [e.id], `metadata[kind] ${JSON.stringify(s)}`)
        if (queryableKey(s)) {
          const byKey = yield* list([[`metadata[${s}]`, s]])
          assert.deepStrictEqual(byKey.map((x) => x.id), [e.id], `metadata[${JSON.stringify(s)}]`)
        }
        const eq = { conjunction: "and", clauses: [{ property: "kind", operator: "eq", value: s }] }
        const byFilter = yield* list([["filter", JSON.stringify(eq)]])
        assert.deepStrictEqual(byFilter.map((x) => x.id), [e.id], `filter kind eq ${JSON.stringify(s)}`)
        if (filterableKey(s)) {
          const onKey = { conjunction: "and", clauses: [{ property: s, operator: "eq", value: s }] }
          const byKeyFilter = yield* list([["filter", JSON.stringify(onKey)]])
          assert.deepStrictEqual(byKeyFilter.map((x) => x.id), [e.id], `filter on key ${JSON.stringify(s)}`)
        }
      }

      // `like` is a literal substring: % and _ are not wildcards
      const likeAll = (value: string) =>
        list([["filter", JSON.stringify({ conjunction: "and", clauses: [{ property: "kind", operator: "like", value }] })]])
      for (const value of ["%", "_", "'", "\\", '"', "--"]) {
        const expected = [...NASTY.filter((s) => s.includes(value))].sort()
        const got = (yield* likeAll(value)).map((x) => x.metadata.kind as string).sort()
        assert.deepStrictEqual(got, expected, `like ${JSON.stringify(value)}`)
      }

      // injections in filter properties and metadata keys find nothing
      for (
        const property of [
          `x') OR 1=1 --`,
          `kind' OR '1'='1`,
          `kind"] OR 1=1 --`,
          `$.kind`,
          `metadata.kind') OR ('1'='1`
        ]
      ) {
        const none = yield* list([["filter", JSON.stringify({ conjunction: "or", clauses: [{ property, operator: "ne", value: "zzz" }] })]])
        assert.deepStrictEqual(none, [], `filter property ${JSON.stringify(property)}`)
      }
      assert.deepStrictEqual(yield* list([["metadata[kind') OR ('1'='1]", "x"]]), [])
      assert.deepStrictEqual(yield* list([["name", "' OR 1=1 --"]]), [])
      assert.deepStrictEqual(yield* list([["external_customer_id", `" OR ""="`]]), [])

      // the child resolved its metacharacter parent reference
      const children = yield* list([["name", "child"]])
      assert.strictEqual(children.length, 1)
      const parent = (yield* list([["name", NASTY[1]]]))[0]
      assert.strictEqual(children[0].parent_id, parent.id)

      // names: each exactly once, verbatim
      const names = yield* raw(url, { path: "/v1/events/names?limit=100", token: TOKEN.a })
      assert.strictEqual(names.status, 200)
      const seen = (names.json().items as Array<any>).filter((n) => (NASTY as ReadonlyArray<string>).includes(n.name))
      assert.deepStrictEqual(seen.map((n) => n.name).sort(), [...NASTY].sort())
      for (const n of seen) assert.strictEqual(n.occurrences, 1)

      // reads wrote nothing; the other organization saw nothing
      assert.strictEqual(yield* count(store, ORG_A), beforeA + NASTY.length + 1)
      assert.strictEqual(yield* count(store, ORG_B), beforeB)
      const fromB = yield* raw(url, { path: `/v1/events/?${q([["name", NASTY[0]]])}`, token: TOKEN.b })
      assert.deepStrictEqual(fromB.json().items, [])
    }))
})
