// Node's upstream clients (undici) against a real local HTTP server: bodies read whole are capped
// and a body over the cap lets its connection go; the pool of a provider a reload removed is closed
// once its requests are over, while the clients an old snapshot still holds keep working.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { afterAll, beforeAll } from "vitest"
import { layer } from "../../../runtimes/node/UpstreamClientsNode.ts"
import { type UpstreamClient, UpstreamClients, type UpstreamResponse } from "../../../src/providers/UpstreamClients.ts"

const MiB = 1024 * 1024

/** What the server saw: every connection (open or closed) and how much each big answer could write. */
const seen = {
  sockets: [] as Array<{ readonly socket: Socket; closed: boolean }>,
  written: 0,
  aborted: 0
}

let server: Server
let base = ""

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/"
    req.resume()
    req.on("end", () => {
      if (path === "/ok") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(`{"ok":true}`)
      } else if (path === "/big-declared" || path === "/big-chunked") {
        // 8 MiB in 16 KiB writes, as fast as the client reads; stops when the client goes away.
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (path === "/big-declared") headers["content-length"] = String(8 * MiB)
        res.writeHead(200, headers)
        const piece = Buffer.alloc(16 * 1024, 0x20)
        let sent = 0
        res.on("close", () => {
          if (!res.writableFinished) seen.aborted++
        })
        const write = () => {
          while (sent < 8 * MiB && !res.destroyed) {
            sent += piece.length
            seen.written += piece.length
            if (!res.write(piece)) return void res.once("drain", write)
          }
          if (!res.destroyed) res.end()
        }
        write()
      } else if (path === "/stream") {
        res.writeHead(200, { "content-type": "text/event-stream" })
        let i = 0
        const timer = setInterval(() => {
          res.write(`data: ${i}\n\n`)
          if (++i === 5) {
            clearInterval(timer)
            res.end()
          }
        }, 30)
      } else {
        res.writeHead(404)
        res.end()
      }
    })
  })
  server.on("connection", (socket) => {
    const entry = { socket, closed: false }
    seen.sockets.push(entry)
    socket.on("close", () => {
      entry.closed = true
    })
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const { socket } of seen.sockets) socket.destroy()
  await new Promise<void>((ok) => server.close(() => ok()))
})

const post = (client: UpstreamClient, path: string) =>
  client.post({
    url: base + path,
    headers: { "content-type": "application/json" },
    body: new TextEncoder().encode("{}")
  })

const readAll = (response: UpstreamResponse) =>
  Effect.promise(async () => {
    const reader = response.reader()
    let text = ""
    for (;;) {
      const chunk = await reader.read()
      if (chunk === undefined) return text
      text += new TextDecoder().decode(chunk)
    }
  })

/** Waits (up to `ms`) until `check` holds; answers whether it did. */
const eventually = (check: () => boolean, ms = 3_000) =>
  Effect.promise(async () => {
    const end = Date.now() + ms
    while (!check()) {
      if (Date.now() > end) return false
      await new Promise((r) => setTimeout(r, 10))
    }
    return true
  })

/** Connections opened while `effect` runs, to watch whether they close. */
const opened = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const before = seen.sockets.length
    const value = yield* effect
    return { value, sockets: seen.sockets.slice(before) }
  })

const clientsOf = Effect.service(UpstreamClients)

describe("UpstreamClientsNode: bodies read whole", () => {
  it.live("a declared content-length over the limit fails at once and closes the connection", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "cap", connectTimeoutMs: 1_000 })
      const { value: exit, sockets } = yield* opened(
        Effect.flatMap(post(client, "/big-declared"), (r) => Effect.exit(r.bytes(64 * 1024)))
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
      assert.strictEqual(reason?._tag === "Fail" ? reason.error._tag : undefined, "UpstreamBodyTooLarge")
      assert.strictEqual(sockets.length, 1)
      assert.isTrue(
        yield* eventually(() => sockets.every((s) => s.closed)),
        "the connection is closed, not pooled half-read"
      )
    }).pipe(Effect.provide(layer))
  )

  it.live("an undeclared body is read only to just past the limit, then let go", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "cap", connectTimeoutMs: 1_000 })
      seen.written = 0
      const abortedBefore = seen.aborted
      const { value: exit, sockets } = yield* opened(
        Effect.flatMap(post(client, "/big-chunked"), (r) => Effect.exit(r.bytes(64 * 1024)))
      )
      const reason = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      assert.strictEqual(reason?._tag === "Fail" ? reason.error._tag : undefined, "UpstreamBodyTooLarge")
      assert.isTrue(yield* eventually(() => seen.aborted > abortedBefore), "the server saw the response aborted")
      // Socket buffers hold some more, but nowhere near the 8 MiB the server would have sent.
      assert.isBelow(seen.written, 4 * MiB)
      assert.isTrue(yield* eventually(() => sockets.every((s) => s.closed)))
    }).pipe(Effect.provide(layer))
  )

  it.live("a body within the limit is read whole", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "cap", connectTimeoutMs: 1_000 })
      const bytes = yield* Effect.flatMap(post(client, "/ok"), (r) => r.bytes(11))
      assert.strictEqual(new TextDecoder().decode(bytes), `{"ok":true}`)
    }).pipe(Effect.provide(layer))
  )
})

