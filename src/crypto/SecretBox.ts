/**
 * SecretBox: provider credentials encrypted at rest with AES-256-GCM (WebCrypto) under
 * `LLMGATE_ENCRYPTION_KEY`. A sealed value is `enc:v1:` + base64url(12-byte random IV ‖
 * ciphertext ‖ 16-byte tag). Each value is bound to a context string (e.g.
 * `provider:openai:api_key`) through GCM's additional data, so a value copied into another field
 * does not open. Failures are one `SecretBoxError` whose `reason` says what went wrong; no message
 * ever contains the key, a plaintext or a sealed value. Hex, base64 and base64url are Effect's
 * (`effect/encoding/*`); the regular expressions here only choose the form and keep it strict.
 */
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as Base64Url from "effect/encoding/Base64Url"
import type { EncodingError } from "effect/encoding/EncodingError"
import * as Hex from "effect/encoding/Hex"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

export const ENCRYPTION_KEY_VARIABLE = "LLMGATE_ENCRYPTION_KEY"
export const SEALED_PREFIX = "enc:v1:"

const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32

export const SecretBoxErrorReason = Schema.Literals(["InvalidKey", "Tampered", "Malformed"])
export type SecretBoxErrorReason = typeof SecretBoxErrorReason.Type

export class SecretBoxError extends Schema.TaggedError<SecretBoxError>()("SecretBoxError", {
  reason: SecretBoxErrorReason,
  message: Schema.String
}) {}

export interface SecretBox {
  /** Encrypts `plaintext` for the field named by `context`; a fresh random IV each time. */
  readonly seal: (plaintext: string, context: string) => Effect.Effect<string, SecretBoxError>
  /** Decrypts a value sealed under the same key and `context`. */
  readonly open: (sealed: string, context: string) => Effect.Effect<string, SecretBoxError>
  /** Whether `value` is in the sealed format (says nothing about whether it opens). */
  readonly isSealed: (value: string) => boolean
}

/** Whether `value` is in the sealed format; needs no key (e.g. to tell stored plaintext apart). */
export const isSealed = (value: string): boolean => value.startsWith(SEALED_PREFIX)

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

const HEX_KEY = /^[0-9a-fA-F]{64}$/
// 32 bytes are 43 base64 characters plus one "=" of padding, in either alphabet.
const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/
const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Whether `bytes` views a plain ArrayBuffer (what WebCrypto takes), as Effect's decoders allocate. */
const onArrayBuffer = (bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> => bytes.buffer instanceof ArrayBuffer

/**
 * The bytes Effect's `Hex`/`Base64`/`Base64Url` decoded, or `undefined` when the text is not valid
 * (the failure is dropped: it carries the text, which may be the key).
 */
const bytesOf = (decoded: Result.Result<Uint8Array, EncodingError>): Uint8Array<ArrayBuffer> | undefined =>
  Result.isSuccess(decoded) && onArrayBuffer(decoded.success) ? decoded.success : undefined

/**
 * A key that `BASE64_KEY` matched: 43 characters of one alphabet, padded with one `=` or not. The
 * standard alphabet is decoded as base64 (which wants the padding), the other as base64url.
 */
const decodeBase64Key = (text: string): Uint8Array<ArrayBuffer> | undefined =>
  bytesOf(/[+/]/.test(text) ? Base64.decode(text.padEnd(44, "=")) : Base64Url.decode(text))

const invalidKey = (problem: string): SecretBoxError =>
  new SecretBoxError({
    reason: "InvalidKey",
    message:
      `${ENCRYPTION_KEY_VARIABLE} ${problem}: it must be 32 random bytes written as 64 hex characters ` +
      "or as base64/base64url (44 characters with `=` padding, 43 without). " +
      "Generate one with `openssl rand -base64 32`."
  })

/** The 32 key bytes of `LLMGATE_ENCRYPTION_KEY`, or the reason it is unusable (never echoing it). */
const decodeKey = (keyText: string): Uint8Array<ArrayBuffer> | SecretBoxError => {
  const text = keyText.trim()
  if (text === "") return invalidKey("is empty")
  const bytes = HEX_KEY.test(text)
    ? bytesOf(Hex.decode(text))
    : BASE64_KEY.test(text)
      ? decodeBase64Key(text)
      : undefined
  if (bytes === undefined || bytes.length !== KEY_BYTES) {
    return invalidKey(`is not a valid key (the value given has ${text.length} characters)`)
  }
  return bytes
}

const malformed = (message: string): SecretBoxError => new SecretBoxError({ reason: "Malformed", message })

/**
 * A SecretBox for the key in `keyText`, the value of `LLMGATE_ENCRYPTION_KEY` (plain or
 * `Redacted`). Fails with `InvalidKey` when it is not 32 bytes in hex, base64 or base64url.
 */
export const makeSecretBox = Effect.fn("SecretBox.make")(function* (keyText: string | Redacted.Redacted<string>) {
  const raw = decodeKey(Redacted.isRedacted(keyText) ? Redacted.value(keyText) : keyText)
  if (raw instanceof SecretBoxError) return yield* raw
  const key = yield* Effect.tryPromise({
    try: () => crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]),
    catch: () => invalidKey("could not be imported as an AES-256-GCM key")
  })
  raw.fill(0)

  const seal = Effect.fn("SecretBox.seal")(function* (plaintext: string, context: string) {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
    const ciphertext = yield* Effect.tryPromise({
      try: () =>
        crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: encoder.encode(context), tagLength: TAG_BYTES * 8 },
          key,
          encoder.encode(plaintext)
        ),
      catch: () =>
        new SecretBoxError({ reason: "InvalidKey", message: `${ENCRYPTION_KEY_VARIABLE} could not seal a value` })
    })
    const out = new Uint8Array(IV_BYTES + ciphertext.byteLength)
    out.set(iv)
    out.set(new Uint8Array(ciphertext), IV_BYTES)
    return SEALED_PREFIX + Base64Url.encode(out)
  })

  const open = Effect.fn("SecretBox.open")(function* (sealed: string, context: string) {
    if (!isSealed(sealed))
      return yield* malformed(`The value for \`${context}\` is not a sealed secret (expected \`${SEALED_PREFIX}…\`).`)
    const body = sealed.slice(SEALED_PREFIX.length)
    const bytes = BASE64URL.test(body) ? bytesOf(Base64Url.decode(body)) : undefined
    if (bytes === undefined || bytes.length < IV_BYTES + TAG_BYTES) {
      return yield* malformed(
        `The sealed value for \`${context}\` is not valid base64url or is too short to hold an IV and a tag.`
      )
    }
    const plain = yield* Effect.tryPromise({
      try: () =>
        crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: bytes.subarray(0, IV_BYTES),
            additionalData: encoder.encode(context),
            tagLength: TAG_BYTES * 8
          },
          key,
          bytes.subarray(IV_BYTES)
        ),
      catch: () =>
        new SecretBoxError({
          reason: "Tampered",
          message:
            `The sealed value for \`${context}\` does not open: it was sealed under another ` +
            `${ENCRYPTION_KEY_VARIABLE} or for another field, or it was altered.`
        })
    })
    try {
      return decoder.decode(plain)
    } catch {
      return yield* malformed(`The sealed value for \`${context}\` does not hold UTF-8 text.`)
    }
  })

  const box: SecretBox = { seal, open, isSealed }
  return box
})
