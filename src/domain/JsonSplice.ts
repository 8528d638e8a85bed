/**
 * Changing one top-level string member of a JSON object in its bytes, without re-serializing the
 * rest: the gateway rewrites `model` on almost every request, and the body around it (messages,
 * tools, images as base64) can be large. Every other byte goes upstream as the client sent it.
 *
 * The scanner walks the top level only; strings are skipped with the native `indexOf`, nested
 * values by bracket depth. It gives up (undefined: the caller re-serializes) on anything it does
 * not handle exactly: the member absent or not a string, or the key repeated (JSON.parse keeps the
 * last one; splicing the first would send the wrong value).
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COLON = 0x3a
const COMMA = 0x2c

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

const skipSpace = (raw: Uint8Array, i: number): number => {
  while (i < raw.length && isSpace(raw[i]!)) i++
  return i
}

/** Index just past the string starting at `i` (a quote), or -1 when it does not end. */
const skipString = (raw: Uint8Array, i: number): number => {
  let j = i + 1
  for (;;) {
    const q = raw.indexOf(QUOTE, j)
    if (q === -1) return -1
    // The quote is escaped when an odd number of backslashes precede it.
    let k = q - 1
    while (k > i && raw[k] === BACKSLASH) k--
    if ((q - 1 - k) % 2 === 0) return q + 1
    j = q + 1
  }
}

/** Index just past the value starting at `i`, or -1 when malformed. */
const skipValue = (raw: Uint8Array, i: number): number => {
  const c = raw[i]
  if (c === QUOTE) return skipString(raw, i)
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0
    let j = i
    while (j < raw.length) {
      const d = raw[j]!
      if (d === QUOTE) {
        j = skipString(raw, j)
        if (j === -1) return -1
        continue
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        depth--
        if (depth === 0) return j + 1
      }
      j++
    }
    return -1
  }
  // A number or a literal: up to the next delimiter.
  let j = i
  while (j < raw.length) {
    const d = raw[j]!
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break
    j++
  }
  return j === i ? -1 : j
}

const sameKey = (raw: Uint8Array, start: number, end: number, key: Uint8Array): boolean => {
  if (end - start !== key.length) return false
  for (let k = 0; k < key.length; k++) if (raw[start + k] !== key[k]) return false
  return true
}

/**
 * `raw` with the top-level member `key` (a string) set to `value`; undefined when that cannot be
 * done exactly (see the module comment). `raw` must be a JSON object the caller already parsed.
 */
export const replaceTopLevelString = (raw: Uint8Array, key: string, value: string): Uint8Array | undefined => {
  const keyBytes = encoder.encode(key)
  let i = skipSpace(raw, 0)
  if (raw[i] !== OPEN_BRACE) return undefined
  i = skipSpace(raw, i + 1)
  let found: { readonly start: number; readonly end: number } | undefined
  if (raw[i] === CLOSE_BRACE) return undefined
  for (;;) {
    if (raw[i] !== QUOTE) return undefined
    const keyEnd = skipString(raw, i)
    if (keyEnd === -1) return undefined
    const keyStart = i + 1
    const keyStop = keyEnd - 1
    // A key written with escapes is decoded to compare it (rare: clients write keys plainly).
    const matches = raw.subarray(keyStart, keyStop).includes(BACKSLASH)
      ? JSON.parse(decoder.decode(raw.subarray(i, keyEnd))) === key
      : sameKey(raw, keyStart, keyStop, keyBytes)
    i = skipSpace(raw, keyEnd)
    if (raw[i] !== COLON) return undefined
    i = skipSpace(raw, i + 1)
    const valueEnd = skipValue(raw, i)
    if (valueEnd === -1) return undefined
    if (matches) {
      if (found !== undefined || raw[i] !== QUOTE) return undefined
      found = { start: i, end: valueEnd }
    }
    i = skipSpace(raw, valueEnd)
    if (raw[i] === COMMA) {
      i = skipSpace(raw, i + 1)
      continue
    }
    if (raw[i] === CLOSE_BRACE) break
    return undefined
  }
  if (found === undefined) return undefined
  const replacement = encoder.encode(JSON.stringify(value))
  const out = new Uint8Array(raw.length - (found.end - found.start) + replacement.length)
  out.set(raw.subarray(0, found.start), 0)
  out.set(replacement, found.start)
  out.set(raw.subarray(found.end), found.start + replacement.length)
  return out
}

/**
 * `raw` with the member `"key": <json>` added first in the top-level object, every other byte as
 * it was; undefined when `raw` is not an object. `json` must be one JSON value's text and `key`
 * absent from the object (the caller has parsed it): added twice, JSON.parse would keep the later.
 */
export const prependTopLevelMember = (raw: Uint8Array, key: string, json: string): Uint8Array | undefined => {
  const open = skipSpace(raw, 0)
  if (raw[open] !== OPEN_BRACE) return undefined
  const empty = raw[skipSpace(raw, open + 1)] === CLOSE_BRACE
  const member = encoder.encode(`${JSON.stringify(key)}:${json}${empty ? "" : ","}`)
  const out = new Uint8Array(raw.length + member.length)
  out.set(raw.subarray(0, open + 1), 0)
  out.set(member, open + 1)
  out.set(raw.subarray(open + 1), open + 1 + member.length)
  return out
}
