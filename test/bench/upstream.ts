/**
 * The benchmark's fake upstream: a small node:http server answering `POST …/chat/completions` with a
 * fixed small JSON body, or SSE when the request says `"stream": true`. The stream's shape comes from
 * the upstream model name (`stream-<chunks>x<intervalMs>`, e.g. `stream-20x50`) or an
 * `x-bench-stream: <chunks>x<intervalMs>` header: the role chunk and the first content chunk are
 * written at once, the remaining content chunks `intervalMs` apart (all at once when 0), then a final
 * chunk with `finish_reason` and `usage`, and `data: [DONE]`. Keep-alive is on. Chunks of paced
 * streams carry the moment they were written in their id (`chatcmpl-t<process.hrtime ns>`, the same
 * monotonic clock as the bench's), so the bench can measure how long each chunk took to reach it.
 *
 * `GET /__stats` reports this process's CPU use (process.cpuUsage, µs), RSS, and requests served per
 * provider (the `x-bench-provider` header the gateway's providers add), so the bench can tell how busy
 * the upstream was during each scenario. The process exits by itself after `--ttl` seconds.
 *
 *   node test/bench/upstream.ts --port 9001 [--ttl 1800]
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { parseArgs } from "node:util"
import { UPSTREAM_USAGE } from "./lib/config.ts"

const { values } = parseArgs({
  options: { port: { type: "string", default: "9001" }, ttl: { type: "string", default: "1800" } }
})
const port = Number(values.port)
setTimeout(() => process.exit(3), Number(values.ttl) * 1000).unref()

const created = 1_700_000_000
const model = "bench-upstream"
const completion = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created,
    model,
    choices: [
      { index: 0, message: { role: "assistant", content: "Hello from the bench upstream." }, finish_reason: "stop" }
    ],
    usage: UPSTREAM_USAGE
  })
)
const sse = (delta: object, finishReason: string | null, usage?: object): string =>
  `data: ${JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...(usage === undefined ? {} : { usage })
  })}\n\n`
const ROLE = sse({ role: "assistant", content: "" }, null)
// A content chunk stamped with the time it is written: `data: {"id":"chatcmpl-t<ns>",…}`.
const [STAMP_HEAD, STAMP_TAIL] = sse({ content: "tok " }, null).split("chatcmpl-bench") as [string, string]
const stamped = (): string => `${STAMP_HEAD}chatcmpl-t${process.hrtime.bigint()}${STAMP_TAIL}`
const CONTENT = Buffer.from(sse({ content: "tok " }, null))
const FIRST = Buffer.from(ROLE + sse({ content: "tok " }, null))
const FINAL = Buffer.from(
  `${sse({}, "stop", { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 })}data: [DONE]\n\n`
)
const SPEC = /(\d+)x(\d+)/

let requests = 0
const byProvider: Record<string, number> = {}

const stream = (res: ServerResponse, chunks: number, intervalMs: number): void => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  if (intervalMs <= 0 || chunks <= 1) {
    const parts = [FIRST]
    for (let i = 1; i < chunks; i++) parts.push(CONTENT)
    parts.push(FINAL)
    res.end(Buffer.concat(parts))
    return
  }
  res.write(ROLE + stamped())
  let sent = 1
  const timer = setInterval(() => {
    res.write(stamped())
    if (++sent >= chunks) {
      clearInterval(timer)
      res.end(FINAL)
    }
  }, intervalMs)
  res.once("close", () => clearInterval(timer))
}

const reply = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
  let body: { readonly model?: unknown; readonly stream?: unknown }
  try {
    body = JSON.parse(raw.toString("utf8")) as typeof body
  } catch {
    res.writeHead(400, { "content-type": "application/json" })
    res.end(`{"error":{"message":"invalid json","type":"invalid_request_error","param":null,"code":null}}`)
    return
  }
  if (body.stream !== true) {
    res.writeHead(200, { "content-type": "application/json", "content-length": completion.length })
    res.end(completion)
    return
  }
  const header = req.headers["x-bench-stream"]
  const spec = SPEC.exec(typeof header === "string" ? header : typeof body.model === "string" ? body.model : "")
  stream(res, spec ? Number(spec[1]) : 4, spec ? Number(spec[2]) : 0)
}

const server = createServer({ keepAliveTimeout: 120_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
  if (req.method === "GET" && req.url === "/__stats") {
    const cpu = process.cpuUsage()
    res.writeHead(200, { "content-type": "application/json" })
    res.end(
      JSON.stringify({ userUs: cpu.user, systemUs: cpu.system, rss: process.memoryUsage.rss(), requests, byProvider })
    )
    return
  }
  if (req.method !== "POST" || !(req.url ?? "").endsWith("/chat/completions")) {
    res.writeHead(404, { "content-type": "application/json" })
    res.end(`{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":"not_found"}}`)
    return
  }
  requests++
  const provider = req.headers["x-bench-provider"]
  if (typeof provider === "string") byProvider[provider] = (byProvider[provider] ?? 0) + 1
  const parts: Array<Buffer> = []
  req.on("data", (c: Buffer) => parts.push(c))
  req.on("end", () => reply(req, res, parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts)))
})
server.maxRequestsPerSocket = 0
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => {
  console.log(`bench upstream listening on http://127.0.0.1:${port}`)
})
