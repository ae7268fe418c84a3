// What tests and benchmarks across the workspace share (see index.d.ts).

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

export const random = (seed) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const uuid4 = (rand) => {
  let s = ""
  for (let i = 0; i < 16; i++) {
    let b = Math.floor(rand() * 256)
    if (i === 6) b = (b & 0x0f) | 0x40
    if (i === 8) b = (b & 0x3f) | 0x80
    s += HEX[b]
    if (i === 3 || i === 5 || i === 7 || i === 9) s += "-"
  }
  return s
}

export const uuid7 = (ms, rand) => {
  const t = ms.toString(16).padStart(12, "0")
  let r = ""
  for (let k = 0; k < 10; k++) r += HEX[Math.floor(rand() * 256)]
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${"89ab"[Math.floor(rand() * 4)]}${r.slice(3, 6)}-${r.slice(6, 18)}`
}

export const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = []
    req.on("data", (c) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

export const listen = (server) =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`))
  })