describe("UpstreamClientsNode: bodies read chunk by chunk", () => {
  it.live(
    "a reader that does not read holds undici back (the server cannot write on), then gets every byte in order",
    () =>
      Effect.gen(function* () {
        const clients = yield* clientsOf
        const client = yield* clients.get({ provider: "reader", connectTimeoutMs: 1_000 })
        seen.written = 0
        const response = yield* post(client, "/big-chunked")
        // Nothing read yet: past the reader's high-water mark undici pauses, and the socket buffers fill.
        yield* Effect.sleep("300 millis")
        const held = seen.written
        assert.isBelow(held, 4 * MiB, "the server was held back while nothing was read")
        const reader = response.reader()
        let total = 0
        let intact = true
        for (;;) {
          const chunk = yield* Effect.promise(() => reader.read())
          if (chunk === undefined) break
          total += chunk.length
          if (chunk.some((b) => b !== 0x20)) intact = false
        }
        assert.strictEqual(total, 8 * MiB)
        assert.isTrue(intact)
      }).pipe(Effect.provide(layer))
  )

  it.live("cancelling with a read pending ends that read and lets the connection go", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "reader", connectTimeoutMs: 1_000 })
      const { value: reader, sockets } = yield* opened(Effect.map(post(client, "/stream"), (r) => r.reader()))
      const first = yield* Effect.promise(() => reader.read())
      assert.strictEqual(new TextDecoder().decode(first), "data: 0\n\n")
      const pending = reader.read()
      reader.cancel()
      reader.cancel()
      // The read is over at once (the stream would have sent its next event 30 ms later).
      assert.strictEqual(yield* Effect.promise(() => pending), undefined)
      assert.strictEqual(yield* Effect.promise(() => reader.read()), undefined)
      assert.isTrue(yield* eventually(() => sockets.every((s) => s.closed)), "the half-read connection is closed")
    }).pipe(Effect.provide(layer))
  )

  it.live("a body read whole that is interrupted lets its connection go", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "reader", connectTimeoutMs: 1_000 })
      const { value: exit, sockets } = yield* opened(
        Effect.flatMap(post(client, "/stream"), (r) => Effect.exit(Effect.timeout(r.bytes(MiB), "50 millis")))
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.isTrue(yield* eventually(() => sockets.every((s) => s.closed)), "the connection is not pooled half-read")
    }).pipe(Effect.provide(layer))
  )

  it.live("an answer read after it ended is whole (its chunks waited)", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "reader", connectTimeoutMs: 1_000 })
      const response = yield* post(client, "/stream")
      yield* Effect.sleep("400 millis")
      assert.strictEqual(yield* readAll(response), [0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(""))
    }).pipe(Effect.provide(layer))
  )
})

describe("UpstreamClientsNode: pools of removed providers", () => {
  it.live("a provider still configured keeps its pool (its connections stay open and are reused)", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const options = { provider: "kept", connectTimeoutMs: 1_000 }
      const client = yield* clients.get(options)
      const { sockets: warm } = yield* opened(
        Effect.gen(function* () {
          yield* Effect.flatMap(post(client, "/ok"), (r) => r.bytes(1024))
          yield* Effect.flatMap(post(client, "/ok"), (r) => r.bytes(1024))
        })
      )
      const { sockets } = yield* opened(
        Effect.gen(function* () {
          yield* clients.retain([options])
          assert.strictEqual(yield* clients.get(options), client, "the same client after a reload that kept it")
          yield* Effect.flatMap(post(client, "/ok"), (r) => r.bytes(1024))
        })
      )
      assert.strictEqual(sockets.length, 0, "no new connection after the reload")
      assert.isTrue(warm.some((s) => !s.closed))
    }).pipe(Effect.provide(layer))
  )

  it.live("removed by a reload: a stream in flight finishes, then the pool's connections close", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const client = yield* clients.get({ provider: "gone", connectTimeoutMs: 1_000 })
      const { value: response, sockets } = yield* opened(post(client, "/stream"))
      // The reload: the new config no longer has the provider.
      yield* clients.retain([])
      assert.strictEqual(yield* readAll(response), "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n")
      assert.strictEqual(sockets.length, 1)
      // Without the close, the idle keep-alive connection would stay open for 30 s.
      assert.isTrue(
        yield* eventually(() => sockets.every((s) => s.closed), 2_000),
        "the removed provider's connection is closed"
      )
    }).pipe(Effect.provide(layer))
  )

  it.live("a request the old snapshot still makes after the reload works, and leaves no connection behind", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const options = { provider: "late", connectTimeoutMs: 1_000 }
      const client = yield* clients.get(options)
      yield* clients.retain([])
      const { value: bytes, sockets } = yield* opened(Effect.flatMap(post(client, "/ok"), (r) => r.bytes(1024)))
      assert.strictEqual(new TextDecoder().decode(bytes), `{"ok":true}`)
      assert.isAtLeast(sockets.length, 1)
      assert.isTrue(yield* eventually(() => sockets.every((s) => s.closed), 2_000))
      // Configured again later: a fresh client with its own pool, which stays open.
      const again = yield* clients.get(options)
      assert.notStrictEqual(again, client)
      const { sockets: fresh } = yield* opened(Effect.flatMap(post(again, "/ok"), (r) => r.bytes(1024)))
      assert.isAtLeast(fresh.length, 1)
      yield* Effect.sleep(100)
      assert.isTrue(fresh.some((s) => !s.closed))
    }).pipe(Effect.provide(layer))
  )

  it.live("a new connect timeout is a new pool; the old one is closed by the reload that changed it", () =>
    Effect.gen(function* () {
      const clients = yield* clientsOf
      const before = yield* clients.get({ provider: "p", connectTimeoutMs: 1_000 })
      const { sockets } = yield* opened(Effect.flatMap(post(before, "/ok"), (r) => r.bytes(1024)))
      const after = { provider: "p", connectTimeoutMs: 2_000 }
      assert.notStrictEqual(yield* clients.get(after), before)
      yield* clients.retain([after])
      assert.isTrue(yield* eventually(() => sockets.every((s) => s.closed), 2_000))
    }).pipe(Effect.provide(layer))
  )
})
