/**
 * Global setup, once for every test file:
 * 1. `pnpm pack` every publishable package (what `pnpm publish` uploads) into
 *    a temporary folder;
 * 2. start installing the tarballs into a consumer project outside the
 *    workspace (npm; better-sqlite3 compiles meanwhile), and core and the
 *    store alone into a project without database drivers;
 * 3. run the release checks of scripts/release-check.mjs (publint, attw,
 *    manifest, imports, README) on the tarballs while npm works.
 * The test files read the outcome with `inject("release")`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { checkPacked, packAll } from "../../../../scripts/release-check.mjs"
import { install, prepare, preparePortOnly, type Ran } from "./consumer.js"

/** One packed package and what each release check found wrong with it. */
export interface Packed {
  readonly name: string
  readonly dir: string
  readonly binOnly: boolean
  readonly tarball: string
  readonly files: ReadonlyArray<string>
  readonly manifest: Record<string, any>
  readonly checks: Record<"manifest" | "imports" | "readme" | "publint" | "attw", ReadonlyArray<string>>
}

/** What the setup hands to the test files. */
export interface Release {
  readonly outDir: string
  readonly results: ReadonlyArray<Packed>
  readonly consumer: { readonly dir: string; readonly install: Ran }
  /** a project with only core and the store's port, no database driver */
  readonly portOnly: { readonly dir: string; readonly install: Ran }
}

declare module "vitest" {
  export interface ProvidedContext {
    release: Release
  }
}

export default async function setup(project: TestProject) {
  const outDir = mkdtempSync(join(tmpdir(), "polar-events-release-"))
  const { packed } = packAll({ outDir })
  const consumerDir = prepare(packed)
  const portOnlyDir = preparePortOnly(packed)
  const installing = install(consumerDir)
  const installingPortOnly = install(portOnlyDir)
  const results = (await checkPacked(packed)) as ReadonlyArray<Packed>
  const installed = await installing
  const installedPortOnly = await installingPortOnly
  project.provide("release", {
    outDir,
    results,
    consumer: { dir: consumerDir, install: installed },
    portOnly: { dir: portOnlyDir, install: installedPortOnly }
  })
  return () => {
    rmSync(outDir, { recursive: true, force: true })
    rmSync(consumerDir, { recursive: true, force: true })
    rmSync(portOnlyDir, { recursive: true, force: true })
  }
}
