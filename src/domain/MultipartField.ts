/**
 * One field of a `multipart/form-data` body (RFC 7578) found in its bytes and replaced in place: the
 * gateway reads the `model` field of an upload (audio transcriptions and translations, image edits)
 * to route it, and rewrites its value to the upstream model; every other byte (the file included)
 * goes upstream as the client sent it.
 *
 * The scan walks the parts by their delimiters and reads only the part headers. A field named twice
 * is `Repeated`, never resolved: the gateway checks and rewrites one value, and an upstream reading
 * the other would be served a model the key was never checked for. It is incremental
 * (`makeFieldScanner`): an upload streamed upstream is scanned as its bytes pass, holding only the
 * part headers and the field's value, never a file; `findField` is the same scan over a whole body.
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

/**
 * The scan, incremental: the body's bytes pushed as they arrive (in any pieces), the verdict read
 * at any time. It holds only what it has not judged yet: a delimiter cut across pieces, a part's
 * headers (at most PART_HEADERS_LIMIT bytes), and the value of the field it looks for; the content
 * of every other part (a file) goes by unheld. `findField` is this scan over a whole body.
 */
export interface FieldScanner {
  /** Scans the next bytes of the body. */
  readonly push: (chunk: Uint8Array) => void
  /** Scans the end of the body: unclosed framing becomes `Malformed`. */
  readonly end: () => void
  /**
   * The verdict so far: undefined while undecided; `Found` once the field's value is complete (a
   * later part of the same name or broken framing still turns it into `Repeated` or `Malformed`,
   * both final); `Missing` once the body closed without it. After `end`, never undefined.
   */
  readonly result: () => FieldSearch | undefined
}

/** The most bytes of one part's headers the scan holds; longer is `Malformed`. */
export const PART_HEADERS_LIMIT = 16 * 1024

type Phase =
  /** Before the first delimiter (`at` is where to look from). */
  | "preamble"
  /** Just past a delimiter: the close (`--`) or transport padding and the CRLF ending its line. */
  | "delimiter"
  /** A part's headers, from `at` (absolute). */
  | "headers"
  /** A part's content, from `at` (absolute). */
  | "content"
  /** Past the close delimiter: the epilogue, ignored. */
  | "closed"

