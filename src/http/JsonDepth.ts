/**
 * JSON nesting depth, read from the raw bytes before anything parses them. A body nested thousands
 * of levels deep costs recursion in whatever walks it after `JSON.parse` (validation, the upstream
 * request's serialisation, structured clone) and can overflow the stack there; refusing it first
 * with a 400 keeps that from ever being a 500 or a crash. This runs on every proxied and admin
 * request body, so it is one pass over the bytes with no allocation and no decoding: brackets count
 * outside strings only (a string ends at an unescaped `"`; UTF-8 continuation bytes are never ASCII,
 * so multi-byte characters need no care). Malformed JSON is JSON.parse's to report: it stops at the
 * first stray bracket, before any depth this scan missed could matter.
 */
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d

/** Whether some array or object in `bytes` (JSON text) is nested deeper than `limit` levels (`[]` is 1). */
export const exceedsJsonDepth = (bytes: Uint8Array, limit: number): boolean => {
  const n = bytes.length
  // Each level takes a byte: a shorter body cannot be too deep.
  if (n <= limit) return false
  let depth = 0
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!
    if (b === QUOTE) {
      // To the closing quote; an escape skips the byte after the backslash (`\"`, `\\`).
      for (i++; i < n; i++) {
        const c = bytes[i]!
        if (c === QUOTE) break
        if (c === BACKSLASH) i++
      }
    } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++depth > limit) return true
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      depth--
    }
  }
  return false
}

/** The 400 for a body nested deeper than `limit` (`server.json_depth_limit`). */
export const tooDeep = (limit: number): GatewayError =>
  gatewayError({
    _tag: "InvalidJson",
    detail: `it is nested deeper than ${limit} levels, the most this gateway accepts`
  })
