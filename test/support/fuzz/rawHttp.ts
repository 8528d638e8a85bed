// A raw HTTP/1.1 client over node:net for the fuzzers: requests go on the wire exactly as built
// (malformed request lines, odd headers, lying Content-Length), and answers are parsed strictly, so a
// server that answers with broken framing is seen as broken rather than smoothed over by a library.
// Two ways to send: a `Lane` keeps one keep-alive connection (one request at a time, reconnecting when
// the server closes it), and `sendAndDrain` writes bytes on a fresh connection, half-closes it and
// parses every answer that arrives before the server closes.
import { connect, type Socket } from "node:net"

export interface RawResponse {
  readonly status: number
  /** Header names lower-cased, in order, duplicates kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: Uint8Array
}

export const headerOf = (res: RawResponse, name: string): string | undefined =>
  res.headers.find(([k]) => k === name)?.[1]

export type Exchange =
  /** One complete answer; `reusable` when the connection may carry the next request. */
  | { readonly _tag: "Response"; readonly response: RawResponse; readonly reusable: boolean }
  /** The server closed (or reset) the connection before a complete answer; `received` bytes came first. */
  | { readonly _tag: "Closed"; readonly received: number; readonly error: string | undefined }
  /** Bytes arrived that are not an HTTP/1.1 answer. */
  | { readonly _tag: "Malformed"; readonly detail: string; readonly raw: string }
  /** Nothing complete within the time limit, and the connection still open. */
  | { readonly _tag: "Timeout"; readonly received: number }

type Parse =
  | { readonly _tag: "Incomplete" }
  | { readonly _tag: "Malformed"; readonly detail: string }
  | { readonly _tag: "Done"; readonly response: RawResponse; readonly consumed: number; readonly closes: boolean }

const CRLF2 = Buffer.from("\r\n\r\n")
const MAX_HEAD = 256 * 1024

/** Parses one chunked body from `buf` at `at`; the index after it, or undefined when incomplete. */
const parseChunked = (
  buf: Buffer,
  at: number
): { readonly body: Buffer; readonly end: number } | "incomplete" | string => {
  const parts: Array<Buffer> = []
  let i = at
  for (;;) {
    const eol = buf.indexOf("\r\n", i)
    if (eol < 0) return buf.length - i > 1024 ? "chunk size line without CRLF" : "incomplete"
    const sizeText = buf.subarray(i, eol).toString("latin1").split(";")[0]!.trim()
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return `malformed chunk size ${JSON.stringify(sizeText.slice(0, 40))}`
    const size = parseInt(sizeText, 16)
    i = eol + 2
    if (size === 0) {
      // trailers, then the empty line
      for (;;) {
        const end = buf.indexOf("\r\n", i)
        if (end < 0) return "incomplete"
        if (end === i) return { body: Buffer.concat(parts), end: end + 2 }
        i = end + 2
      }
    }
    if (buf.length < i + size + 2) return "incomplete"
    parts.push(buf.subarray(i, i + size))
    if (buf[i + size] !== 0x0d || buf[i + size + 1] !== 0x0a) return "chunk data not followed by CRLF"
    i += size + 2
  }
}

/**
 * One answer from the start of `buf`. `head`: the request was HEAD (no body). `eof`: no more bytes
 * will come (a body without a length ends here; anything incomplete is malformed).
 */
export const parseResponse = (buf: Buffer, head: boolean, eof: boolean): Parse => {
  const headEnd = buf.indexOf(CRLF2)
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD) return { _tag: "Malformed", detail: "an answer head larger than 256 KiB" }
    return eof
      ? { _tag: "Malformed", detail: "the connection closed inside the answer's head" }
      : { _tag: "Incomplete" }
  }
  const lines = buf.subarray(0, headEnd).toString("latin1").split("\r\n")
  const statusLine = lines[0] ?? ""
  const m = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/.exec(statusLine)
  if (m === null) return { _tag: "Malformed", detail: `status line ${JSON.stringify(statusLine.slice(0, 80))}` }
  const http10 = m[1] === "0"
  const status = Number(m[2])
  const headers: Array<readonly [string, string]> = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":")
    if (colon <= 0) return { _tag: "Malformed", detail: `header line ${JSON.stringify(line.slice(0, 80))}` }
    headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()])
  }
  const get = (name: string) => headers.find(([k]) => k === name)?.[1]
  const connection = (get("connection") ?? "").toLowerCase()
  let closes = http10 ? !connection.includes("keep-alive") : connection.includes("close")
  const bodyStart = headEnd + 4
  if ((status >= 100 && status < 200) || status === 204 || status === 304 || head) {
    return { _tag: "Done", response: { status, headers, body: new Uint8Array(0) }, consumed: bodyStart, closes }
  }
  const te = get("transfer-encoding")
  if (te !== undefined) {
    if (te.toLowerCase() !== "chunked") return { _tag: "Malformed", detail: `transfer-encoding ${JSON.stringify(te)}` }
    const parsed = parseChunked(buf, bodyStart)
    if (parsed === "incomplete") {
      return eof ? { _tag: "Malformed", detail: "the connection closed inside a chunked body" } : { _tag: "Incomplete" }
    }
    if (typeof parsed === "string") return { _tag: "Malformed", detail: parsed }
    return {
      _tag: "Done",
      response: { status, headers, body: new Uint8Array(parsed.body) },
      consumed: parsed.end,
      closes
    }
  }
  const cl = get("content-length")
  if (cl !== undefined) {
    if (!/^\d{1,12}$/.test(cl) || headers.filter(([k]) => k === "content-length").length > 1) {
      return { _tag: "Malformed", detail: `content-length ${JSON.stringify(cl)}` }
    }
    const n = Number(cl)
    if (buf.length < bodyStart + n) {
      return eof
        ? { _tag: "Malformed", detail: `the connection closed after ${buf.length - bodyStart} of ${n} body bytes` }
        : { _tag: "Incomplete" }
    }
    return {
      _tag: "Done",
      response: { status, headers, body: new Uint8Array(buf.subarray(bodyStart, bodyStart + n)) },
      consumed: bodyStart + n,
      closes
    }
  }
  // No length: the body runs to the end of the connection.
  if (!eof) return { _tag: "Incomplete" }
  closes = true
  return {
    _tag: "Done",
    response: { status, headers, body: new Uint8Array(buf.subarray(bodyStart)) },
    consumed: buf.length,
    closes
  }
}

