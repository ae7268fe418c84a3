/**
 * `pnpm bench`: runs every benchmark and prints one table of ours, baseline
 * and ratio, all measured in this run. `pnpm bench <filter>` runs only the
 * suites whose name contains the filter.
 */
import { ratio, type Row } from "./Bench.js"

interface Suite {
  readonly name: string
  readonly load: () => Promise<{ readonly run: () => Promise<ReadonlyArray<Row>> }>
}

const suites: ReadonlyArray<Suite> = [
  { name: "core", load: () => import("./core.js") },
  { name: "store", load: () => import("./store.js") },
  { name: "client", load: () => import("./client.js") },
  { name: "server", load: () => import("./server.js") },
  { name: "cli", load: () => import("./cli.js") }
]

const fmt = (n: number): string =>
  !Number.isFinite(n) ? "-" : Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(Math.abs(n) >= 10 ? 1 : 2)

const main = async () => {
  const filter = process.argv[2]
  const rows: Array<Row> = []
  for (const suite of suites) {
    if (filter !== undefined && !suite.name.includes(filter)) continue
    process.stderr.write(`running ${suite.name} ...\n`)
    const mod = await suite.load()
    rows.push(...(await mod.run()))
  }
  const header = ["what", "ours", "baseline", "unit", "ratio", "baseline is", "target", "note"]
  const table = rows.map((r) => [
    r.what, fmt(r.ours), fmt(r.baseline), r.unit, Number.isFinite(ratio(r)) ? ratio(r).toFixed(2) + "x" : "-",
    r.baselineName, r.target ?? "", r.note ?? ""
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |"
  console.log(line(header))
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|")
  for (const row of table) console.log(line(row))
  console.log("\nratio: above 1.00x is better than the baseline (rates: ours/baseline; latency and memory: baseline/ours).")
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
