// The connection a provider's client makes (its settings resolved against the proxy variables) and
// how the fetch-based runtimes' layer pools clients per distinct connection.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { DEFAULT_CONNECTION, type ResolvedConnection } from "../../../src/config/Config.ts"
import {
  connectionKey,
  isDefaultConnection,
  type OpenedClient,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamClients,
  type UpstreamConnection,
  upstreamConnection,
  UpstreamFailure
} from "../../../src/providers/UpstreamClients.ts"

const PROXY = "http://proxy.internal:3128"

const options = (
  connection: Partial<ResolvedConnection> = {},
  baseUrl = "https://api.example.com/v1",
  provider = "p"
): UpstreamClientOptions => ({
  provider,
  connectTimeoutMs: 1_000,
  connection: { ...DEFAULT_CONNECTION, ...connection, baseUrl }
})

describe("upstreamConnection", () => {
  it("no settings, no proxy variables: direct with the defaults", () => {
    const c = upstreamConnection(options(), {})
    assert.deepStrictEqual(c, {
      connectTimeoutMs: 1_000,
      proxy: undefined,
      verify: true,
      caFile: undefined,
      keepAlive: true,
      environmentProxies: false,
      environmentNoProxy: false,
      invalidVariable: undefined
    })
    assert.isTrue(isDefaultConnection(c))
    assert.isTrue(
      isDefaultConnection(upstreamConnection({ provider: "p", connectTimeoutMs: 1 }, { HTTPS_PROXY: PROXY }))
    )
  })

  it("the proxy variables apply to a provider that sets no proxy, for its URL", () => {
    const env = { HTTPS_PROXY: PROXY, NO_PROXY: "internal.example" }
    assert.strictEqual(upstreamConnection(options(), env).proxy, PROXY)
    const bypassed = upstreamConnection(options({}, "https://llm.internal.example/v1"), env)
    assert.strictEqual(bypassed.proxy, undefined)
    assert.isTrue(bypassed.environmentProxies)
    assert.isTrue(bypassed.environmentNoProxy)
    assert.isTrue(isDefaultConnection(bypassed), "direct by NO_PROXY: the defaults, but a fetch must be told so")
  })

  it("a configured proxy wins over the variables and NO_PROXY; proxy none is direct whatever they say", () => {
    const env = { HTTPS_PROXY: "http://other:1", NO_PROXY: "*" }
    assert.strictEqual(upstreamConnection(options({ proxy: { _tag: "Url", url: PROXY } }), env).proxy, PROXY)
    assert.strictEqual(
      upstreamConnection(options({ proxy: { _tag: "None" } }), { HTTPS_PROXY: PROXY }).proxy,
      undefined
    )
  })

  it("a variable that names no proxy: direct, and said", () => {
    const c = upstreamConnection(options(), { https_proxy: "socks5://x:1" })
    assert.strictEqual(c.proxy, undefined)
    assert.strictEqual(c.invalidVariable, "https_proxy")
  })

  it("connectionKey: equal for equal connections, different for any setting", () => {
    const key = (o: UpstreamClientOptions) => connectionKey(upstreamConnection(o, {}))
    assert.strictEqual(key(options({}, "https://a.example/v1", "a")), key(options({}, "https://b.example/v1", "b")))
    const keys = new Set([
      key(options()),
      key(options({ verify: false })),
      key(options({ caFile: "/ca.pem" })),
      key(options({ keepAlive: false })),
      key(options({ proxy: { _tag: "Url", url: PROXY } })),
      key({ ...options(), connectTimeoutMs: 2_000 })
    ])
    assert.strictEqual(keys.size, 6)
  })
})

/** A runtime's `open` that records what it made and closed; its clients answer with their number. */
const recordingRuntime = (env: Record<string, string> = {}) => {
  const opened: Array<UpstreamConnection> = []
  const closed: Array<number> = []
  let failing: string | undefined
  const open = (connection: UpstreamConnection): OpenedClient => {
    if (failing !== undefined) throw new Error(failing)
    const n = opened.push(connection)
    const client: UpstreamClient = {
      post: () => Effect.fail(new UpstreamFailure({ message: `client ${n}` }))
    }
    return { client, close: () => void closed.push(n) }
  }
  return {
    opened,
    closed,
    failWith: (message: string | undefined) => {
      failing = message
    },
    layer: UpstreamClients.layerFetch({ env, open })
  }
}

