import { randomFillSync } from "node:crypto"

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const POOL_SIZE = 16 * 1024
const pool = new Uint8Array(POOL_SIZE)
let offset = POOL_SIZE

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random
 * bits, so ids made in sequence sort and index like a sequence. Random bytes
 * come from a pool refilled by the CSPRNG, not one system call per id.
 * @internal
 */
export const uuidV7 = (now: number): string => {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const r = offset
  offset += 10
  return (
    prefix(now) +
    HEX[0x70 | (pool[r]! & 0x0f)]! + HEX[pool[r + 1]!]! + "-" +
    HEX[0x80 | (pool[r + 2]! & 0x3f)]! + HEX[pool[r + 3]!]! + "-" +
    HEX[pool[r + 4]!]! + HEX[pool[r + 5]!]! + HEX[pool[r + 6]!]! + HEX[pool[r + 7]!]! + HEX[pool[r + 8]!]! +
    HEX[pool[r + 9]!]!
  )
}

let prefixMs = -1
let prefixText = ""

/** `tttttttt-tttt-`: the 48-bit millisecond timestamp, the same for every id of one millisecond */
const prefix = (now: number): string => {
  if (now !== prefixMs) {
    prefixMs = now
    const high = Math.floor(now / 0x1000000)
    const low = now % 0x1000000
    prefixText = HEX[(high >>> 16) & 0xff]! + HEX[(high >>> 8) & 0xff]! + HEX[high & 0xff]! +
      HEX[(low >>> 16) & 0xff]! + "-" + HEX[(low >>> 8) & 0xff]! + HEX[low & 0xff]! + "-"
  }
  return prefixText
}
