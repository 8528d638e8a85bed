// `/health/detailed` needs no key, so its cost must not grow with (registered targets × patterns)
// (issue 10, item 2): each registered upstream name is resolved to the model that serves it once
// per snapshot, and listed under that model's pattern targets on its provider.
import { Context, Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import type { ModelPattern, ResolvedConfig } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { GatewayState, type GatewayStateShape, RuntimeInfo, type Snapshot } from "../../../src/GatewayState.ts"
import { isBytes } from "../../../src/http/Exchange.ts"
import { makeHealthHandlers } from "../../../src/http/Health.ts"
import { classifyOpenAIEvent } from "../../../src/providers/openai/events.ts"
import type { Provider } from "../../../src/providers/Provider.ts"
import { makeRouter } from "../../../src/routing/Router.ts"
import { localRoutingState } from "../../../src/routing/RoutingState.ts"
import { makeHealthRegistry } from "../../../src/routing/TargetHealth.ts"

const parsed = (() => {
  const r = parseConfig(
    `providers:
  - { name: a, kind: mock }
  - { name: b, kind: mock }
models:
  - { name: gpt-4o, targets: [{ provider: a }] }
  - { name: "claude-*", targets: [{ provider: a }, { provider: b, model: fixed-upstream }] }
  - { name: "/^llama/", targets: [{ provider: b }] }
`,
    {},
    "t"
  )
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
})()

/** The config with every pattern's matcher counting its calls. */
const counted = (c: ResolvedConfig) => {
  let calls = 0
  const models = new Map(
    [...c.models].map(([name, m]) => {
      const pattern: ModelPattern =
        m.pattern._tag === "Exact"
          ? m.pattern
          : {
              _tag: m.pattern._tag,
              matches: ((inner) => (s: string) => {
                calls++
                return inner(s)
              })(m.pattern.matches)
            }
      return [name, { ...m, pattern }] as const
    })
  )
  return { config: { ...c, models }, calls: () => calls }
}

const detailedOf = async () => {
  const { config, calls } = counted(parsed)
  const health = makeHealthRegistry()
  const providers = new Map<string, Provider>(
    [...config.providers.values()].map((p) => [
      p.name,
      {
        config: p,
        call: () => Effect.die("not called"),
        classifyEvent: classifyOpenAIEvent,
        streamTerminator: "[DONE]"
      }
    ])
  )
  const router = makeRouter(config, providers, () => 0, localRoutingState(health))
  const a = config.providers.get("a")!
  const b = config.providers.get("b")!
  for (let i = 0; i < 20; i++) {
    await Effect.runPromise(health.ensure(a, `claude-${i}`))
    await Effect.runPromise(health.ensure(b, `llama-${i}`))
  }
  const state = { current: () => ({ router, config }) as unknown as Snapshot, health } as unknown as GatewayStateShape
  const handlers = await Effect.runPromise(
    makeHealthHandlers.pipe(
      Effect.provide(
        Context.make(GatewayState, state).pipe(
          Context.add(
            RuntimeInfo,
            RuntimeInfo.of({ name: "node", version: "x", worker: { id: 0, count: 1 }, workers: () => [] })
          )
        )
      )
    )
  )
  const detailed = () => {
    const body = handlers.detailed().body
    if (!isBytes(body)) throw new Error("expected bytes")
    return JSON.parse(new TextDecoder().decode(body)) as {
      models: Array<{ name: string; targets: Array<{ provider: string; model: string }> }>
    }
  }
  return { detailed, calls }
}

describe("/health/detailed", () => {
  it("lists each pattern-matched name under the model and provider that serve it", async () => {
    const { detailed } = await detailedOf()
    const byModel = new Map(detailed().models.map((m) => [m.name, m.targets.map((t) => `${t.provider}/${t.model}`)]))
    expect(byModel.get("claude-*")).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `a/claude-${i}`),
      "b/fixed-upstream"
    ])
    expect(byModel.get("/^llama/")).toEqual(Array.from({ length: 20 }, (_, i) => `b/llama-${i}`))
    expect(byModel.get("gpt-4o")).toEqual(["a/gpt-4o"])
  })

  it("matches each registered name once per snapshot, not once per call and pattern target", async () => {
    const { detailed, calls } = await detailedOf()
    detailed()
    const first = calls()
    // At most one match per pattern model for each of the 40 names (the fixed targets' names too).
    expect(first).toBeLessThanOrEqual(2 * 42)
    for (let i = 0; i < 5; i++) detailed()
    expect(calls()).toBe(first)
  })
})
