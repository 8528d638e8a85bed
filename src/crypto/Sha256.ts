/**
 * Synchronous SHA-256 (FIPS 180-4). The request path hashes the presented virtual key on every
 * request to look it up by hash; WebCrypto's `digest` is async, so this is the sync path. Pure and
 * platform-agnostic: no state outside the constant tables, every call allocates its own buffers.
 *
 * Measured on Node 24.21 (2-core 2 GHz Xeon VM, shared with other test runs; throwaway loop, best of
 * 12 × 500k calls after warm-up): `sha256Hex` of a 50-character ASCII key ≈ 0.85 µs per hash
 * (median ≈ 0.9–1.0 µs), on par with `node:crypto` `createHash` (≈ 0.9 µs). About half is the one
 * compression; the rest is hex output and allocation. Buffers are kept to ≤ 64 bytes on purpose:
 * V8 allocates those typed arrays on its heap, larger ones cost ≈ 1–2 µs each here.
 */

/** Round constants K0..K63: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])

/** Initial hash value H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const H0 = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** Character codes of "0".."9", "a".."f". */
const HEX_DIGITS: ReadonlyArray<number> = Array.from("0123456789abcdef", (c) => c.charCodeAt(0))

/**
 * Processes one 64-byte block, given as 16 big-endian words in `w`, into `state` (FIPS 180-4
 * §6.2.2). The message schedule is computed in place in `w` (a rolling window of 16 words), so `w`
 * is clobbered. Rounds 0–15 read the block; rounds 16–63 extend the schedule first. Ch and Maj use
 * the equivalent forms `g ^ (e & (f ^ g))` and `(a & b) | (c & (a | b))`.
 */
const compress = (state: Int32Array, w: Int32Array): void => {
  let a = state[0]!
  let b = state[1]!
  let c = state[2]!
  let d = state[3]!
  let e = state[4]!
  let f = state[5]!
  let g = state[6]!
  let h = state[7]!
  for (let t = 0; t < 64; t++) {
    let wt: number
    if (t < 16) {
      wt = w[t]!
    } else {
      const x = w[(t - 15) & 15]!
      const y = w[(t - 2) & 15]!
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
      wt = (w[t & 15]! + s0 + w[(t - 7) & 15]! + s1) | 0
      w[t & 15] = wt
    }
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + (g ^ (e & (f ^ g))) + K[t]! + wt) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) | (c & (a | b)))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  state[0] = (state[0]! + a) | 0
  state[1] = (state[1]! + b) | 0
  state[2] = (state[2]! + c) | 0
  state[3] = (state[3]! + d) | 0
  state[4] = (state[4]! + e) | 0
  state[5] = (state[5]! + f) | 0
  state[6] = (state[6]! + g) | 0
  state[7] = (state[7]! + h) | 0
}

/**
 * Appends the byte at message position `pos` to the current block and compresses the block when
 * it is full; returns the next position. The first byte of a word assigns it, so no clearing is
 * needed between blocks.
 */
const put = (state: Int32Array, w: Int32Array, pos: number, byte: number): number => {
  const i = pos & 63
  const shift = 24 - ((i & 3) << 3)
  w[i >> 2] = (i & 3) === 0 ? byte << 24 : w[i >> 2]! | (byte << shift)
  if (i === 63) compress(state, w)
  return pos + 1
}

/** Pads a message of `length` bytes (all put already) per FIPS 180-4 §5.1.1 and compresses the rest. */
const finish = (state: Int32Array, w: Int32Array, length: number): void => {
  put(state, w, length, 0x80)
  const used = (length + 1) & 63
  // Clear the words after the one holding 0x80; if the 64-bit length no longer fits, flush first.
  for (let j = (used + 3) >> 2; j < 16; j++) w[j] = 0
  if (used > 56) {
    compress(state, w)
    w.fill(0)
  }
  // The message length in bits, 64-bit big-endian (exact for lengths below 2^53 bits).
  w[14] = Math.floor(length / 0x20000000)
  w[15] = length << 3
  compress(state, w)
}

