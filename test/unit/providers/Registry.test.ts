import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import type { ResolvedConfig } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { makeProviders } from "../../../src/providers/Registry.ts"
import { fetchClient, type UpstreamClientOptions, UpstreamClients } from "../../../src/providers/UpstreamClients.ts"

const configOf = (providers: string): ResolvedConfig => {
  const r = parseConfig(`providers:\n${providers}\nmodels: [{ name: m, targets: [{ provider: m0 }] }]`, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

/** UpstreamClients that record every `retain`. */
const recording = () => {
  const retained: Array<ReadonlyArray<UpstreamClientOptions>> = []
  const client = fetchClient(globalThis.fetch)
  const clients = UpstreamClients.of({
    get: () => Effect.succeed(client),
    retain: (list) => Effect.sync(() => void retained.push(list)),
    decodesBodies: true,
    enforcesConnectTimeout: false
  })
  return { retained, clients }
}

describe("makeProviders", () => {
  it.effect("tells the upstream clients which ones each snapshot uses, so removed providers' pools are closed", () =>
    Effect.gen(function* () {
      const { retained, clients } = recording()
      const build = (providers: string) =>
        makeProviders(configOf(providers)).pipe(Effect.provideService(UpstreamClients, clients))
      const first = yield* build(`  - { name: m0, kind: mock }
  - { name: a, kind: openai, base_url: "http://127.0.0.1:1/v1" }
  - { name: b, kind: openai, base_url: "http://127.0.0.1:2/v1", timeout: { connect: 2s } }`)
      assert.deepStrictEqual([...first.keys()], ["m0", "a", "b"])
      // The reload: b removed, a's connect timeout changed.
      yield* build(`  - { name: m0, kind: mock }
  - { name: a, kind: openai, base_url: "http://127.0.0.1:1/v1", timeout: { connect: 3s } }`)
      const shown = retained.map((list) =>
        list.map(({ provider, connectTimeoutMs }) => ({ provider, connectTimeoutMs }))
      )
      assert.deepStrictEqual(shown, [
        [
          { provider: "a", connectTimeoutMs: 10_000 },
          { provider: "b", connectTimeoutMs: 2_000 }
        ],
        [{ provider: "a", connectTimeoutMs: 3_000 }]
      ])
      // With each provider's connection settings and the URL the proxy variables are matched against.
      assert.deepStrictEqual(retained[1]?.[0]?.connection, {
        proxy: { _tag: "Environment" },
        verify: true,
        caFile: undefined,
        keepAlive: true,
        baseUrl: "http://127.0.0.1:1/v1"
      })
    })
  )
})
