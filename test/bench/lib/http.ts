/**
 * The bench's own HTTP clients (node:http): one-off requests, SSE stream samples timed to the first
 * body byte and to the last, closed-loop stream workers, and a burst of many concurrent long streams.
 */
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http"

export interface Endpoint {
  readonly port: number
  readonly path: string
  readonly headers: OutgoingHttpHeaders
}

export interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: IncomingHttpHeaders
}

/** One POST (or GET without a body); rejects on a socket error or after `timeoutMs`. */
export const send = (
  port: number,
  path: string,
  body: string | undefined,
  headers: OutgoingHttpHeaders,
  timeoutMs: number,
  agent: Agent | false = false
): Promise<Reply> =>
  new Promise((ok, ko) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: body === undefined ? "GET" : "POST", headers, agent },
      (res) => {
        const parts: Array<Buffer> = []
        res.on("data", (c: Buffer) => parts.push(c))
        res.on("end", () =>
          ok({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8"), headers: res.headers })
        )
        res.on("error", ko)
      }
    )
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")))
    req.on("error", ko)
    req.end(body)
  })

export interface StreamSample {
  readonly ok: boolean
  /** Why not ok: a status, "socket", "timeout", "truncated" (no [DONE]) or "error-event". */
  readonly failure: string | undefined
  /** ms from sending the request to the first body byte. */
  readonly ttfb: number
  /** ms from sending the request to the end of the body. */
  readonly ttlb: number
  /**
   * For stamped streams (paced upstream streams): ms each content chunk after the first took from
   * the upstream's write to its arrival here (process.hrtime, one monotonic clock for both).
   */
  readonly relays: Array<number>
}

const DONE = "data: [DONE]"
const ERROR_EVENT = `data: {"error"`
const STAMP = /chatcmpl-t(\d+)"/g

/** One streamed request, timed. Never rejects: failures are samples with `ok: false`. */
export const streamOnce = (
  endpoint: Endpoint,
  body: string,
  agent: Agent,
  timeoutMs: number,
  stamps = false
): Promise<StreamSample> =>
  new Promise((ok) => {
    const start = performance.now()
    let ttfb = -1
    let settled = false
    const relays: Array<number> = []
    let pending = ""
    let stampsSeen = 0
    const finish = (failure: string | undefined): void => {
      if (settled) return
      settled = true
      const now = performance.now()
      ok({ ok: failure === undefined, failure, ttfb: ttfb < 0 ? now - start : ttfb, ttlb: now - start, relays })
    }
    const req = request(
      { host: "127.0.0.1", port: endpoint.port, path: endpoint.path, method: "POST", headers: endpoint.headers, agent },
      (res) => {
        let tail = ""
        let sawError = false
        res.on("data", (c: Buffer) => {
          if (ttfb < 0) ttfb = performance.now() - start
          const text = c.toString("latin1")
          if (stamps) {
            const arrived = process.hrtime.bigint()
            pending += text
            const end = pending.lastIndexOf("\n\n")
            if (end >= 0) {
              for (const m of pending.slice(0, end).matchAll(STAMP)) {
                if (stampsSeen++ > 0) relays.push(Number(arrived - BigInt(m[1] ?? "0")) / 1e6)
              }
              pending = pending.slice(end + 2)
            }
          }
          if (text.includes(ERROR_EVENT)) sawError = true
          tail = (tail + text).slice(-64)
        })
        res.on("end", () => {
          if (res.statusCode !== 200) finish(`HTTP ${res.statusCode ?? 0}`)
          else if (sawError) finish("error-event")
          else if (!tail.includes(DONE)) finish("truncated")
          else finish(undefined)
        })
        res.on("error", () => finish("socket"))
        res.on("aborted", () => finish("socket"))
      }
    )
    req.setTimeout(timeoutMs, () => {
      finish("timeout")
      req.destroy()
    })
    req.on("error", () => finish("socket"))
    req.end(body)
  })

/** `count` streamed requests one after another on one keep-alive connection. */
export const sequentialStreams = async (
  endpoint: Endpoint,
  body: string,
  count: number,
  timeoutMs: number,
  stamps = false
): Promise<Array<StreamSample>> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const out: Array<StreamSample> = []
  try {
    for (let i = 0; i < count; i++) out.push(await streamOnce(endpoint, body, agent, timeoutMs, stamps))
  } finally {
    agent.destroy()
  }
  return out
}

/** `connections` closed-loop workers streaming for `durationMs`. */
export const concurrentStreams = async (
  endpoint: Endpoint,
  body: string,
  connections: number,
  durationMs: number,
  timeoutMs: number
): Promise<{ samples: Array<StreamSample>; elapsedMs: number }> => {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const samples: Array<StreamSample> = []
  const start = performance.now()
  const deadline = start + durationMs
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) samples.push(await streamOnce(endpoint, body, agent, timeoutMs))
  }
  try {
    await Promise.all(Array.from({ length: connections }, worker))
  } finally {
    agent.destroy()
  }
  return { samples, elapsedMs: performance.now() - start }
}

export interface BurstResult {
  readonly samples: Array<StreamSample>
  /** ms until the last stream ended. */
  readonly elapsedMs: number
}

/** `count` streams opened at once, each on its own connection; resolves when all ended. */
export const burstStreams = async (
  endpoint: Endpoint,
  body: string,
  count: number,
  timeoutMs: number,
  stamps = false
): Promise<BurstResult> => {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  const start = performance.now()
  try {
    const samples = await Promise.all(
      Array.from({ length: count }, () => streamOnce(endpoint, body, agent, timeoutMs, stamps))
    )
    return { samples, elapsedMs: performance.now() - start }
  } finally {
    agent.destroy()
  }
}
