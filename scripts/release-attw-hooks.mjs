// Module hooks for scripts/release-attw.mjs: @arethetypeswrong/core's
// `fflate` import gets a Gunzip that emits the whole tarball in one chunk.
const gunzip = `import { gunzipSync } from "node:zlib"
export class Gunzip {
  constructor(ondata) { this.ondata = ondata; this.parts = [] }
  push(chunk, final) {
    this.parts.push(chunk)
    if (final) {
      const out = gunzipSync(Buffer.concat(this.parts))
      this.ondata(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), true)
    }
  }
}`

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "fflate" && context.parentURL?.includes("/@arethetypeswrong/core/")) {
    return { url: `data:text/javascript,${encodeURIComponent(gunzip)}`, shortCircuit: true }
  }
  return nextResolve(specifier, context)
}