const preview = (buf: Buffer): string => buf.subarray(0, 300).toString("latin1")

/** One TCP connection that carries requests one at a time. */
class Connection {
  private buf: Buffer = Buffer.alloc(0)
  private eof = false
  private error: string | undefined
  private wake: (() => void) | undefined
  /** Requests answered on this connection so far. */
  served = 0

  readonly socket: Socket

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on("data", (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
      this.wake?.()
    })
    socket.on("end", () => {
      this.eof = true
      this.wake?.()
    })
    socket.on("close", () => {
      this.eof = true
      this.wake?.()
    })
    socket.on("error", (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? e.message
      this.eof = true
      this.wake?.()
    })
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", noDelay: true })
      socket.once("connect", () => resolve(new Connection(socket)))
      socket.once("error", reject)
    })
  }

  get closed(): boolean {
    return this.eof || this.socket.destroyed
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** Writes `bytes` (then half-closes when `end`), and waits for one answer (1xx skipped). */
  async exchange(bytes: Uint8Array, head: boolean, timeoutMs: number, end = false): Promise<Exchange> {
    this.buf = Buffer.alloc(0)
    // A server may answer and close before reading everything (431, 413): a failed write is not a verdict.
    this.socket.write(bytes, () => {})
    if (end) this.socket.end()
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const parsed = parseResponse(this.buf, head, this.eof)
      if (parsed._tag === "Malformed") {
        return this.buf.length === 0
          ? { _tag: "Closed", received: 0, error: this.error }
          : { _tag: "Malformed", detail: parsed.detail, raw: preview(this.buf) }
      }
      if (parsed._tag === "Done") {
        this.buf = this.buf.subarray(parsed.consumed)
        if (parsed.response.status >= 100 && parsed.response.status < 200 && parsed.response.status !== 101) continue
        this.served++
        return { _tag: "Response", response: parsed.response, reusable: !parsed.closes && !this.eof }
      }
      if (this.eof) return { _tag: "Closed", received: this.buf.length, error: this.error }
      const left = deadline - Date.now()
      if (left <= 0) return { _tag: "Timeout", received: this.buf.length }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.wake = undefined
    }
  }
}

