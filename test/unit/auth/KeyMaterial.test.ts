import * as fc from "fast-check"
import { afterEach, describe, expect, it, vi } from "vitest"
import {
  BASE62,
  generateKey,
  hashKey,
  looksLikeVirtualKey,
  isMaskedSecret,
  maskSecret,
  newId,
  randomBase62
} from "../../../src/auth/KeyMaterial.ts"
import { sha256Hex } from "../../../src/crypto/Sha256.ts"

const KEY_FORMAT = /^sk-lg-[0-9A-Za-z]{32}$/

/** Makes crypto.getRandomValues hand out `values` in order (then zeros). */
const feedRandom = (values: Array<number>) => {
  const queue = [...values]
  return vi.spyOn(crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
    if (array instanceof Uint8Array) for (let i = 0; i < array.length; i++) array[i] = queue.shift() ?? 0
    return array
  })
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe("generateKey", () => {
  it("gives sk-lg- and 32 base62 characters, its 12-character prefix and its SHA-256", async () => {
    const { key, prefix, hash } = generateKey()
    expect(key).toMatch(KEY_FORMAT)
    expect(prefix).toBe(key.slice(0, 12))
    expect(prefix).toMatch(/^sk-lg-[0-9A-Za-z]{6}$/)
    expect(hash).toBe(sha256Hex(key))
    expect(hash).toBe(hashKey(key))
    const web = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)))
    expect(hash).toBe(Array.from(web, (b) => b.toString(16).padStart(2, "0")).join(""))
  })

  it("never repeats a key over 20,000 draws and uses the base62 alphabet only", () => {
    const keys = new Set<string>()
    const hashes = new Set<string>()
    for (let i = 0; i < 20_000; i++) {
      const { key, hash } = generateKey()
      expect(KEY_FORMAT.test(key)).toBe(true)
      keys.add(key)
      hashes.add(hash)
    }
    expect(keys.size).toBe(20_000)
    expect(hashes.size).toBe(20_000)
  })
})

describe("randomBase62", () => {
  it("draws every base62 character with the same probability (chi-square, 61 degrees of freedom)", () => {
    const text = randomBase62(310_000)
    const counts = new Map<string, number>()
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect([...counts.keys()].sort().join("")).toBe([...BASE62].sort().join(""))
    const expected = text.length / 62
    const chi2 = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0)
    // Mean 61, sd ≈ 11; 140 is exceeded by chance with p < 1e-7. A `byte % 62` bias would give ≈ 2,000.
    expect(chi2).toBeLessThan(140)
  })

  it("rejects the random values 62 and 63 instead of folding them onto the alphabet", () => {
    // Low 6 bits: 62, 63, 0, 63, 62, 63, 61, 5, then zeros.
    feedRandom([62, 63, 0, 127, 190, 255, 61, 69])
    expect(randomBase62(4)).toBe("0z50")
  })

  it("draws again when a whole batch is rejected", () => {
    const spy = feedRandom([...Array<number>(12).fill(63), 1, 2, 3, 4])
    expect(randomBase62(4)).toBe("1234")
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it("returns the empty string for length 0", () => {
    expect(randomBase62(0)).toBe("")
  })
})

describe("looksLikeVirtualKey", () => {
  it("accepts generated keys", () => {
    for (let i = 0; i < 100; i++) expect(looksLikeVirtualKey(generateKey().key)).toBe(true)
  })

  it("rejects other tokens", () => {
    const body = "a".repeat(32)
    for (const token of [
      "",
      "sk-lg-",
      `sk-lg-${body.slice(1)}`,
      `sk-lg-${body}a`,
      `SK-LG-${body}`,
      `sk-${body}`,
      `sk-lg-${body.slice(1)}-`,
      `sk-lg-${body.slice(1)}_`,
      ` sk-lg-${body}`,
      `sk-lg-${body}\n`,
      "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    ]) {
      expect(looksLikeVirtualKey(token), JSON.stringify(token)).toBe(false)
    }
  })
})

describe("maskSecret", () => {
  it("keeps the empty string empty", () => {
    expect(maskSecret("")).toBe("")
  })

  it("hides values shorter than 20 characters entirely (7 of them were shown before)", () => {
    for (const s of ["a", "abcd", "12345678", "123456789", "sk-0123456789abcdef"]) expect(maskSecret(s)).toBe("****")
  })

  it("shows the last 4 characters of values of 20 or more, nothing of their start", () => {
    expect(maskSecret("sk-0123456789abcdefg")).toBe("****defg")
    expect(maskSecret("sk-proj-0123456789abcd")).toBe("****abcd")
    expect(maskSecret(generateKey().key)).toMatch(/^\*{4}[0-9A-Za-z]{4}$/)
  })

  it("never shows more than the last 4 characters, and those only of 20 or more", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (secret) => {
        const masked = maskSecret(secret)
        const chars = Array.from(secret)
        if (secret === "") expect(masked).toBe("")
        else if (chars.length < 20) expect(masked).toBe("****")
        else expect(masked).toBe(`****${chars.slice(-4).join("")}`)
        expect(isMaskedSecret(masked) || masked === "").toBe(true)
      })
    )
  })

  it("does not cut surrogate pairs in half", () => {
    const masked = maskSecret("😀".repeat(20))
    expect(masked).toBe("****😀😀😀😀")
    expect(masked.isWellFormed()).toBe(true)
  })
})

describe("isMaskedSecret", () => {
  it("recognises what maskSecret shows, and the earlier sk-…abcd form", () => {
    for (const m of ["****", "****abcd", "****😀😀😀😀", "sk-…abcd", "…abcd"]) expect(isMaskedSecret(m)).toBe(true)
  })

  it("takes real secrets for secrets", () => {
    for (const s of ["sk-0123456789abcdef", "***", "*****abcde", "sk-…abcdef", "abcd", generateKey().key])
      expect(isMaskedSecret(s)).toBe(false)
  })
})

describe("newId", () => {
  it("gives the kind, an underscore and 20 base62 characters", () => {
    for (const kind of ["prj", "usr", "key"] as const) {
      expect(newId(kind)).toMatch(new RegExp(`^${kind}_[0-9A-Za-z]{20}$`))
    }
  })

  it("never repeats over 20,000 draws", () => {
    const ids = new Set<string>()
    for (let i = 0; i < 20_000; i++) ids.add(newId("prj"))
    expect(ids.size).toBe(20_000)
  })
})
