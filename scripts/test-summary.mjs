// Sums the vitest JSON reports of every package into one plain line:
// "N passed, N failed, N skipped". Exits 1 when a test failed, when a package
// wrote no report, or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
let passed = 0, failed = 0, skipped = 0
const missing = []
for (const group of ["packages", "apps", "examples", "tests"]) {
  const dir = join(root, group)
  if (!existsSync(dir)) continue
  for (const name of readdirSync(dir)) {
    if (!existsSync(join(dir, name, "package.json"))) continue
    const pkg = JSON.parse(readFileSync(join(dir, name, "package.json"), "utf8"))
    if (!pkg.scripts?.test) continue
    const report = join(dir, name, ".vitest", "results.json")
    if (!existsSync(report)) {
      missing.push(`${group}/${name}`)
      continue
    }
    const r = JSON.parse(readFileSync(report, "utf8"))
    passed += r.numPassedTests
    failed += r.numFailedTests
    skipped += r.numPendingTests + r.numTodoTests
    // a file that failed to load counts as a failure even if no test in it ran
    for (const f of r.testResults ?? []) {
      if (f.status === "failed" && (f.assertionResults ?? []).length === 0) failed += 1
    }
  }
}
for (const m of missing) console.log(`no test report from ${m}`)
failed += missing.length
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
