/**
 * Every publishable package as it would be published (its `pnpm pack`
 * tarball): publint and attw are clean, the manifest has ESM + CJS + types
 * behind `exports`, `sideEffects: false`, peers for `effect` and the shared
 * `@effect/*` packages and real version ranges, only dist, README and
 * CHANGELOG are published, every package the code imports is declared, and
 * the README says how to install and use it.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { inject } from "vitest"
import { caretSatisfies, catalogVersions, publishablePackages, root } from "../../../scripts/release-check.mjs"

const { results } = inject("release")

describe("the published packages", () => {
  it("are every non-private package of packages/ and apps/, each packed once", () => {
    const expected = ["packages", "apps"].flatMap((group) =>
      readdirSync(join(root, group)).flatMap((name) => {
        const manifest = JSON.parse(readFileSync(join(root, group, name, "package.json"), "utf8"))
        return manifest.private === true ? [] : [manifest.name as string]
      })
    ).sort()
    assert.deepStrictEqual(results.map((r) => r.name).sort(), expected)
    assert.deepStrictEqual(publishablePackages().map((p: { name: string }) => p.name).sort(), expected)
    for (const name of ["@polar-events/core", "@polar-events/store", "@polar-events/client", "@polar-events/server", "polar-events"]) {
      assert.include(expected, name)
    }
  })
})

describe("peer ranges", () => {
  it("are judged against the catalog's versions, the ones every test runs with", () => {
    assert.isTrue(caretSatisfies("^3.22.4", "3.22.4"))
    assert.isTrue(caretSatisfies("^3.22.4", "3.30.0"))
    assert.isFalse(caretSatisfies("^3.22.4", "3.22.3"))
    assert.isFalse(caretSatisfies("^3.22.4", "4.0.0"))
    assert.isTrue(caretSatisfies("^0.97.2", "0.97.9"))
    assert.isFalse(caretSatisfies("^0.97.2", "0.98.0"))
    assert.isFalse(caretSatisfies("^0.0.3", "0.0.4"))
    const catalog = catalogVersions() as Record<string, string>
    assert.match(catalog["effect"]!, /^3\./)
    for (const packed of results) {
      for (const [name, range] of Object.entries(packed.manifest.peerDependencies ?? {}) as Array<[string, string]>) {
        if (catalog[name] !== undefined) assert.isTrue(caretSatisfies(range, catalog[name]!), `${packed.name}: ${name} ${range}`)
      }
    }
  })
})

describe.each(results.map((r) => [r.name, r] as const))("%s", (_name, packed) => {
  it("publint finds nothing (errors, warnings or suggestions)", () => {
    assert.deepStrictEqual(packed.checks.publint, [])
  })

  it("attw finds no problem (node10, node16 from CJS and ESM, bundler)", () => {
    assert.deepStrictEqual(packed.checks.attw, [])
  })

  it("the manifest: exports, sideEffects, peers, real ranges, only dist + README + CHANGELOG", () => {
    assert.deepStrictEqual(packed.checks.manifest, [])
    for (const file of packed.files) {
      assert.match(file, /^(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE)/)
    }
    assert.notMatch(JSON.stringify(packed.manifest), /"(workspace|catalog):/)
  })

  it("every package its built code imports is declared", () => {
    assert.deepStrictEqual(packed.checks.imports, [])
  })

  it("the README has install instructions and an example", () => {
    assert.deepStrictEqual(packed.checks.readme, [])
  })

  if (!packed.binOnly) {
    it("ships ESM, CJS and a types file for each, and takes effect as a peer", () => {
      const dot = packed.manifest.exports["."]
      assert.match(dot.import.default, /\.js$/)
      assert.match(dot.require.default, /\.cjs$/)
      for (const path of [dot.import.types, dot.import.default, dot.require.types, dot.require.default]) {
        assert.include(packed.files, path.replace(/^\.\//, ""))
      }
      assert.notStrictEqual(dot.import.types, dot.require.types)
      assert.strictEqual(packed.manifest.sideEffects, false)
      assert.match(packed.manifest.peerDependencies.effect, /^\^3\./)
      assert.isUndefined(packed.manifest.dependencies?.effect)
    })
  }
})
