import { defineConfig } from "tsup"

export default defineConfig({
  // checkWorker: the worker thread of `import` (see src/checkWorker.ts)
  entry: ["src/bin.ts", "src/checkWorker.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  banner: { js: "#!/usr/bin/env node" }
})
