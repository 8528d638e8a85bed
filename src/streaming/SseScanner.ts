/**
 * Incremental SSE scanner: bytes in, the `data` of each complete event out. Handles events split
 * across chunks, `\n`, `\r\n` and `\r` line ends, multi-line data (joined with `\n`), comments and
 * fields other than `data` (ignored). Used only while a stream is held back; once content flows the
 * relay passes bytes through without parsing.
 */

export interface SseScanner {
  /** Feeds bytes; returns the data of every event completed by them (events without data are skipped). */
  readonly push: (chunk: Uint8Array) => ReadonlyArray<string>
}

export const makeSseScanner = (): SseScanner => {
  const decoder = new TextDecoder()
  let buffer = ""
  let data: Array<string> = []
  let sawCr = false
  const line = (text: string, out: Array<string>) => {
    if (text === "") {
      // An event whose data is empty is not dispatched (the SSE processing model).
      if (data.length > 0) {
        const joined = data.join("\n")
        if (joined !== "") out.push(joined)
      }
      data = []
      return
    }
    if (text.startsWith(":")) return
    const colon = text.indexOf(":")
    const name = colon === -1 ? text : text.slice(0, colon)
    if (name !== "data") return
    let value = colon === -1 ? "" : text.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    data.push(value)
  }
  return {
    push: (chunk) => {
      buffer += decoder.decode(chunk, { stream: true })
      const out: Array<string> = []
      let start = 0
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i)
        if (c === 10) {
          // "\r\n": the "\r" already ended the line.
          if (!(sawCr && i === start)) line(buffer.slice(start, i), out)
          sawCr = false
          start = i + 1
        } else if (c === 13) {
          line(buffer.slice(start, i), out)
          sawCr = true
          start = i + 1
        } else {
          sawCr = false
        }
      }
      buffer = buffer.slice(start)
      return out
    }
  }
}
