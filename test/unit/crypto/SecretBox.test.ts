import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Base64Url from "effect/encoding/Base64Url"
import * as fc from "fast-check"
import { isSealed, makeSecretBox, SEALED_PREFIX, SecretBoxError } from "../../../src/crypto/SecretBox.ts"

const CONTEXT = "provider:openai:api_key"

const keyBytes = () => crypto.getRandomValues(new Uint8Array(32))
const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const base64Of = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

/** A key that needs both base64 alphabets' special characters (so the forms really differ). */
const awkwardKey = () => {
  const bytes = keyBytes()
  bytes.set([0xfb, 0xff, 0xbf, 0xfe], 0) // "+/+/"-ish in base64, "-_-_" in base64url
  return bytes
}

const sealedBytes = (sealed: string) => {
  const body = sealed.slice(SEALED_PREFIX.length).replace(/-/g, "+").replace(/_/g, "/")
  return Uint8Array.from(atob(body + "=".repeat((4 - (body.length % 4)) % 4)), (c) => c.charCodeAt(0))
}

const flipBit = (sealed: string, index: number) => {
  const bytes = sealedBytes(sealed)
  const i = index < 0 ? bytes.length + index : index
  bytes[i] = bytes[i]! ^ 0x01
  return SEALED_PREFIX + Base64Url.encode(bytes)
}

const failure = <A>(effect: Effect.Effect<A, SecretBoxError>) => Effect.flip(effect)

/** Asserts that no 8-character piece of `value` shows up in `message`. */
const assertNotEchoed = (message: string, value: string) => {
  for (let i = 0; i + 8 <= value.length; i++) assert.notInclude(message, value.slice(i, i + 8))
}

describe("SecretBox", () => {
  it.effect("opens what it sealed, including Unicode and the empty string", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      for (const plaintext of ["sk-proj-abc123", "", "pässwörd €", "日本語のキー", "😀🔑", "x".repeat(10_000)]) {
        const sealed = yield* box.seal(plaintext, CONTEXT)
        assert.isTrue(sealed.startsWith(SEALED_PREFIX))
        assert.match(sealed.slice(SEALED_PREFIX.length), /^[A-Za-z0-9_-]+$/)
        assert.notInclude(sealed, plaintext === "" ? "\u0000" : plaintext)
        assert.strictEqual(yield* box.open(sealed, CONTEXT), plaintext)
      }
    })
  )

  it.effect("round-trips random strings", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.string({ unit: "binary", maxLength: 300 }),
            fc.string({ maxLength: 40 }),
            (plaintext, context) =>
              Effect.runPromise(
                box.seal(plaintext, context).pipe(
                  Effect.flatMap((sealed) => box.open(sealed, context)),
                  Effect.map((opened) => assert.strictEqual(opened, plaintext))
                )
              )
          ),
          { numRuns: 100 }
        )
      )
    })
  )

  it.effect("uses a 12-byte IV and a 16-byte tag, fresh each time", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      const a = yield* box.seal("same", CONTEXT)
      const b = yield* box.seal("same", CONTEXT)
      assert.notStrictEqual(a, b)
      assert.notDeepEqual(sealedBytes(a).subarray(0, 12), sealedBytes(b).subarray(0, 12))
      assert.strictEqual(sealedBytes(a).length, 12 + 4 + 16)
      assert.strictEqual(yield* box.open(a, CONTEXT), "same")
      assert.strictEqual(yield* box.open(b, CONTEXT), "same")
    })
  )

  it.effect("refuses to open a value sealed under another key", () =>
    Effect.gen(function* () {
      const mine = yield* makeSecretBox(hexOf(keyBytes()))
      const theirs = yield* makeSecretBox(hexOf(keyBytes()))
      const sealed = yield* theirs.seal("sk-secret", CONTEXT)
      const error = yield* failure(mine.open(sealed, CONTEXT))
      assert.instanceOf(error, SecretBoxError)
      assert.strictEqual(error._tag, "SecretBoxError")
      assert.strictEqual(error.reason, "Tampered")
      assert.include(error.message, "LLMGATE_ENCRYPTION_KEY")
      assert.include(error.message, CONTEXT)
      assertNotEchoed(error.message, sealed)
    })
  )

  it.effect("refuses to open a value bound to another context", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      const sealed = yield* box.seal("sk-secret", "provider:openai:api_key")
      for (const other of ["provider:anthropic:api_key", "provider:openai:api_key ", ""]) {
        const error = yield* failure(box.open(sealed, other))
        assert.strictEqual(error.reason, "Tampered")
      }
      assert.strictEqual(yield* box.open(sealed, "provider:openai:api_key"), "sk-secret")
    })
  )

  it.effect("detects a flipped bit in the IV, the ciphertext or the tag", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      const sealed = yield* box.seal("sk-secret-value", CONTEXT)
      const length = sealedBytes(sealed).length
      for (let i = 0; i < length; i++) {
        const error = yield* failure(box.open(flipBit(sealed, i), CONTEXT))
        assert.strictEqual(error.reason, "Tampered", `byte ${i}`)
      }
      // Dropping the last byte of the tag leaves a well-formed but unauthentic value.
      const truncated = SEALED_PREFIX + Base64Url.encode(sealedBytes(sealed).subarray(0, length - 1))
      assert.strictEqual((yield* failure(box.open(truncated, CONTEXT))).reason, "Tampered")
    })
  )

  it.effect("calls values that are not in the sealed format malformed, without echoing them", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      const tooShort = SEALED_PREFIX + Base64Url.encode(new Uint8Array(27))
      for (const value of [
        "sk-plaintext-api-key-123456",
        "",
        "enc:v1:",
        "enc:v1:not*valid*at*all!",
        "enc:v1:A",
        "enc:v2:AAAA",
        tooShort
      ]) {
        const error = yield* failure(box.open(value, CONTEXT))
        assert.strictEqual(error.reason, "Malformed", value)
        assertNotEchoed(error.message, value.slice(SEALED_PREFIX.length))
      }
    })
  )

  it.effect("isSealed tells sealed values from plaintext", () =>
    Effect.gen(function* () {
      const box = yield* makeSecretBox(hexOf(keyBytes()))
      const sealed = yield* box.seal("sk-secret", CONTEXT)
      assert.isTrue(box.isSealed(sealed))
      assert.isTrue(isSealed(sealed))
      for (const value of ["sk-secret", "", "enc:v2:AAAA", "ENC:V1:AAAA", " enc:v1:AAAA"]) {
        assert.isFalse(box.isSealed(value), value)
        assert.isFalse(isSealed(value), value)
      }
    })
  )
})