/** One keep-alive connection, reopened when the server closed it. Requests are sent one at a time. */
export class Lane {
  private conn: Connection | undefined
  private readonly port: number

  constructor(port: number) {
    this.port = port
  }

  /** Sends one well-framed request and waits for its answer. */
  async send(bytes: Uint8Array, head: boolean, timeoutMs: number): Promise<Exchange> {
    let conn = this.conn
    const reused = conn !== undefined && !conn.closed
    if (conn === undefined || conn.closed) conn = await Connection.open(this.port)
    this.conn = conn
    let result = await conn.exchange(bytes, head, timeoutMs)
    // A keep-alive connection the server closed while idle: the request never reached it; once more on a new one.
    if (reused && result._tag === "Closed" && result.received === 0) {
      conn.destroy()
      conn = await Connection.open(this.port)
      this.conn = conn
      result = await conn.exchange(bytes, head, timeoutMs)
    }
    if (result._tag !== "Response" || !result.reusable) {
      conn.destroy()
      this.conn = undefined
    }
    return result
  }

  close(): void {
    this.conn?.destroy()
    this.conn = undefined
  }
}

export interface Drained {
  /** Every complete answer, in order. */
  readonly responses: ReadonlyArray<RawResponse>
  /** What was wrong with bytes after the last complete answer, if anything. */
  readonly malformed: { readonly detail: string; readonly raw: string } | undefined
  /** The connection stayed open `timeoutMs` after the client had sent everything and half-closed. */
  readonly timedOut: boolean
}

/**
 * Writes `bytes` on a fresh connection, half-closes it (the server knows nothing more will come),
 * and parses every answer until the server closes the connection (or `timeoutMs`).
 */
export const sendAndDrain = (port: number, bytes: Uint8Array, timeoutMs: number): Promise<Drained> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let settled = false
    const socket = connect({ port, host: "127.0.0.1", noDelay: true, allowHalfOpen: true })
    const finish = (timedOut: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      let buf = Buffer.concat(chunks)
      const responses: Array<RawResponse> = []
      let malformed: Drained["malformed"]
      while (buf.length > 0) {
        const parsed = parseResponse(buf, false, true)
        if (parsed._tag !== "Done") {
          // after a timeout, an unfinished answer is reported as the timeout, not as malformed
          if (!timedOut)
            malformed = { detail: parsed._tag === "Malformed" ? parsed.detail : "incomplete", raw: preview(buf) }
          break
        }
        buf = buf.subarray(parsed.consumed)
        if (parsed.response.status >= 200 || parsed.response.status === 101) responses.push(parsed.response)
      }
      resolve({ responses, malformed, timedOut })
    }
    const timer = setTimeout(() => finish(true), timeoutMs)
    socket.on("data", (d: Buffer) => chunks.push(d))
    socket.on("close", () => finish(false))
    socket.on("end", () => finish(false))
    socket.on("error", () => finish(false))
    socket.once("connect", () => {
      socket.write(bytes, () => {})
      socket.end()
    })
  })
