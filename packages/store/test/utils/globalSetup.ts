/**
 * Vitest global setup: one PostgreSQL for the whole run (see
 * `postgres.ts` for where it comes from), its admin URL handed to the test
 * files as `inject("pgUrl")`. Each suite then creates its own database.
 */
import type { TestProject } from "vitest/node"
import { startPostgres } from "./postgres.js"

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string
  }
}

export default async function setup(project: TestProject) {
  const server = await startPostgres()
  project.provide("pgUrl", server.url)
  return async () => {
    await server.stop()
  }
}
