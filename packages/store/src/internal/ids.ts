/**
 * Compact keys: UUIDs as 16 bytes and external ids as 53-bit hashes.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

const nibble = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87)

/** The 16 bytes of a hyphenated UUID (any case). @internal */
export const uuidToBytes = (s: string): Buffer => {
  const out = Buffer.allocUnsafe(16)
  let j = 0
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++
    out[j++] = (nibble(s.charCodeAt(i)) << 4) | nibble(s.charCodeAt(i + 1))
  }
  return out
}

/** The lowercase hyphenated text of 16 UUID bytes. @internal */
export const bytesToUuid = (b: Uint8Array): string =>
  HEX[b[0]!]! + HEX[b[1]!]! + HEX[b[2]!]! + HEX[b[3]!]! + "-" + HEX[b[4]!]! + HEX[b[5]!]! + "-" + HEX[b[6]!]! +
  HEX[b[7]!]! + "-" + HEX[b[8]!]! + HEX[b[9]!]! + "-" + HEX[b[10]!]! + HEX[b[11]!]! + HEX[b[12]!]! + HEX[b[13]!]! +
  HEX[b[14]!]! + HEX[b[15]!]!

/** 2^53: hashes live in [0, 2^53) so they are exact JavaScript numbers and fit SQLite/PostgreSQL integers. @internal */
export const HASH_SPACE = 9007199254740992

/**
 * A 53-bit hash of a string (cyrb53). The dedup index stores it instead of
 * the external id; a collision is resolved by probing `h + 1, h + 2, ...`.
 *
 * @internal
 */
export const hash53 = (s: string): number => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/** The next probe of a hash. @internal */
export const nextProbe = (h: number): number => (h + 1 >= HASH_SPACE ? 0 : h + 1)
