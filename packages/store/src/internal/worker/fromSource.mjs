// Runs a worker entry of the store from its TypeScript source through tsx:
// only when the store itself runs from source (its tests). The built package
// starts the compiled entries directly.
import { workerData } from "node:worker_threads"

const { tsImport } = await import("tsx/esm/api")
await tsImport(workerData.entry, import.meta.url)
