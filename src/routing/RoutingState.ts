/**
 * The routing state a config snapshot balances on: every target's health (breaker, in flight,
 * latency), every model's balancing position, every capped target's permits and queue. It is one
 * per gateway, not one per worker: each piece lives in shared slots (state/Slots.ts) under a key
 * derived from the config, so the owner lays out the slots for each snapshot (`routingSlotSpecs`)
 * and every worker finds the same slots by the same keys (`sharedRoutingState`). A key that stays
 * the same across a reload keeps its state: a target keeps its breaker until its breaker settings
 * change, a model keeps its position until its strategy or targets change, a capped target keeps
 * its permits (a new cap applies to them at once). A pattern model's targets (one per requested
 * name) are added as requests name them, at most `server.pattern_target_limit` of them (the least
 * recently used is evicted), and dropped by a reload that no longer routes their name to their provider.
 *
 * `localRoutingState` is the same over slots of its own (tests, and anything that runs alone).
 */
import type * as Effect from "effect/Effect"
import type { ResolvedConfig, ResolvedModel, ResolvedProvider, ResolvedTarget } from "../config/Config.ts"
import type { SlotSpec } from "../state/SlotAllocator.ts"
import type { Slot } from "../state/Slots.ts"
import {
  configureLimiter,
  type ConcurrencyLimiter,
  makeConcurrencyLimiter,
  repairLimiter
} from "./ConcurrencyLimiter.ts"
import { localStrategyState, slotsForCells, type StrategyState, strategyStateOver } from "./StrategyState.ts"
import {
  type HealthRegistry,
  lastUsedOf,
  makeHealthRegistry,
  makeHealthRegistryOver,
  parseTargetKey,
  repairTarget,
  targetKey,
  touchTarget
} from "./TargetHealth.ts"

export interface RoutingState {
  readonly health: HealthRegistry
  /** The balancing state of `model` (cell 0 and one cell per target). */
  readonly strategyState: (model: ResolvedModel) => StrategyState
  /** The permits of target `index` of `model`; undefined when it has no `max_concurrency`. */
  readonly limiter: (model: ResolvedModel, target: ResolvedTarget, index: number) => ConcurrencyLimiter | undefined
}

/** A model's balancing state: new when its strategy or its list of targets changes. */
export const groupKey = (model: ResolvedModel): string =>
  `group:${JSON.stringify([model.name, model.strategy, ...model.targets.map((t) => [t.provider, t.model ?? null])])}`

/**
 * A capped target's permits: the model, the target's provider and upstream model, and which
 * occurrence of that pair it is (so inserting another target does not move the others' permits).
 */
export const memberKey = (model: ResolvedModel, index: number): string => {
  const target = model.targets[index]!
  let occurrence = 0
  for (let i = 0; i < index; i++) {
    const t = model.targets[i]!
    if (t.provider === target.provider && t.model === target.model) occurrence++
  }
  return `member:${JSON.stringify([model.name, target.provider, target.model ?? null, occurrence])}`
}

/** The slots a target's health needs (owner side). */
export const targetSlotSpec = (provider: Pick<ResolvedProvider, "name" | "breaker">, model: string): SlotSpec => ({
  key: targetKey(provider, model),
  size: 1,
  repair: repairTarget
})

/**
 * The slots of a pattern model's target, added when a request first names it (owner side): used
 * `now` from the start (so the next new name does not evict it before its first request ran), and
 * evicted least recently used first when there are `server.pattern_target_limit` of them.
 */
export const dynamicTargetSlotSpec = (
  provider: Pick<ResolvedProvider, "name" | "breaker">,
  model: string,
  now: number
): SlotSpec => ({
  ...targetSlotSpec(provider, model),
  init: (slots) => touchTarget(slots[0]!, now),
  lastUsed: (slots) => lastUsedOf(slots[0]!)
})

/** Every slot a config's routing needs: fixed targets, models' balancing state, capped targets' permits. */
export const routingSlotSpecs = (config: ResolvedConfig): ReadonlyArray<SlotSpec> => {
  const specs = new Map<string, SlotSpec>()
  for (const model of config.models.values()) {
    specs.set(groupKey(model), { key: groupKey(model), size: slotsForCells(1 + model.targets.length) })
    model.targets.forEach((target, index) => {
      const provider = config.providers.get(target.provider)
      if (provider !== undefined && target.model !== undefined) {
        const spec = targetSlotSpec(provider, target.model)
        specs.set(spec.key, spec)
      }
      if (target.maxConcurrency !== undefined) {
        const { maxConcurrency, queueSize, queueTimeoutMs } = target
        const configure = (slots: ReadonlyArray<Slot>) =>
          configureLimiter(slots[0]!, maxConcurrency, queueSize, queueTimeoutMs)
        const key = memberKey(model, index)
        specs.set(key, { key, size: 1, init: configure, update: configure, repair: repairLimiter })
      }
    })
  }
  return [...specs.values()]
}

