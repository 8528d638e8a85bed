// Serves MSW handlers over a real 127.0.0.1 port with node:http, so the gateway — running as a child
// process under Node, Bun or Deno — can call them. msw's getResponse(handlers, request) does the
// matching; this bridge only converts node:http <-> Web Request/Response, and:
//  - aborts the Web Request's signal when the client goes away before the response finished, and
//  - writes response bodies chunk by chunk (no buffering), so handlers can stream and see cancellation;
//  - with `streamBodies`, hands the handler the request as soon as its head arrived, its body a
//    stream of the bytes as they come (which errors when the client aborts the upload), so a handler
//    can see an upload arrive while it is still being sent.
import { Readable } from "node:stream"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { getResponse, type RequestHandler } from "msw"
import { makeHandlers } from "./handlers.ts"
import { Recorder } from "./recorder.ts"

export interface Upstream {
  readonly port: number
  /** e.g. http://127.0.0.1:PORT/v1 — what a provider's base_url points at. */
  readonly baseUrl: string
  readonly recorder: Recorder
  close(): Promise<void>
}

const toWebRequest = async (
  req: IncomingMessage,
  origin: string,
  signal: AbortSignal,
  stream = false
): Promise<Request> => {
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one)
  }
  if (stream && req.method !== "GET" && req.method !== "HEAD") {
    // A body the client aborts errors the stream (node:http says `aborted`).
    req.once("aborted", () => req.destroy(new Error("the client aborted the request")))
    const init: RequestInit & { duplex: "half" } = {
      method: req.method ?? "POST",
      headers,
      body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>,
      signal,
      duplex: "half"
    }
    return new Request(new URL(req.url ?? "/", origin), init)
  }
  const chunks: Array<Buffer> = []
  for await (const c of req) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer))
  const method = req.method ?? "GET"
  const hasBody = method !== "GET" && method !== "HEAD" && chunks.length > 0
  return new Request(new URL(req.url ?? "/", origin), {
    method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : null,
    signal
  })
}

const writeWebResponse = async (response: Response, res: ServerResponse, signal: AbortSignal): Promise<void> => {
  const headers: Record<string, string | Array<string>> = {}
  response.headers.forEach((v, k) => {
    if (k === "content-length" && response.body !== null) return // we stream; let node chunk-encode
    headers[k] = v
  })
  res.writeHead(response.status, headers)
  if (response.body === null) {
    res.end()
    return
  }
  res.flushHeaders()
  const reader = response.body.getReader()
  const onAbort = () => {
    reader.cancel().catch(() => {})
  }
  signal.addEventListener("abort", onAbort, { once: true })
  let errored = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (res.destroyed) break
      res.write(value)
    }
  } catch {
    // The handler errored its body stream (`controller.error`): the upstream "dies" mid-response, so
    // the connection is reset instead of ending the chunked body cleanly.
    errored = !signal.aborted
  } finally {
    signal.removeEventListener("abort", onAbort)
  }
  if (res.destroyed) return
  if (errored) res.destroy()
  else res.end()
}

export interface UpstreamOptions {
  /** Record into this recorder (several upstreams may share one) instead of a fresh one. */
  readonly recorder?: Recorder
  /** Listen on this port (e.g. to restart a killed upstream where the gateway expects it); default: any free port. */
  readonly port?: number
  /** Hand handlers request bodies as streams, as they arrive (default: read whole first). */
  readonly streamBodies?: boolean
}

export const startUpstream = async (
  handlers?: (recorder: Recorder) => Array<RequestHandler>,
  options: UpstreamOptions = {}
): Promise<Upstream> => {
  const recorder = options.recorder ?? new Recorder()
  const list = (handlers ?? makeHandlers)(recorder)
  const sockets = new Set<Socket>()
  let origin = "http://127.0.0.1"
  const server: Server = createServer((req, res) => {
    const ac = new AbortController()
    res.on("close", () => {
      if (!res.writableFinished) ac.abort()
    })
    void (async () => {
      try {
        const request = await toWebRequest(req, origin, ac.signal, options.streamBodies)
        const response =
          (await getResponse(list, request)) ??
          new Response(
            JSON.stringify({
              error: { message: "fake upstream: unhandled", type: "server_error", param: null, code: null }
            }),
            {
              status: 501,
              headers: { "content-type": "application/json" }
            }
          )
        await writeWebResponse(response, res, ac.signal)
      } catch (e) {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" })
          res.end(`fake upstream bridge error: ${String(e)}`)
        } else {
          res.destroy()
        }
      }
    })()
  })
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  await new Promise<void>((ok, ko) => {
    server.once("error", ko)
    server.listen(options.port ?? 0, "127.0.0.1", () => ok())
  })
  const port = (server.address() as AddressInfo).port
  origin = `http://127.0.0.1:${port}`
  return {
    port,
    baseUrl: `${origin}/v1`,
    recorder,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy()
        server.close(() => ok())
      })
  }
}
