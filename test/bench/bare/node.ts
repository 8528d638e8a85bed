/**
 * The floor on Node: a bare node:http pass-through to the upstream with a keep-alive agent. It
 * forwards method, path, headers and body, and pipes the response back as it arrives (SSE included).
 *
 *   node test/bench/bare/node.ts --port 9100 --upstream http://127.0.0.1:9001 [--ttl 1800]
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from "node:http"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: { port: { type: "string" }, upstream: { type: "string" }, ttl: { type: "string", default: "1800" } }
})
const port = Number(values.port)
const upstream = new URL(values.upstream ?? "http://127.0.0.1:9001")
setTimeout(() => process.exit(3), Number(values.ttl) * 1000).unref()

const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 })
const HOP = new Set(["host", "connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"])
const strip = (headers: IncomingHttpHeaders): IncomingHttpHeaders => {
  const out: IncomingHttpHeaders = {}
  for (const name in headers) if (!HOP.has(name)) out[name] = headers[name]
  return out
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const up = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: strip(req.headers),
      agent
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, strip(upRes.headers))
      upRes.pipe(res)
    }
  )
  up.on("error", () => {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  })
  res.on("close", () => {
    if (!res.writableFinished) up.destroy()
  })
  req.pipe(up)
})
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () =>
  console.log(`bare node proxy listening on http://127.0.0.1:${port}`)
)