/** A scanner for the field `name` of a multipart body delimited by `boundary`. */
export const makeFieldScanner = (boundary: string, name: string): FieldScanner => {
  const dashBoundary = encoder.encode(`--${boundary}`)
  const delimiter = encoder.encode(`\r\n--${boundary}`)
  /** The bytes not judged yet; `buf[0]` is byte `base` of the body. */
  let buf: Uint8Array = new Uint8Array(0)
  let base = 0
  let phase: Phase = "preamble"
  /** Absolute: where the current phase's bytes start (headers, content) or where to search from. */
  let at = 0
  /** Absolute: where the running search for a delimiter or the headers' end resumes. */
  let searchFrom = 0
  /** Whether the part now read is the field (its value is held until its end). */
  let isField = false
  let found: FieldSearch | undefined
  let verdict: FieldSearch | undefined

  const malformed = (detail: string): void => {
    verdict = { _tag: "Malformed", detail }
  }
  /** Drops what lies before absolute offset `upTo`. */
  const drop = (upTo: number): void => {
    if (upTo <= base) return
    buf = buf.subarray(upTo - base)
    base = upTo
  }
  /** The search index of `needle` in the held bytes from absolute `from`, absolute; -1 if absent. */
  const find = (needle: Uint8Array, from: number): number => {
    const i = indexOfBytes(buf, needle, Math.max(0, from - base))
    return i < 0 ? -1 : base + i
  }
  const byteAt = (abs: number): number | undefined => buf[abs - base]
  const end = () => base + buf.length

  /** Runs the phases over the bytes held; returns when more are needed or the verdict is final. */
  const scan = (final: boolean): void => {
    for (;;) {
      if (verdict !== undefined) return
      switch (phase) {
        case "preamble": {
          // The first delimiter may open the body (no CRLF before it) or follow a preamble.
          if (base === 0 && buf.length < dashBoundary.length && !final) {
            if (indexOfBytes(dashBoundary.subarray(0, buf.length), buf, 0) === 0) return
          }
          if (base === 0 && indexOfBytes(buf.subarray(0, dashBoundary.length), dashBoundary, 0) === 0) {
            phase = "delimiter"
            at = dashBoundary.length
            continue
          }
          const i = find(delimiter, searchFrom)
          if (i < 0) {
            if (final) return void malformed("no delimiter of the content-type's boundary")
            searchFrom = Math.max(base, end() - delimiter.length + 1)
            drop(searchFrom)
            return
          }
          phase = "delimiter"
          at = i + delimiter.length
          continue
        }
        case "delimiter": {
          const first = byteAt(at)
          if (first === undefined || (first === DASH && byteAt(at + 1) === undefined)) {
            if (final) return void malformed("a delimiter not ending its line")
            drop(at)
            return
          }
          if (first === DASH && byteAt(at + 1) === DASH) {
            phase = "closed"
            if (found === undefined) verdict = { _tag: "Missing" }
            buf = new Uint8Array(0)
            base = at
            return
          }
          // Transport padding, then the CRLF ending the delimiter line.
          let p = at
          while (byteAt(p) === 0x20 || byteAt(p) === 0x09) p++
          const cr = byteAt(p)
          const lf = byteAt(p + 1)
          if (cr === undefined || (cr === CR && lf === undefined)) {
            if (final) return void malformed("a delimiter not ending its line")
            drop(at)
            return
          }
          if (cr !== CR || lf !== LF) return void malformed("a delimiter not ending its line")
          phase = "headers"
          at = p + 2
          searchFrom = at
          drop(at)
          continue
        }
        case "headers": {
          // A part without headers starts its content at once (its CRLF then is the blank line).
          const c0 = byteAt(at)
          const c1 = byteAt(at + 1)
          if (c0 === undefined || (c0 === CR && c1 === undefined)) {
            if (final) return void malformed("a part whose headers do not end")
            return
          }
          let contentStart: number
          if (c0 === CR && c1 === LF) {
            isField = false
            contentStart = at + 2
          } else {
            const headersEnd = find(HEADERS_END, searchFrom)
            if (headersEnd < 0) {
              if (final) return void malformed("a part whose headers do not end")
              if (end() - at > PART_HEADERS_LIMIT) return void malformed("a part whose headers are longer than 16 KiB")
              searchFrom = Math.max(at, end() - HEADERS_END.length + 1)
              return
            }
            if (headersEnd - at > PART_HEADERS_LIMIT)
              return void malformed("a part whose headers are longer than 16 KiB")
            isField = partName(latin1.decode(buf.subarray(at - base, headersEnd - base))) === name
            if (isField && found !== undefined) {
              verdict = { _tag: "Repeated" }
              return
            }
            contentStart = headersEnd + 4
          }
          phase = "content"
          at = contentStart
          searchFrom = at
          drop(at)
          continue
        }
        case "content": {
          const contentEnd = find(delimiter, searchFrom)
          if (contentEnd < 0) {
            if (final) return void malformed("no closing delimiter")
            searchFrom = Math.max(at, end() - delimiter.length + 1)
            // Only the field's value is held; other content goes as soon as no delimiter can start in it.
            if (!isField) drop(searchFrom)
            return
          }
          if (isField) {
            let value: string
            try {
              value = utf8.decode(buf.subarray(at - base, contentEnd - base))
            } catch {
              return void malformed(`a \`${name}\` value that is not UTF-8`)
            }
            found = { _tag: "Found", start: at, end: contentEnd, value }
            isField = false
          }
          phase = "delimiter"
          at = contentEnd + delimiter.length
          searchFrom = at
          drop(at)
          continue
        }
        case "closed":
          return
      }
    }
  }

  return {
    push: (chunk) => {
      if (verdict !== undefined || phase === "closed" || chunk.length === 0) return
      if (buf.length === 0) buf = chunk
      else if (phase === "content" && !isField && chunk.length >= delimiter.length) {
        // Within a file, what is held is the tail that may start a delimiter: look for one across
        // the seam alone, so the file's bytes are never copied (the usual case: there is none).
        const seam = new Uint8Array(buf.length + delimiter.length - 1)
        seam.set(buf, 0)
        seam.set(chunk.subarray(0, delimiter.length - 1), buf.length)
        const i = indexOfBytes(seam, delimiter, Math.max(0, searchFrom - base))
        if (i >= 0 && i < buf.length) buf = joined(buf, chunk)
        else {
          base += buf.length
          buf = chunk
          searchFrom = base
        }
      } else buf = joined(buf, chunk)
      scan(false)
    },
    end: () => {
      if (verdict === undefined && phase !== "closed") scan(true)
    },
    result: () => verdict ?? found
  }
}

const joined = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** Finds the field `name` in `body`, a whole multipart body delimited by `boundary`. */
export const findField = (body: Uint8Array, boundary: string, name: string): FieldSearch => {
  const scanner = makeFieldScanner(boundary, name)
  scanner.push(body)
  scanner.end()
  return scanner.result() ?? { _tag: "Malformed", detail: "no closing delimiter" }
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
