/**
 * Keeps the heap of long streaming commands bounded. V8 lets the old
 * generation grow to several times what is live before it collects when the
 * machine has memory to spare; an import of a million events then peaks far
 * above what it holds. `relieve` runs a full collection when the heap has
 * grown past a ceiling, so the peak stays near the ceiling.
 *
 * @internal
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

let collect: (() => void) | undefined

const gc = (): (() => void) | undefined => {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc")
      const gc = vm.runInNewContext("gc") as (options?: { type?: string; execution?: string }) => void
      collect = () => gc({ type: "major", execution: "async" })
    } catch {
      collect = () => {}
    }
  }
  return collect
}

/**
 * A check to call between batches: collects when the used heap is above
 * `ceilingMiB`.
 *
 * @internal
 */
export const governor = (ceilingMiB: number): (() => void) => {
  const ceiling = ceilingMiB * 1024 * 1024
  const run = gc()
  let calls = 0
  return () => {
    if (++calls % 4 !== 0) return
    if (v8.getHeapStatistics().used_heap_size > ceiling) run?.()
  }
}