const answer = (client: UpstreamClient) =>
  Effect.map(Effect.exit(client.post({ url: "https://x/", headers: {}, body: new Uint8Array() })), (exit) =>
    Exit.isFailure(exit) ? String(exit.cause) : "succeeded"
  )

describe("UpstreamClients.layerFetch", () => {
  it.effect("default connections share the runtime's fetch; others are opened once per distinct connection", () => {
    const runtime = recordingRuntime()
    return Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const a = yield* clients.get(options({}, "https://a.example/v1", "a"))
      const b = yield* clients.get(options({}, "https://b.example/v1", "b"))
      assert.strictEqual(a, b)
      assert.strictEqual(runtime.opened.length, 0)
      const c = yield* clients.get(options({ keepAlive: false }, "https://a.example/v1", "c"))
      const d = yield* clients.get(options({ keepAlive: false }, "https://b.example/v1", "d"))
      assert.strictEqual(c, d, "the same connection settings share one client")
      assert.strictEqual(runtime.opened.length, 1)
      yield* clients.get(options({ proxy: { _tag: "Url", url: PROXY } }))
      assert.deepStrictEqual(
        runtime.opened.map((o) => [o.proxy, o.keepAlive]),
        [
          [undefined, false],
          [PROXY, true]
        ]
      )
    }).pipe(Effect.provide(runtime.layer))
  })

  it.effect("NO_PROXY alone names no proxy: default connections still share the runtime's fetch", () => {
    const runtime = recordingRuntime({ NO_PROXY: "localhost" })
    return Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const a = yield* clients.get(options({}, "https://a.example/v1", "a"))
      assert.strictEqual(yield* clients.get(options({}, "https://b.example/v1", "b")), a)
      assert.strictEqual(runtime.opened.length, 0)
    }).pipe(Effect.provide(runtime.layer))
  })

  it.effect(
    "while a variable names a proxy, even a default connection is opened (the runtime's fetch would read it)",
    () => {
      const runtime = recordingRuntime({ NO_PROXY: "a.example", HTTPS_PROXY: PROXY })
      return Effect.gen(function* () {
        const clients = yield* UpstreamClients
        yield* clients.get(options({}, "https://a.example/v1"))
        yield* clients.get(options({}, "https://b.example/v1"))
        assert.deepStrictEqual(
          runtime.opened.map((o) => o.proxy),
          [undefined, PROXY]
        )
      }).pipe(Effect.provide(runtime.layer))
    }
  )

  it.effect("a reload retires unused clients; a late request gets a one-off client, closed after it", () => {
    const runtime = recordingRuntime()
    return Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const kept = options({ verify: false }, "https://a.example/v1", "kept")
      const gone = options({ keepAlive: false }, "https://b.example/v1", "gone")
      yield* clients.get(kept)
      const old = yield* clients.get(gone)
      yield* clients.retain([kept])
      assert.deepStrictEqual(runtime.closed, [2])
      assert.match(yield* answer(old), /client 3/)
      assert.deepStrictEqual(runtime.closed, [2, 3])
      const again = yield* clients.get(gone)
      assert.notStrictEqual(again, old)
      assert.match(yield* answer(again), /client 4/)
    }).pipe(Effect.provide(runtime.layer))
  })

  it.effect("a connection that cannot be made: its requests fail saying why (no defect)", () => {
    const runtime = recordingRuntime()
    runtime.failWith("ENOENT: /gone/ca.pem")
    return Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const client = yield* clients.get(options({ caFile: "/gone/ca.pem" }))
      assert.match(yield* answer(client), /provider p: cannot connect: ENOENT: \/gone\/ca\.pem/)
    }).pipe(Effect.provide(runtime.layer))
  })

  it.effect("without a runtime (one-off commands): one shared fetch client for every provider", () =>
    Effect.gen(function* () {
      const clients = yield* UpstreamClients
      const a = yield* clients.get(options({ keepAlive: false }))
      const b = yield* clients.get(options())
      assert.strictEqual(a, b)
    }).pipe(Effect.provide(UpstreamClients.layerFetch()))
  )
})
