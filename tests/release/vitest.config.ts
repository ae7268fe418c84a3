import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // packs every package once, installs the tarballs into a consumer project and runs publint and attw meanwhile
    globalSetup: ["test/setup/global.ts"],
    // one file at a time: the consumer tests run tsc and node programs on shared cores
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]]
  }
})
