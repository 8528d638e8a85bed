/**
 * Request targets as the app reads them: the path without its query, and path segments decoded
 * without ever throwing (a malformed percent escape is an answer of its own, a 400, not an error
 * that escapes the request).
 */

/** The path of a request target (`/v1/models?x=1` → `/v1/models`). */
export const pathOf = (url: string): string => {
  const q = url.indexOf("?")
  return q === -1 ? url : url.slice(0, q)
}

/** The query of a request target, with its `?` (`/v1/files?limit=2` → `?limit=2`); "" when none. */
export const queryOf = (url: string): string => {
  const q = url.indexOf("?")
  return q === -1 ? "" : url.slice(q)
}

/** A percent-decoded path segment; undefined when an escape is malformed or not UTF-8. */
export const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** UTF-8 text of a body; undefined when the bytes are not valid UTF-8. */
export const decodeUtf8 = (bytes: Uint8Array): string | undefined => {
  try {
    return strict.decode(bytes)
  } catch {
    return undefined
  }
}

const strict = new TextDecoder("utf-8", { fatal: true })
