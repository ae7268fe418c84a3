#!/usr/bin/env node
// Runs `attw` (@arethetypeswrong/cli) with its arguments.
//
// @arethetypeswrong/core 0.18.2 keeps only the last chunk fflate's streaming
// Gunzip emits, and fflate 0.8.3 ends every stream with an empty chunk, so
// every tarball reads as empty ("Cannot read properties of undefined (reading
// 'filename')", arethetypeswrong/arethetypeswrong.github.io#262). When the
// installed fflate behaves that way, core's `fflate` import is served by a
// Gunzip that hands over the whole tarball at once (node:zlib). With fflate
// pinned to 0.8.2 (or a fixed attw) this wrapper runs attw unchanged.
import { createRequire, register } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { gzipSync } from "node:zlib"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const requireFromRoot = createRequire(join(root, "package.json"))
const cliPackageJson = requireFromRoot.resolve("@arethetypeswrong/cli/package.json")
const requireFromCli = createRequire(cliPackageJson)
const corePackageJson = requireFromCli.resolve("@arethetypeswrong/core/package.json")
const requireFromCore = createRequire(corePackageJson)

const { Gunzip } = await import(pathToFileURL(requireFromCore.resolve("fflate")).href)
const chunks = []
new Gunzip((chunk) => chunks.push(chunk)).push(new Uint8Array(gzipSync(Buffer.from("attw"))), true)
const broken = chunks.length !== 1 || chunks[0].length !== 4

if (broken) register("./release-attw-hooks.mjs", import.meta.url)

process.argv = [process.argv[0], "attw", ...process.argv.slice(2)]
await import(pathToFileURL(join(dirname(cliPackageJson), "dist", "index.js")).href)
