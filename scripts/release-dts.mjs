#!/usr/bin/env node
// Emits a package's type declarations one file per module, for ESM and CJS:
//
//   dist/dts/**/*.d.ts      the `import` condition's types (the package is "type": "module")
//   dist/dts-cjs/**/*.d.ts  the same files under a package.json {"type": "commonjs"}: the `require` types
//
// Run it in a package folder after tsup (with tsup's `dts: false`):
//   "build": "tsup && node ../../scripts/release-dts.mjs"
// and point the exports map at them:
//   "types": "./dist/dts/index.d.ts",
//   "exports": { ".": {
//     "import": { "types": "./dist/dts/index.d.ts", "default": "./dist/index.js" },
//     "require": { "types": "./dist/dts-cjs/index.d.ts", "default": "./dist/index.cjs" } } }
//
// Why not tsup's bundled .d.ts: its bundler (rollup-plugin-dts 6.1) rewrites
// each `export * as Meter from "./Meter.js"` into a `declare namespace` and
// keeps only one meaning of every name that is both a type and a value, the
// Effect idiom (`export const Filter: Schema<Filter>` + `export interface
// Filter`): `Meter.Filter` loses its type, `Meter.Aggregation` its value, and
// a consumer's `tsc` fails. tsc's own declarations keep both.
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const pkgDir = resolve(process.argv[2] ?? process.cwd())
if (!existsSync(join(pkgDir, "package.json"))) {
  console.error(`release-dts: no package.json in ${pkgDir}`)
  process.exit(2)
}

const esmOut = join(pkgDir, "dist", "dts")
const cjsOut = join(pkgDir, "dist", "dts-cjs")
rmSync(esmOut, { recursive: true, force: true })
rmSync(cjsOut, { recursive: true, force: true })

// a build tsconfig: the repo's compiler options, `src` only, no `paths` (the
// other packages resolve to their published declarations, as for a user)
const configDir = join(pkgDir, "node_modules", ".cache", "release-dts")
mkdirSync(configDir, { recursive: true })
const tsconfig = join(configDir, "tsconfig.json")
writeFileSync(
  tsconfig,
  JSON.stringify(
    {
      extends: relative(configDir, join(root, "tsconfig.base.json")),
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        declarationMap: false,
        sourceMap: false,
        rootDir: relative(configDir, join(pkgDir, "src")),
        outDir: relative(configDir, esmOut),
        tsBuildInfoFile: null
      },
      include: [relative(configDir, join(pkgDir, "src"))]
    },
    null,
    2
  )
)

const requireFromPkg = createRequire(join(pkgDir, "package.json"))
const tsc = requireFromPkg.resolve("typescript/bin/tsc")
try {
  execFileSync(process.execPath, [tsc, "-p", tsconfig], { cwd: pkgDir, stdio: "inherit" })
} catch {
  console.error(`release-dts: tsc failed for ${relative(root, pkgDir)}`)
  process.exit(1)
}

cpSync(esmOut, cjsOut, { recursive: true })
writeFileSync(join(cjsOut, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`)
console.log(`release-dts: ${relative(root, esmOut)} and ${relative(root, cjsOut)}`)