/** Fresh state and block; both fit in V8's on-heap typed arrays (≤ 64 bytes), which allocate cheaply. */
const start = (): { readonly state: Int32Array; readonly w: Int32Array } => ({ state: new Int32Array(H0), w: new Int32Array(16) })

const digestBytes = (bytes: Uint8Array): Int32Array => {
  const { state, w } = start()
  const length = bytes.length
  const whole = length - (length % 64)
  for (let offset = 0; offset < whole; offset += 64) {
    for (let j = 0; j < 16; j++) {
      const k = offset + (j << 2)
      w[j] = (bytes[k]! << 24) | (bytes[k + 1]! << 16) | (bytes[k + 2]! << 8) | bytes[k + 3]!
    }
    compress(state, w)
  }
  for (let pos = whole; pos < length; pos++) put(state, w, pos, bytes[pos]!)
  finish(state, w, length)
  return state
}

/** Hashes the UTF-8 encoding of `text` without materialising it. Lone surrogates become U+FFFD, as with `TextEncoder`. */
const digestUtf8 = (text: string): Int32Array => {
  const { state, w } = start()
  const n = text.length
  let pos = 0
  let i = 0
  // Leading ASCII, four characters to a word (keys are ASCII); `pos` stays word-aligned here.
  for (; i + 4 <= n; i += 4) {
    const c0 = text.charCodeAt(i)
    const c1 = text.charCodeAt(i + 1)
    const c2 = text.charCodeAt(i + 2)
    const c3 = text.charCodeAt(i + 3)
    if ((c0 | c1 | c2 | c3) >= 0x80) break
    w[(pos & 63) >> 2] = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3
    pos += 4
    if ((pos & 63) === 0) compress(state, w)
  }
  for (; i < n; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      pos = put(state, w, pos, c)
      continue
    }
    if (c < 0x800) {
      pos = put(state, w, pos, 0xc0 | (c >> 6))
      pos = put(state, w, pos, 0x80 | (c & 0x3f))
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        pos = put(state, w, pos, 0xf0 | (cp >> 18))
        pos = put(state, w, pos, 0x80 | ((cp >> 12) & 0x3f))
        pos = put(state, w, pos, 0x80 | ((cp >> 6) & 0x3f))
        pos = put(state, w, pos, 0x80 | (cp & 0x3f))
        continue
      }
      c = 0xfffd
    }
    pos = put(state, w, pos, 0xe0 | (c >> 12))
    pos = put(state, w, pos, 0x80 | ((c >> 6) & 0x3f))
    pos = put(state, w, pos, 0x80 | (c & 0x3f))
  }
  finish(state, w, pos)
  return state
}

/** The state as 64 lowercase hex digits, built from character codes (no string concatenation). */
const toHex = (state: Int32Array): string => {
  const codes = new Array<number>(64)
  for (let i = 0; i < 8; i++) {
    const v = state[i]!
    for (let j = 0; j < 8; j++) codes[(i << 3) + j] = HEX_DIGITS[(v >>> (28 - (j << 2))) & 15]!
  }
  return String.fromCharCode(...codes)
}

const toBytes = (state: Int32Array): Uint8Array => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 8; i++) {
    const v = state[i]!
    out[i << 2] = v >>> 24
    out[(i << 2) + 1] = v >>> 16
    out[(i << 2) + 2] = v >>> 8
    out[(i << 2) + 3] = v
  }
  return out
}

/** SHA-256 of `bytes`: 32 bytes. */
export const sha256 = (bytes: Uint8Array): Uint8Array => toBytes(digestBytes(bytes))

/** SHA-256 of the UTF-8 encoding of `text`, as 64 lowercase hex characters. */
export const sha256Hex = (text: string): string => toHex(digestUtf8(text))
