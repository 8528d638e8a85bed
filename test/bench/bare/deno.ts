/**
 * The floor on Deno: Deno.serve + fetch (keep-alive), forwarding method, path, headers and body and
 * streaming the response body back as it arrives. Typechecked against the small Deno declaration the
 * Deno entry uses (runtimes/deno/deno.d.ts).
 *
 *   deno run --allow-net test/bench/bare/deno.ts --port 9102 --upstream http://127.0.0.1:9001 [--ttl 1800]
 */
/// <reference path="../../../runtimes/deno/deno.d.ts" />

const arg = (name: string, fallback: string): string => {
  const i = Deno.args.indexOf(`--${name}`)
  return i >= 0 ? (Deno.args[i + 1] ?? fallback) : fallback
}
const upstream = arg("upstream", "http://127.0.0.1:9001").replace(/\/$/, "")
setTimeout(() => Deno.exit(3), Number(arg("ttl", "1800")) * 1000)

const HOP = ["host", "connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]
const strip = (headers: Headers): Headers => {
  const out = new Headers(headers)
  for (const name of HOP) out.delete(name)
  return out
}

Deno.serve(
  {
    hostname: "127.0.0.1",
    port: Number(arg("port", "9102")),
    onListen: (addr) => console.log(`bare deno proxy listening on http://127.0.0.1:${addr.port}`)
  },
  async (req) => {
    const url = new URL(req.url)
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer()
    const res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: strip(req.headers),
      body
    })
    return new Response(res.body, { status: res.status, headers: strip(res.headers) })
  }
)
