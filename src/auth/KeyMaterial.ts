/**
 * Key material, the one place keys are minted: `sk-lg-` + 32 base62 characters from the platform
 * CSPRNG, for virtual keys (shown once at creation and stored only as their SHA-256 hash, hex, plus
 * a short visible prefix) and for the master key of a run whose config sets none. Also the random
 * ids of tenancy records (`prj_…`, `usr_…`, `key_…`) and the masked form of secrets that the admin
 * API and logs may show. Pure apart from `crypto.getRandomValues`.
 */
import { sha256Hex } from "../crypto/Sha256.ts"

export const KEY_PREFIX = "sk-lg-"
/** Random base62 characters after `sk-lg-`: 32 × log2(62) ≈ 190 bits. */
export const KEY_RANDOM_LENGTH = 32
/** Characters of the key kept in clear to recognise it in lists: `sk-lg-` + 6. */
export const VISIBLE_PREFIX_LENGTH = 12
/** Random base62 characters of an id after `prj_` etc.: ≈ 119 bits. */
export const ID_RANDOM_LENGTH = 20

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

export interface GeneratedKey {
  /** The full key; returned to the caller once and never stored. */
  readonly key: string
  /** The first 12 characters, stored and shown in lists. */
  readonly prefix: string
  /** `sha256Hex(key)`, the lookup key of the stored record. */
  readonly hash: string
}

export type IdKind = "prj" | "usr" | "key"

const VIRTUAL_KEY = /^sk-lg-[0-9A-Za-z]{32}$/

/**
 * `length` uniformly random base62 characters. Each random byte keeps its low 6 bits (0–63) and
 * is used only when they are below 62, so every character has probability exactly 1/62.
 */
export const randomBase62 = (length: number): string => {
  const chars = new Array<string>(length)
  let filled = 0
  while (filled < length) {
    // 62/64 of bytes are kept; ask for a little more than needed so one draw usually suffices
    // (getRandomValues fills at most 65,536 bytes per call).
    const bytes = crypto.getRandomValues(new Uint8Array(Math.min(length - filled + 8, 65_536)))
    for (let i = 0; i < bytes.length && filled < length; i++) {
      const v = bytes[i]! & 63
      if (v < 62) chars[filled++] = BASE62.charAt(v)
    }
  }
  return chars.join("")
}

/** SHA-256 of a presented key, as stored: 64 lowercase hex characters. */
export const hashKey = (key: string): string => sha256Hex(key)

/** A fresh virtual key with its visible prefix and hash. */
export const generateKey = (): GeneratedKey => {
  const key = KEY_PREFIX + randomBase62(KEY_RANDOM_LENGTH)
  return { key, prefix: key.slice(0, VISIBLE_PREFIX_LENGTH), hash: hashKey(key) }
}

/** Whether `token` has the shape of a virtual key (it may still be unknown or revoked). */
export const looksLikeVirtualKey = (token: string): boolean => VIRTUAL_KEY.test(token)

/** A fresh random id: `prj_` + 20 base62 characters. */
export const newId = (kind: IdKind): string => `${kind}_${randomBase62(ID_RANDOM_LENGTH)}`

/** Secrets shorter than this are masked entirely; longer ones keep their last 4 characters. */
export const MASK_REVEAL_MIN_LENGTH = 20

/** What a mask hides the secret with: the whole of a short one, the start of a long one. */
export const MASK = "****"

/**
 * A form of `secret` safe to show in the admin API and logs: `""` stays `""`; shorter than 20
 * characters becomes `****`; 20 or more become `****` and the last 4 (`****abcd`), so at most 4
 * characters, of a long secret only, are ever shown. Counts code points, so no surrogate pair is cut
 * in half.
 */
export const maskSecret = (secret: string): string => {
  if (secret === "") return ""
  const chars = Array.from(secret)
  return chars.length < MASK_REVEAL_MIN_LENGTH ? MASK : `${MASK}${chars.slice(-4).join("")}`
}

/**
 * Whether `value` is a mask the admin API showed (`****`, `****abcd`, or the earlier `sk-…abcd`)
 * rather than a secret: sent back in a write, it would replace the secret with the mask.
 */
export const isMaskedSecret = (value: string): boolean =>
  /^\*{4}(?:.{4})?$/u.test(value) || /^.{0,3}\u2026.{4}$/u.test(value)
