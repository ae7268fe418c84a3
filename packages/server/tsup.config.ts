import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  treeshake: true,
  // loaded on demand by `layerServe`; an application that mounts the routes itself never needs it
  external: ["@effect/platform-node"]
})
