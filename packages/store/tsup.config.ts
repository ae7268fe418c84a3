import { library } from "../../tsup.base.js"

export default library({
  // src/internal/worker/*: the entries of the SQLite worker threads, started beside the bundle
  entry: ["src/index.ts", "src/sql.ts", "src/internal/worker/writer.ts", "src/internal/worker/checkpointer.ts"],
  // one copy of the port (its tag and error classes) shared by both entries, in CommonJS too
  splitting: true,
  // import.meta.url in the CommonJS build (the worker threads' entries are found from it)
  shims: true,
  // a native module: loaded at run time, never bundled
  external: ["better-sqlite3"]
})
