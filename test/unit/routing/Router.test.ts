import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import type { ResolvedConfig } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { classifyOpenAIEvent } from "../../../src/providers/openai/events.ts"
import type { Provider } from "../../../src/providers/Provider.ts"
import { makeRouter, type Router } from "../../../src/routing/Router.ts"
import { localRoutingState } from "../../../src/routing/RoutingState.ts"

const config = (text: string): ResolvedConfig => {
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

/** Providers that are never called here: routing only looks at names. */
const providersOf = (c: ResolvedConfig, only?: ReadonlyArray<string>): ReadonlyMap<string, Provider> =>
  new Map(
    [...c.providers.values()]
      .filter((p) => only === undefined || only.includes(p.name))
      .map((p): [string, Provider] => [
        p.name,
        {
          config: p,
          call: () => Effect.die("not called"),
          classifyEvent: classifyOpenAIEvent,
          streamTerminator: "[DONE]"
        }
      ])
  )

const router = (models: string, routes = "", only?: ReadonlyArray<string>): Router => {
  const c = config(`providers:
  - { name: a, kind: mock }
  - { name: b, kind: mock }
  - { name: c, kind: mock }
models:
${models}
${routes}`)
  return makeRouter(c, providersOf(c, only), () => 0, localRoutingState())
}

const resolved = (r: Router, model: string) => r.resolve(model)?.model.name

describe("Router.resolve", () => {
  // Config order deliberately puts the regex first and the exact name last.
  const r = router(`  - { name: "/^claude-.*$/", targets: [{ provider: a }] }
  - { name: "claude-3*", targets: [{ provider: b }] }
  - { name: "claude-*", targets: [{ provider: b }] }
  - { name: "claude-3-opus", targets: [{ provider: c }] }
  - { name: "/^gpt-(4|5)/", targets: [{ provider: a }] }
  - { name: "/^gpt-5/", targets: [{ provider: b }] }
  - { name: "gpt-?o", targets: [{ provider: c }] }`)

  it("an exact name beats a glob and a regex, whatever the config order", () => {
    expect(resolved(r, "claude-3-opus")).toBe("claude-3-opus")
  })

  it("a glob beats a regex listed before it", () => {
    expect(resolved(r, "claude-2")).toBe("claude-*")
  })

  it("globs are tried in config order", () => {
    // Both `claude-3*` and `claude-*` match; the first configured wins.
    expect(resolved(r, "claude-3-sonnet")).toBe("claude-3*")
  })

  it("regexes are tried in config order, after every glob", () => {
    expect(resolved(r, "gpt-5-mini")).toBe("/^gpt-(4|5)/")
    expect(resolved(r, "gpt-4o")).toBe("gpt-?o") // the glob beats the earlier regex
  })

  it("a regex name is a regex, matched where it says (unanchored unless it anchors)", () => {
    const r2 = router(`  - { name: "/mini/i", targets: [{ provider: a }] }`)
    expect(resolved(r2, "GPT-4o-MINI-x")).toBe("/mini/i")
    expect(resolved(r2, "gpt-4o")).toBeUndefined()
  })

  it("globs are anchored, ? is one character and other characters are literal", () => {
    const r2 = router(`  - { name: "v1.?-*", targets: [{ provider: a }] }`)
    expect(resolved(r2, "v1.2-x")).toBe("v1.?-*")
    expect(resolved(r2, "v1.2-")).toBe("v1.?-*")
    expect(resolved(r2, "v1x2-x")).toBeUndefined() // "." is literal
    expect(resolved(r2, "v1.22-x")).toBeUndefined() // "?" is exactly one
    expect(resolved(r2, "xv1.2-x")).toBeUndefined()
  })

  it("returns undefined when nothing matches", () => {
    expect(resolved(r, "llama")).toBeUndefined()
  })
})

describe("Router.byName", () => {
  const r = router(`  - { name: gpt-4o, targets: [{ provider: a }] }
  - { name: "claude-*", targets: [{ provider: b }] }
  - { name: "/^x/", targets: [{ provider: b }] }`)

  it("finds exact names only", () => {
    expect(r.byName("gpt-4o")?.model.name).toBe("gpt-4o")
    expect(r.byName("claude-*")).toBeUndefined()
    expect(r.byName("claude-2")).toBeUndefined()
    expect(r.byName("/^x/")).toBeUndefined()
    expect(r.byName("xyz")).toBeUndefined()
  })

  it("returns the same group as resolve", () => {
    expect(r.byName("gpt-4o")).toBe(r.resolve("gpt-4o"))
  })
})

describe("Router.pinnedModel", () => {
  const r = router(
    `  - { name: embed-default, targets: [{ provider: a }] }
  - { name: embed-other, targets: [{ provider: b }] }
  - { name: chat, targets: [{ provider: c }] }`,
    `routes:
  - { path: "/v1/embeddings", model: embed-default }
  - { path: "/v1/embeddings*", model: embed-other }
  - { path: "/tenant/*/v1/chat/completions", model: chat }
  - { path: "/v?/models.list", model: chat }`
  )

  it("pins an exact path", () => {
    expect(r.pinnedModel("/v1/embeddings")).toBe("embed-default")
  })

  it("matches globs on the path, first route in config order wins", () => {
    expect(r.pinnedModel("/v1/embeddings/batch")).toBe("embed-other")
    expect(r.pinnedModel("/tenant/acme/v1/chat/completions")).toBe("chat")
    expect(r.pinnedModel("/v2/models.list")).toBe("chat")
  })

  it("is anchored and treats regex characters literally", () => {
    expect(r.pinnedModel("/x/v1/embeddings")).toBeUndefined()
    expect(r.pinnedModel("/v2/modelsXlist")).toBeUndefined()
    expect(r.pinnedModel("/v1/chat/completions")).toBeUndefined()
  })

  it("returns undefined without routes", () => {
    expect(router(`  - { name: m, targets: [{ provider: a }] }`).pinnedModel("/v1/embeddings")).toBeUndefined()
  })
})

describe("Router groups", () => {
  it("holds one group per model in config order, each target with its config index and limiter", () => {
    const r = router(`  - name: m
    strategy: failover
    targets:
      - { provider: a, model: up-a }
      - { provider: b, max_concurrency: 2, queue: { size: 3, timeout: 1s } }
  - { name: "n-*", targets: [{ provider: c }] }`)
    expect(r.groups.map((g) => g.model.name)).toEqual(["m", "n-*"])
    const m = r.byName("m")
    expect(m?.targets.map((t) => [t.index, t.provider.config.name, t.config.model])).toEqual([
      [0, "a", "up-a"],
      [1, "b", "m"]
    ])
    expect(m?.targets[0]?.limiter).toBeUndefined()
    const limiter = m?.targets[1]?.limiter
    expect([limiter?.max, limiter?.queueSize, limiter?.active()]).toEqual([2, 3, 0])
    expect(r.resolve("n-1")?.targets[0]?.config.model).toBeUndefined()
  })

  it("leaves out targets whose provider is missing, keeping the others' indices", () => {
    const r = router(`  - { name: m, targets: [{ provider: a }, { provider: b }, { provider: c }] }`, "", ["a", "c"])
    expect(r.byName("m")?.targets.map((t) => [t.index, t.provider.config.name])).toEqual([
      [0, "a"],
      [2, "c"]
    ])
  })

  it("builds a fresh strategy per group with the configured weights", () => {
    const r = router(
      `  - { name: m, strategy: weighted, targets: [{ provider: a, weight: 3 }, { provider: b, weight: 1 }] }`
    )
    const g = r.byName("m")
    if (g === undefined) throw new Error("no group")
    const views = g.targets.map((t) => ({
      index: t.index,
      weight: t.config.weight,
      inFlight: 0,
      latencyMs: undefined,
      successRate: 1
    }))
    const picks = Array.from({ length: 1000 }, () => g.strategy.pick(views).index)
    expect(picks.filter((i) => i === 0).length).toBe(750)
  })
})
