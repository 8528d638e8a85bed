/**
 * One field of a `multipart/form-data` body (RFC 7578) found in its bytes and replaced in place: the
 * gateway reads the `model` field of an upload (audio transcriptions and translations, image edits)
 * to route it, and rewrites its value to the upstream model; every other byte (the file included)
 * goes upstream as the client sent it.
 *
 * The scan walks the parts by their delimiters and reads only the part headers. A field named twice
 * is `Repeated`, never resolved: the gateway checks and rewrites one value, and an upstream reading
 * the other would be served a model the key was never checked for.
 */

export type FieldSearch =
  /** The value's bytes are `[start, end)`; `value` is them decoded (UTF-8). */
  | { readonly _tag: "Found"; readonly start: number; readonly end: number; readonly value: string }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Repeated" }
  /** Not a multipart body with this boundary (no closing delimiter, a part without headers, …), or a value not UTF-8. */
  | { readonly _tag: "Malformed"; readonly detail: string }

const encoder = new TextEncoder()
const utf8 = new TextDecoder("utf-8", { fatal: true })
const latin1 = new TextDecoder("latin1")

const CR = 0x0d
const LF = 0x0a
const DASH = 0x2d
const HEADERS_END = encoder.encode("\r\n\r\n")

/** The boundary of a `multipart/form-data` content-type (quoted or not), else undefined. */
export const boundaryOf = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined) return undefined
  const [type, ...params] = contentType.split(";")
  if (type?.trim().toLowerCase() !== "multipart/form-data") return undefined
  for (const param of params) {
    const eq = param.indexOf("=")
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue
    let value = param.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    return value.length >= 1 && value.length <= 70 ? value : undefined
  }
  return undefined
}

/** The first index of `needle` in `haystack` at or after `from`, else -1. */
export const indexOfBytes = (haystack: Uint8Array, needle: Uint8Array, from: number): number => {
  const first = needle[0]
  if (first === undefined) return from
  const last = haystack.length - needle.length
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1
    while (j < needle.length && haystack[i + j] === needle[j]) j++
    if (j === needle.length) return i
  }
  return -1
}

/** The `name` of a part's `content-disposition: form-data` header, if any (headers read as latin1). */
const partName = (headers: string): string | undefined => {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":")
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue
    const match = /;\s*name\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(line.slice(colon + 1))
    return match?.[1] ?? match?.[2]
  }
  return undefined
}

/** Finds the field `name` in `body`, a multipart body delimited by `boundary`. */
export const findField = (body: Uint8Array, boundary: string, name: string): FieldSearch => {
  const dashBoundary = encoder.encode(`--${boundary}`)
  const delimiter = encoder.encode(`\r\n--${boundary}`)
  // The first delimiter may open the body (no CRLF before it) or follow a preamble.
  let at = indexOfBytes(body, dashBoundary, 0) === 0 ? 0 : indexOfBytes(body, delimiter, 0)
  if (at < 0) return { _tag: "Malformed", detail: "no delimiter of the content-type's boundary" }
  at += at === 0 ? dashBoundary.length : delimiter.length
  let found: FieldSearch = { _tag: "Missing" }
  for (;;) {
    if (body[at] === DASH && body[at + 1] === DASH) return found // the close delimiter
    // Transport padding, then the CRLF ending the delimiter line.
    while (body[at] === 0x20 || body[at] === 0x09) at++
    if (body[at] !== CR || body[at + 1] !== LF) return { _tag: "Malformed", detail: "a delimiter not ending its line" }
    const headersStart = at + 2
    // A part without headers starts its content at once (its CRLF then is the blank line).
    const bare = body[headersStart] === CR && body[headersStart + 1] === LF
    const headersEnd = bare ? headersStart : indexOfBytes(body, HEADERS_END, headersStart)
    if (headersEnd < 0) return { _tag: "Malformed", detail: "a part whose headers do not end" }
    const contentStart = bare ? headersStart + 2 : headersEnd + 4
    const contentEnd = indexOfBytes(body, delimiter, contentStart)
    if (contentEnd < 0) return { _tag: "Malformed", detail: "no closing delimiter" }
    if (partName(latin1.decode(body.subarray(headersStart, headersEnd))) === name) {
      if (found._tag === "Found") return { _tag: "Repeated" }
      let value: string
      try {
        value = utf8.decode(body.subarray(contentStart, contentEnd))
      } catch {
        return { _tag: "Malformed", detail: `a \`${name}\` value that is not UTF-8` }
      }
      found = { _tag: "Found", start: contentStart, end: contentEnd, value }
    }
    at = contentEnd + delimiter.length
  }
}

/** `body` with the bytes `[start, end)` (a found field's value) replaced by `value` in UTF-8. */
export const replaceField = (body: Uint8Array, start: number, end: number, value: string): Uint8Array => {
  const replacement = encoder.encode(value)
  const out = new Uint8Array(body.length - (end - start) + replacement.length)
  out.set(body.subarray(0, start), 0)
  out.set(replacement, start)
  out.set(body.subarray(end), start + replacement.length)
  return out
}
