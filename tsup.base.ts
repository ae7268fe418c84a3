/**
 * The one tsup configuration of the workspace's packages: ESM and CommonJS
 * for Node 20 with source maps (the `.d.ts` files come from
 * scripts/release-dts.mjs, so tsup emits none). Each package's
 * tsup.config.ts passes only what differs.
 */
import { defineConfig, type Options } from "tsup"

/** A library package: `src/index.ts` (or `entry`) as ESM and CommonJS, tree-shaken. */
export const library = (options: Options = {}) =>
  defineConfig({
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: false,
    sourcemap: true,
    clean: true,
    target: "node20",
    treeshake: true,
    ...options
  })