/**
 * Whether a target key made between snapshots (a pattern model's upstream name) may stay: its
 * provider is still configured, with the same breaker settings, and the name still goes to a
 * pattern model with a target on that provider that sends the requested name upstream (the
 * router's order: exact names, then globs, then regexes).
 */
export const keepsTarget = (config: ResolvedConfig): ((key: string) => boolean) => {
  const providers = new Set([...config.providers.values()].map((p) => providerPart(targetKey(p, ""))))
  const patterns = [...config.models.values()].flatMap((m) =>
    m.pattern._tag === "Exact"
      ? []
      : [
          {
            matches: m.pattern.matches,
            regex: m.pattern._tag === "Regex",
            providers: new Set(m.targets.filter((t) => t.model === undefined).map((t) => t.provider))
          }
        ]
  )
  const ordered = [...patterns.filter((p) => !p.regex), ...patterns.filter((p) => p.regex)]
  return (key) => {
    if (!key.startsWith("target:") || !providers.has(providerPart(key))) return false
    const target = parseTargetKey(key)
    if (target === undefined || config.models.get(target.model)?.pattern._tag === "Exact") return false
    const serving = ordered.find((p) => p.matches(target.model))
    return serving?.providers.has(target.provider.name) === true
  }
}

/** A target key without its model: the provider and its breaker settings. */
const providerPart = (key: string): string => {
  const [name, , ...settings] = JSON.parse(key.slice("target:".length)) as Array<unknown>
  return JSON.stringify([name, ...settings])
}

/**
 * The routing state over the shared slots: `slotsOf(key)` are the key's slots in the layout this
 * worker has now; `requestTarget` asks the owner for a target that has none (a pattern model's new
 * upstream name); `keys` lists the layout's keys. Handles are made once per slot and kept while the
 * layout keeps the key, so a limiter's local queue outlives config snapshots.
 */
export const sharedRoutingState = (
  slotsOf: (key: string) => ReadonlyArray<Slot> | undefined,
  requestTarget: (provider: ResolvedProvider, model: string) => Effect.Effect<void>,
  keys: () => Iterable<string>
): RoutingState & { readonly prune: () => void; readonly forget: (keys: ReadonlyArray<string>) => void } => {
  const health = makeHealthRegistryOver(
    (key) => slotsOf(key)?.[0],
    requestTarget,
    function* () {
      for (const key of keys()) if (key.startsWith("target:")) yield key
    }
  )
  const same = (a: ReadonlyArray<Slot>, b: ReadonlyArray<Slot>) =>
    a.length === b.length && a.every((s, i) => s.i32 === b[i]!.i32 && s.at === b[i]!.at && s.gen === b[i]!.gen)
  const cached = <A>(
    cache: Map<string, { readonly slots: ReadonlyArray<Slot>; readonly value: A }>,
    key: string,
    make: (slots: ReadonlyArray<Slot>) => A
  ) => {
    const slots = slotsOf(key)
    if (slots === undefined) return undefined
    const found = cache.get(key)
    if (found !== undefined && same(found.slots, slots)) return found.value
    const value = make(slots)
    cache.set(key, { slots, value })
    return value
  }
  const strategies = new Map<string, { readonly slots: ReadonlyArray<Slot>; readonly value: StrategyState }>()
  const limiters = new Map<string, { readonly slots: ReadonlyArray<Slot>; readonly value: ConcurrencyLimiter }>()
  const inLayout = (key: string) => slotsOf(key) !== undefined
  return {
    health,
    /** After a new layout: forgets the handles of keys it no longer has. */
    prune: () => {
      health.prune(inLayout)
      for (const cache of [strategies, limiters]) for (const key of cache.keys()) if (!inLayout(key)) cache.delete(key)
    },
    /** After an eviction (pattern models' targets only): forgets their handles. */
    forget: (evicted) => health.forget(evicted),
    strategyState: (model) =>
      cached(strategies, groupKey(model), strategyStateOver) ?? localStrategyState(1 + model.targets.length),
    limiter: (model, target, index) => {
      if (target.maxConcurrency === undefined) return undefined
      const shared = cached(limiters, memberKey(model, index), (slots) =>
        makeConcurrencyLimiter(target.maxConcurrency!, target.queueSize, target.queueTimeoutMs, slots[0])
      )
      return shared ?? makeConcurrencyLimiter(target.maxConcurrency, target.queueSize, target.queueTimeoutMs)
    }
  }
}

/** Routing state of its own, shared with nobody: each model and capped target gets fresh local state. */
export const localRoutingState = (health: HealthRegistry = makeHealthRegistry()): RoutingState => ({
  health,
  strategyState: (model) => localStrategyState(1 + model.targets.length),
  limiter: (_model, target) =>
    target.maxConcurrency === undefined
      ? undefined
      : makeConcurrencyLimiter(target.maxConcurrency, target.queueSize, target.queueTimeoutMs)
})
