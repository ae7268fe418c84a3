import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  treeshake: true,
  // import.meta.url in the CommonJS build (the checkpointer resolves the driver from it)
  shims: true,
  // a native module: loaded at run time, never bundled
  external: ["better-sqlite3"]
})
