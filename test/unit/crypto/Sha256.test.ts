import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sha256, sha256Hex } from "../../../src/crypto/Sha256.ts"

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const webDigest = async (bytes: Uint8Array<ArrayBuffer>) =>
  hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
const utf8 = (text: string) => new TextEncoder().encode(text)

// FIPS 180-4 examples (csrc.nist.gov, SHA256.pdf / SHA2_Additional) and the "one million a" vector.
const VECTORS: ReadonlyArray<readonly [string, string, string]> = [
  ["empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [
    "448-bit message",
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
  ],
  [
    "896-bit message",
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
  ],
  ["one million a", "a".repeat(1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"]
]

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))

describe("sha256Hex", () => {
  for (const [name, message, digest] of VECTORS) {
    it(`matches the FIPS 180-4 vector: ${name}`, () => {
      expect(sha256Hex(message)).toBe(digest)
      expect(hex(sha256(utf8(message)))).toBe(digest)
    })
  }

  it("hashes the UTF-8 encoding of non-ASCII text", async () => {
    for (const text of ["é", "€", "日本語", "😀", "a😀b", "\u0000", "\u07ff\u0800\uffff"]) {
      expect(sha256Hex(text)).toBe(await webDigest(utf8(text)))
    }
  })

  it("switches from ASCII to other characters at every offset within a word and a block", async () => {
    for (let k = 0; k <= 70; k++) {
      for (const other of ["é", "€", "😀", "\ud800"]) {
        const text = "a".repeat(k) + other + "b".repeat(k % 7)
        expect(sha256Hex(text), `${k} × a + ${JSON.stringify(other)}`).toBe(await webDigest(utf8(text)))
      }
    }
  })

  it("encodes lone surrogates as U+FFFD, like TextEncoder", async () => {
    for (const text of ["\ud800", "\udc00", "a\ud800b", "\udc00\ud800", "\ud83d"]) {
      expect(sha256Hex(text)).toBe(await webDigest(utf8(text)))
    }
  })

  it("agrees with WebCrypto on random Unicode strings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.string({ unit: codeUnit, maxLength: 200 }),
          fc.string({ maxLength: 200 })
        ),
        async (text) => {
          expect(sha256Hex(text)).toBe(await webDigest(utf8(text)))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("gives 64 lowercase hex characters", () => {
    fc.assert(fc.property(fc.string(), (text) => /^[0-9a-f]{64}$/.test(sha256Hex(text))))
  })
})

describe("sha256", () => {
  it("agrees with WebCrypto at every length from 0 to 300 bytes (padding and block boundaries)", async () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n))
      expect(hex(sha256(bytes)), `length ${n}`).toBe(await webDigest(bytes))
    }
  })

  it("agrees with WebCrypto on random byte arrays", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (bytes) => {
        expect(hex(sha256(bytes))).toBe(await webDigest(bytes))
      }),
      { numRuns: 300 }
    )
  })

  it("hashes only the viewed bytes of a subarray", async () => {
    const backing = crypto.getRandomValues(new Uint8Array(300))
    for (const [start, end] of [
      [1, 1],
      [3, 70],
      [7, 200],
      [13, 300]
    ] as const) {
      const view = backing.subarray(start, end)
      expect(hex(sha256(view))).toBe(await webDigest(view.slice()))
    }
  })

  it("returns 32 bytes and leaves its input untouched", () => {
    const input = crypto.getRandomValues(new Uint8Array(130))
    const copy = input.slice()
    const digest = sha256(input)
    expect(digest).toBeInstanceOf(Uint8Array)
    expect(digest.length).toBe(32)
    expect(input).toEqual(copy)
  })

  it("gives the same digest as sha256Hex for the UTF-8 bytes", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => hex(sha256(utf8(text))) === sha256Hex(text)))
  })
})