describe("makeSecretBox key formats", () => {
  it.effect("accepts the same 32 bytes as hex, base64 and base64url, and they interoperate", () =>
    Effect.gen(function* () {
      const bytes = awkwardKey()
      const hex = hexOf(bytes)
      const base64 = base64Of(bytes)
      const base64url = Base64Url.encode(bytes)
      assert.lengthOf(hex, 64)
      assert.lengthOf(base64, 44)
      assert.lengthOf(base64url, 43)
      assert.match(base64, /[+/]/)
      assert.match(base64url, /[-_]/)
      const forms = [
        hex,
        hex.toUpperCase(),
        base64,
        base64url,
        base64.slice(0, 43),
        `${base64url}=`,
        `${base64}\n`,
        Redacted.make(hex)
      ]
      const boxes = yield* Effect.forEach(forms, (form) => makeSecretBox(form))
      const sealed = yield* boxes[0]!.seal("sk-interop", CONTEXT)
      for (const box of boxes) assert.strictEqual(yield* box.open(sealed, CONTEXT), "sk-interop")
    })
  )

  it.effect("rejects wrong lengths and encodings, naming the variable and never echoing the value", () =>
    Effect.gen(function* () {
      const base64 = (n: number) => base64Of(crypto.getRandomValues(new Uint8Array(n)))
      const values = [
        "",
        "   ",
        "hunter2-hunter2",
        hexOf(crypto.getRandomValues(new Uint8Array(31))), // 62 hex characters
        hexOf(crypto.getRandomValues(new Uint8Array(33))), // 66 hex characters
        "g".repeat(64), // 64 characters, not hex
        base64(16), // a 128-bit key
        base64(31),
        base64(33),
        base64(48),
        `${"A".repeat(20)}+-${"A".repeat(21)}`, // 43 characters mixing the two base64 alphabets
        `${base64(32).slice(0, 43)}*`
      ]
      for (const value of values) {
        const error = yield* failure(makeSecretBox(value))
        assert.instanceOf(error, SecretBoxError)
        assert.strictEqual(error.reason, "InvalidKey", JSON.stringify(value))
        assert.include(error.message, "LLMGATE_ENCRYPTION_KEY")
        assert.include(error.message, "64 hex characters")
        assert.include(error.message, "openssl rand -base64 32")
        assertNotEchoed(error.message, value.trim())
      }
    })
  )

  it.effect("does not echo a rejected Redacted value either", () =>
    Effect.gen(function* () {
      const secret = "this-is-not-a-valid-key-but-is-secret"
      const error = yield* failure(makeSecretBox(Redacted.make(secret)))
      assert.strictEqual(error.reason, "InvalidKey")
      assertNotEchoed(error.message, secret)
      assertNotEchoed(String(error), secret)
    })
  )
})
