// Pattern models' targets are bounded (issue 10, item 2): every distinct requested name a pattern
// model serves gets a target of its own (health registry entry, shared slot), so the owner keeps at
// most `server.pattern_target_limit` of them, evicting the least recently used (as requests stamp
// them through the registry's `ensure`), workers forget evicted ones, and a reload keeps only those
// whose name still goes to a pattern target on their provider.
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import type { ResolvedConfig, ResolvedProvider } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { dynamicTargetSlotSpec, keepsTarget, routingSlotSpecs } from "../../../src/routing/RoutingState.ts"
import { lastUsedOf, makeHealthRegistryOver, targetKey, touchTarget } from "../../../src/routing/TargetHealth.ts"
import { makeSlotAllocator } from "../../../src/state/SlotAllocator.ts"
import { localSlot, type Slot } from "../../../src/state/Slots.ts"
import { slotsAs } from "../state/fixtures/slots.ts"

const config = (text: string): ResolvedConfig => {
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

const BASE = `server: { pattern_target_limit: 2 }
providers:
  - { name: a, kind: mock }
  - { name: b, kind: mock }
models:
  - { name: gpt-4o, targets: [{ provider: a }] }
  - { name: "claude-*", targets: [{ provider: a }, { provider: b, model: fixed-upstream }] }
  - { name: "/^llama/", targets: [{ provider: b }] }
`

describe("keepsTarget (a reload keeps a pattern model's target only while its name still goes there)", () => {
  const c = config(BASE)
  const a = c.providers.get("a")!
  const b = c.providers.get("b")!
  const keeps = keepsTarget(c)

  it("keeps a name a pattern model still sends to that provider", () => {
    expect(keeps(targetKey(a, "claude-3-opus"))).toBe(true)
    expect(keeps(targetKey(b, "llama-3"))).toBe(true)
  })

  it("drops names no pattern target on that provider serves", () => {
    // claude-* sends its names to `a` only (`b` has a fixed upstream model).
    expect(keeps(targetKey(b, "claude-3-opus"))).toBe(false)
    expect(keeps(targetKey(a, "llama-3"))).toBe(false)
    expect(keeps(targetKey(a, "mistral"))).toBe(false)
    // An exact model's name goes to the exact model (whose targets are fixed).
    expect(keeps(targetKey(a, "gpt-4o"))).toBe(false)
    expect(keeps("group:[]")).toBe(false)
  })

  it("drops them when the pattern model, the provider or its breaker settings change", () => {
    const withoutClaude = keepsTarget(config(BASE.replace(/ {2}- \{ name: "claude-\*".*\n/, "")))
    expect(withoutClaude(targetKey(a, "claude-3-opus"))).toBe(false)
    const otherBreaker = keepsTarget(
      config(BASE.replace("{ name: a, kind: mock }", "{ name: a, kind: mock, breaker: { min_requests: 3 } }"))
    )
    expect(otherBreaker(targetKey(a, "claude-3-opus"))).toBe(false)
    // Globs are tried before regexes, as the router does: a name both match goes to the glob's targets.
    const both = keepsTarget(config(BASE.replace(`"/^llama/"`, `"/claude/"`)))
    expect(both(targetKey(a, "claude-x"))).toBe(true)
    expect(both(targetKey(b, "claude-x"))).toBe(false)
  })
})

describe("the health registry over shared slots", () => {
  const provider = {
    name: "p",
    breaker: { failureRate: 0.5, minRequests: 1, windowMs: 10_000, cooldownMs: 1_000 }
  } as ResolvedProvider
  const setup = () => {
    const slots = new Map<string, Slot>()
    const requested: Array<string> = []
    let clock = 5_000
    const registry = makeHealthRegistryOver(
      (key) => slots.get(key),
      (p, model) =>
        Effect.sync(() => {
          requested.push(model)
          slots.set(targetKey(p, model), localSlot())
        }),
      () => slots.keys(),
      () => clock
    )
    return {
      slots,
      requested,
      registry,
      at: (ms: number) => {
        clock = ms
      }
    }
  }

  it("ensure asks for a slot once, then stamps each use (at most once a second)", async () => {
    const { slots, requested, registry, at } = setup()
    const first = await Effect.runPromise(registry.ensure(provider, "claude-x"))
    const slot = slots.get(targetKey(provider, "claude-x"))!
    expect(requested).toEqual(["claude-x"])
    expect(lastUsedOf(slot)).toBe(5_000)
    at(5_500)
    expect(await Effect.runPromise(registry.ensure(provider, "claude-x"))).toBe(first)
    expect(lastUsedOf(slot)).toBe(5_000)
    at(6_200)
    await Effect.runPromise(registry.ensure(provider, "claude-x"))
    expect(lastUsedOf(slot)).toBe(6_200)
    expect(requested).toEqual(["claude-x"])
  })

  it("forget drops an evicted target's handle; the next use asks again", async () => {
    const { slots, requested, registry } = setup()
    const first = await Effect.runPromise(registry.ensure(provider, "claude-x"))
    const key = targetKey(provider, "claude-x")
    slots.delete(key)
    registry.forget([key])
    expect([...registry.all()]).toEqual([])
    const again = await Effect.runPromise(registry.ensure(provider, "claude-x"))
    expect(again).not.toBe(first)
    expect(requested).toEqual(["claude-x", "claude-x"])
  })
})

describe("pattern targets in the owner's allocator", () => {
  it("at the limit, a new name evicts the least recently used one (as requests stamped it)", () => {
    const c = config(BASE)
    const a = c.providers.get("a")!
    const limit = c.server.bounds.patternTargetLimit
    expect(limit).toBe(2)
    const allocator = makeSlotAllocator(1)
    allocator.assign(routingSlotSpecs(c), 1, keepsTarget(c), limit)
    const owner = slotsAs(allocator)
    const one = allocator.assignDynamic(dynamicTargetSlotSpec(a, "claude-1", 1_000), limit)
    const two = allocator.assignDynamic(dynamicTargetSlotSpec(a, "claude-2", 2_000), limit)
    expect([one.evicted, two.evicted]).toEqual([undefined, undefined])
    // Assigned at 1 s and 2 s; a request uses claude-1 at 3 s.
    expect(lastUsedOf(owner(one.refs[0]!))).toBe(1_000)
    touchTarget(owner(one.refs[0]!), 3_000)
    const three = allocator.assignDynamic(dynamicTargetSlotSpec(a, "claude-3", 4_000), limit)
    expect(three.evicted).toEqual({ ticket: 1, keys: [targetKey(a, "claude-2")] })
    expect(allocator.layout().map((x) => x.key)).toEqual(
      expect.arrayContaining([targetKey(a, "claude-1"), targetKey(a, "claude-3")])
    )
    expect(allocator.layout().some((x) => x.key === targetKey(a, "claude-2"))).toBe(false)
    // Its slot waits for every worker's acknowledgement before it is reused.
    expect(allocator.stats().quarantined).toBe(1)
    const four = allocator.assignDynamic(dynamicTargetSlotSpec(a, "claude-4", 5_000), limit)
    expect(four.refs[0]!.slot).not.toBe(two.refs[0]!.slot)
    allocator.evictionsAcknowledged(2)
    expect(allocator.stats().quarantined).toBe(0)
    const five = allocator.assignDynamic(dynamicTargetSlotSpec(a, "claude-5", 6_000), limit)
    expect(five.refs[0]).toEqual({ slot: two.refs[0]!.slot, gen: two.refs[0]!.gen + 1 })
    // Never more than the limit.
    expect(allocator.layout().filter((x) => x.key.startsWith("target:") && x.key.includes("claude-"))).toHaveLength(
      limit
    )
  })

  it("a reload with a lower limit keeps the most recently used", () => {
    const c = config(BASE)
    const a = c.providers.get("a")!
    const allocator = makeSlotAllocator(1)
    allocator.assign(routingSlotSpecs(c), 1, keepsTarget(c))
    for (const [i, at] of [
      [1, 3_000],
      [2, 1_000],
      [3, 2_000]
    ] as const)
      allocator.assignDynamic(dynamicTargetSlotSpec(a, `claude-${i}`, at))
    allocator.assign(routingSlotSpecs(c), 2, keepsTarget(c), 1)
    expect(
      allocator
        .layout()
        .filter((x) => x.key.startsWith("target:") && x.key.includes("claude-"))
        .map((x) => x.key)
    ).toEqual([targetKey(a, "claude-1")])
  })
})
