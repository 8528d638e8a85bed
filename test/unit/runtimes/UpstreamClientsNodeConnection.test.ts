// Node's upstream clients with connection settings, against a real local server: keep_alive false
// opens a connection per request (and says `connection: close`), a provider whose connection
// changes gets a new pool, and a CA bundle that cannot be read fails the provider's requests
// saying why instead of failing the snapshot.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { afterAll, beforeAll } from "vitest"
import { layer } from "../../../runtimes/node/UpstreamClientsNode.ts"
import { DEFAULT_CONNECTION, type ResolvedConnection } from "../../../src/config/Config.ts"
import {
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamClients
} from "../../../src/providers/UpstreamClients.ts"

const sockets: Array<Socket> = []
const connectionHeaders: Array<string | undefined> = []
let server: Server
let base = ""

beforeAll(async () => {
  server = createServer((req, res) => {
    connectionHeaders.push(req.headers.connection)
    req.resume()
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(`{"ok":true}`)
    })
  })
  server.on("connection", (s: Socket) => sockets.push(s))
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((ok) => server.close(() => ok()))
})

const options = (connection: Partial<ResolvedConnection>, provider = "p"): UpstreamClientOptions => ({
  provider,
  connectTimeoutMs: 1_000,
  connection: { ...DEFAULT_CONNECTION, proxy: { _tag: "None" }, ...connection, baseUrl: base }
})

const ok = (client: UpstreamClient) =>
  Effect.flatMap(client.post({ url: `${base}/ok`, headers: {}, body: new Uint8Array() }), (r) => r.bytes(1024))

describe("UpstreamClientsNode: connection settings", () => {
  it.live("keep_alive false: a new connection per request, each saying connection: close", () =>
    Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const before = sockets.length
      const headers = connectionHeaders.length
      const client = yield* clients.get(options({ keepAlive: false }, "once"))
      for (let i = 0; i < 3; i++) yield* ok(client)
      assert.strictEqual(sockets.length - before, 3)
      assert.deepStrictEqual(connectionHeaders.slice(headers), ["close", "close", "close"])
      const kept = yield* clients.get(options({}, "kept"))
      const reused = sockets.length
      for (let i = 0; i < 3; i++) yield* ok(kept)
      // Kept open and reused (undici may open a second one while the first is still being released).
      assert.isBelow(sockets.length - reused, 3)
      assert.deepStrictEqual(connectionHeaders.slice(-3), ["keep-alive", "keep-alive", "keep-alive"])
    }).pipe(Effect.provide(layer))
  )

  it.live("a changed connection is another pool", () =>
    Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const a = yield* clients.get(options({}, "p"))
      assert.strictEqual(yield* clients.get(options({}, "p")), a)
      assert.notStrictEqual(yield* clients.get(options({ keepAlive: false }, "p")), a)
    }).pipe(Effect.provide(layer))
  )

  it.live("a CA bundle that cannot be read: the provider's requests fail, naming the file", () =>
    Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const client = yield* clients.get(options({ caFile: "/nonexistent/llmgate-ca.pem" }))
      const exit = yield* Effect.exit(ok(client))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "/nonexistent/llmgate-ca.pem")
    }).pipe(Effect.provide(layer))
  )
})
