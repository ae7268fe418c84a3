import { library } from "../../tsup.base.js"

export default library({
  // checkWorker: the worker thread of `import` (see src/checkWorker.ts)
  entry: ["src/bin.ts", "src/checkWorker.ts"],
  format: ["esm"],
  treeshake: false,
  banner: { js: "#!/usr/bin/env node" }
})
