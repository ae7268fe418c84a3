/**
 * The pure half of the write path, without a database: dedup inside a
 * batch, the dedup hash probes, the names summary and the row encoding.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Stored } from "../src/internal/common.js"
import { bytesToUuid, HASH_SPACE, hash53, nextProbe } from "../src/internal/ids.js"
import {
  candidates,
  defaultWriterOptions,
  holdersOf,
  INSERT_COLUMNS,
  Keys,
  KeyScope,
  missingCustomers,
  namesStatements,
  nextProbes,
  rowValues,
  spreadHashes
} from "../src/internal/writePlan.js"

const ORG = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"

let n = 0
const stored = (fields: Partial<Stored> = {}): Stored => {
  n++
  return {
    orgId: ORG,
    id: `00000000-0000-7000-8000-${String(n).padStart(12, "0")}`,
    ts: 1_700_000_000_000_000 + n,
    name: "api.call",
    source: "user",
    customerId: null,
    externalCustomerId: "customer_1",
    memberId: null,
    externalMemberId: null,
    externalId: `ext-${n}`,
    parentId: null,
    parentRef: null,
    depth: 0,
    childCount: null,
    flags: 0,
    label: null,
    customer: null,
    metadata: { n },
    ingestedAt: 1_700_000_000_000_000,
    ...fields
  }
}

const scopeWith = (customers: ReadonlyArray<string> = []) => {
  const keys = new Keys()
  keys.orgs.set(ORG, 1)
  customers.forEach((c, i) => keys.customers.set(1, 1, c, 100 + i))
  return new KeyScope(keys)
}

describe("writePlan", () => {
  it("keeps the first of a batch's events with one id or one external id", () => {
    const a = stored({ externalId: "x" })
    const b = stored({ externalId: "x" })
    const c = stored({ id: a.id, externalId: "y" })
    const d = stored({ externalId: null })
    const got = candidates("sqlite", scopeWith(), [a, b, c, d], defaultWriterOptions)
    assert.deepStrictEqual(got.map((x) => x.index), [0, 3])
    assert.strictEqual(got[0]!.hash, hash53("x"))
    assert.strictEqual(got[1]!.hash, null)
  })

  it("orders PostgreSQL's candidates by organization, hash and id (one lock order)", () => {
    const batch = [stored({ externalId: "b" }), stored({ externalId: "a" }), stored({ externalId: "c" })]
    const got = candidates("pg", scopeWith(), batch, defaultWriterOptions)
    const hashes = got.map((c) => c.hash!)
    assert.deepStrictEqual(hashes, [...hashes].sort((x, y) => x - y))
  })

  it("walks hash collisions: the same external id is a duplicate, another one probes on", () => {
    const options = { hash: () => HASH_SPACE - 1 }
    const [a, b] = candidates("sqlite", scopeWith(), [stored({ externalId: "a" }), stored({ externalId: "b" })], options)
    // a's slot holds "a" (a duplicate), b's slot holds "a" too (a collision): b moves on, wrapping at 2^53
    const retry = nextProbes([a!, b!], holdersOf([{ ext_hash: HASH_SPACE - 1, external_id: "a" }]))
    assert.deepStrictEqual(retry, [b!])
    assert.strictEqual(b!.hash, 0)
    assert.strictEqual(nextProbe(0), 1)
    // no holder at all: the row's id existed
    assert.deepStrictEqual(nextProbes([b!], new Map()), [])
  })

  it("spreads new events that share a hash over the next probes", () => {
    const options = { hash: () => 42 }
    const got = candidates("sqlite", scopeWith(), [stored(), stored(), stored()], options)
    spreadHashes(got)
    assert.deepStrictEqual(got.map((c) => c.hash), [42, 43, 44])
    assert.deepStrictEqual(got.map((c) => c.base), [42, 42, 42])
  })

  it("lists the customers still to intern, in key order", () => {
    const scope = scopeWith(["known"])
    const batch = [
      stored({ externalCustomerId: "zed" }),
      stored({ externalCustomerId: "known" }),
      stored({ externalCustomerId: null, customerId: "992fae2a-2a17-4b7a-8d9e-e287cf90131b" }),
      stored({ externalCustomerId: "alpha" })
    ]
    assert.deepStrictEqual(missingCustomers(scope, batch), [
      { org: 1, kind: 0, value: "992fae2a-2a17-4b7a-8d9e-e287cf90131b" },
      { org: 1, kind: 1, value: "alpha" },
      { org: 1, kind: 1, value: "zed" }
    ])
  })

  it("sums the names summary by organization, source and name", () => {
    const batch = [
      stored({ name: "a", ts: 5 }),
      stored({ name: "a", ts: 2 }),
      stored({ name: "b", ts: 9 }),
      stored({ name: "a", ts: 7, source: "system" })
    ]
    const statements = namesStatements(candidates("sqlite", scopeWith(), batch, defaultWriterOptions))
    assert.strictEqual(statements.length, 1)
    assert.match(statements[0]!.sql, /^INSERT INTO pe_event_names .* ON CONFLICT \(org, name, source\) DO UPDATE/)
    assert.deepStrictEqual(statements[0]!.params, [1, "a", "user", 2, 2, 5, 1, "b", "user", 1, 9, 9, 1, "a", "system", 1, 7, 7])
  })

  it("encodes a row per dialect: ids as 16 bytes in SQLite, text in PostgreSQL", () => {
    const s = stored({ parentId: "992FAE2A-2A17-4B7A-8D9E-E287CF90131B".toLowerCase() })
    const scope = scopeWith(["customer_1"])
    const lookup = (org: number, kind: number, v: string) => scope.customer(org, kind, v)!
    const [c] = candidates("sqlite", scope, [s], defaultWriterOptions)
    const sqlite = rowValues("sqlite", c!, lookup)
    const pg = rowValues("pg", c!, lookup)
    assert.strictEqual(sqlite.length, INSERT_COLUMNS.length)
    const col = (name: (typeof INSERT_COLUMNS)[number]) => INSERT_COLUMNS.indexOf(name)
    assert.strictEqual(bytesToUuid(sqlite[col("id")] as Uint8Array), s.id)
    assert.strictEqual(pg[col("id")], s.id)
    assert.strictEqual(bytesToUuid(sqlite[col("parent_id")] as Uint8Array), s.parentId)
    assert.strictEqual(pg[col("xkey")], 100)
    assert.strictEqual(pg[col("ext_hash")], hash53(s.externalId!))
    assert.strictEqual(pg[col("metadata")], JSON.stringify(s.metadata))
  })
})
