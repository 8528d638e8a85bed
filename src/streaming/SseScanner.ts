/**
 * Incremental SSE scanner: bytes in, the `data` of each complete event out. Handles events split
 * across chunks, `\n`, `\r\n` and `\r` line ends, multi-line data (joined with `\n`), comments and
 * fields other than `data` (ignored). Used only while a stream is held back; once content flows the
 * relay passes bytes through without parsing.
 *
 * It works on bytes, in linear time: each byte is looked at once (line ends are ASCII, so they never
 * occur inside a multi-byte UTF-8 sequence), the unfinished end of a chunk is kept as it is and joined
 * with the rest of its line only when the line ends, and only `data` values are decoded. A line
 * longer than `lineLimit` bytes is the upstream's protocol failure: the scanner stops there (it would
 * otherwise have to hold the line whole) and says so. So is a `data` value that is not UTF-8 (it
 * would reach the client as it is, with a 200, if it were taken for content).
 */

export type ScanResult =
  /** The data of every event completed by the bytes pushed (events without data are skipped). */
  | {
      readonly _tag: "Events"
      readonly data: ReadonlyArray<string>
      /** For each event, the stream offset (bytes since the first push) just past the line that ended it. */
      readonly ends: ReadonlyArray<number>
    }
  /** A line grew past the limit; every later push answers the same. */
  | { readonly _tag: "LineTooLong"; readonly limit: number }
  /** A `data` value is not valid UTF-8; every later push answers the same. */
  | { readonly _tag: "NotUtf8" }

export interface SseScanner {
  readonly push: (chunk: Uint8Array) => ScanResult
}

const LF = 10
const CR = 13
const COLON = 58
const SPACE = 32
/** `data`, the one field the scanner reads. */
const D = 100
const A = 97
const T = 116

const isDataField = (line: Uint8Array): boolean =>
  line.length >= 4 &&
  line[0] === D &&
  line[1] === A &&
  line[2] === T &&
  line[3] === A &&
  (line.length === 4 || line[4] === COLON)

export const makeSseScanner = (lineLimit: number): SseScanner => {
  const decoder = new TextDecoder("utf-8", { fatal: true })
  /** The unfinished line: pieces of earlier chunks and their total size. */
  let pieces: Array<Uint8Array> = []
  let pending = 0
  /** The last line ended with `\r`: a `\n` right after it belongs to that line end. */
  let sawCr = false
  /** No line seen yet: a UTF-8 byte order mark before the first one is ignored. */
  let first = true
  let data: Array<string> = []
  const tooLong: ScanResult = { _tag: "LineTooLong", limit: lineLimit }
  const notUtf8: ScanResult = { _tag: "NotUtf8" }
  let failed: ScanResult | undefined
  /** Bytes pushed before the current chunk. */
  let base = 0

  /** Handles one complete line; false when its data is not UTF-8. */
  const line = (bytes: Uint8Array, out: Array<string>): boolean => {
    if (first) {
      first = false
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3)
    }
    if (bytes.length === 0) {
      // An event whose data is empty is not dispatched (the SSE processing model).
      if (data.length > 0) {
        const joined = data.join("\n")
        if (joined !== "") out.push(joined)
      }
      data = []
      return true
    }
    if (!isDataField(bytes)) return true
    let value = bytes.subarray(5)
    if (value[0] === SPACE) value = value.subarray(1)
    try {
      data.push(decoder.decode(value))
    } catch {
      return false
    }
    return true
  }

  /** The unfinished line followed by `tail`, as one array. */
  const joinPending = (tail: Uint8Array): Uint8Array => {
    const whole = new Uint8Array(pending + tail.length)
    let at = 0
    for (const piece of pieces) {
      whole.set(piece, at)
      at += piece.length
    }
    whole.set(tail, at)
    pieces = []
    pending = 0
    return whole
  }

  return {
    push: (chunk) => {
      if (failed !== undefined) return failed
      const out: Array<string> = []
      const ends: Array<number> = []
      let start = 0
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]
        if (c !== LF && c !== CR) continue
        if (c === LF && sawCr && i === start && pending === 0) {
          // "\r\n": the "\r" already ended the line.
          sawCr = false
          start = i + 1
          continue
        }
        if (pending + (i - start) > lineLimit) {
          failed = tooLong
          pieces = []
          return tooLong
        }
        const before = out.length
        if (!line(pending === 0 ? chunk.subarray(start, i) : joinPending(chunk.subarray(start, i)), out)) {
          failed = notUtf8
          return notUtf8
        }
        if (out.length > before) ends.push(base + i + 1)
        sawCr = c === CR
        start = i + 1
      }
      if (start < chunk.length) {
        pending += chunk.length - start
        if (pending > lineLimit) {
          failed = tooLong
          pieces = []
          return tooLong
        }
        pieces.push(chunk.subarray(start))
      }
      base += chunk.length
      return { _tag: "Events", data: out, ends }
    }
  }
}
