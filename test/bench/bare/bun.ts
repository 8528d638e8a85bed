/**
 * The floor on Bun: Bun.serve + fetch (keep-alive), forwarding method, path, headers and body and
 * streaming the response body back as it arrives.
 *
 *   bun test/bench/bare/bun.ts --port 9101 --upstream http://127.0.0.1:9001 [--ttl 1800]
 */
import { parseArgs } from "node:util"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string" }, upstream: { type: "string" }, ttl: { type: "string", default: "1800" } }
})
const upstream = (values.upstream ?? "http://127.0.0.1:9001").replace(/\/$/, "")
setTimeout(() => process.exit(3), Number(values.ttl) * 1000).unref()

const HOP = ["host", "connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]
const strip = (headers: Headers): Headers => {
  const out = new Headers(headers)
  for (const name of HOP) out.delete(name)
  return out
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  idleTimeout: 0,
  async fetch(req) {
    const url = new URL(req.url)
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer()
    const res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: strip(req.headers),
      body
    })
    return new Response(res.body, { status: res.status, headers: strip(res.headers) })
  }
})
console.log(`bare bun proxy listening on http://127.0.0.1:${server.port}`)
