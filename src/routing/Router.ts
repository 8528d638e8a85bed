/**
 * Model routing, compiled once per config snapshot: a requested model name → the model group that
 * serves it (exact names first, then globs, then `/regex/` names, each in config order; every
 * matcher is linear in the name, config/ModelPattern.ts), and a request path → the model a `routes`
 * entry pins it to. Each group holds its strategy instance and its targets with their providers,
 * health (for a fixed upstream model) and concurrency limiters, taken from the routing state
 * (shared by every worker).
 */
import type { ResolvedConfig, ResolvedModel, ResolvedTarget } from "../config/Config.ts"
import type { Provider } from "../providers/Provider.ts"
import type { ConcurrencyLimiter } from "./ConcurrencyLimiter.ts"
import type { RoutingState } from "./RoutingState.ts"
import type { Strategy } from "./Strategy.ts"
import { makeStrategy } from "./strategies/index.ts"
import type { TargetHealth } from "./TargetHealth.ts"

export interface TargetEntry {
  readonly index: number
  readonly config: ResolvedTarget
  readonly provider: Provider
  /** The target's health when its upstream model is fixed; a pattern target's depends on the requested name. */
  readonly health: TargetHealth | undefined
  readonly limiter: ConcurrencyLimiter | undefined
}

export interface ModelGroup {
  readonly model: ResolvedModel
  readonly strategy: Strategy
  readonly targets: ReadonlyArray<TargetEntry>
  /** Whether some target sends the requested name upstream (its health depends on the request). */
  readonly patternTargets: boolean
}

export interface Router {
  /** The group serving a requested model name, or undefined when none matches. */
  readonly resolve: (model: string) => ModelGroup | undefined
  /** A group by its exact configured name (fallbacks, routes). */
  readonly byName: (name: string) => ModelGroup | undefined
  /** The model a `routes` entry pins `path` to, if any. */
  readonly pinnedModel: (path: string) => string | undefined
  readonly groups: ReadonlyArray<ModelGroup>
}

export const makeRouter = (
  config: ResolvedConfig,
  providers: ReadonlyMap<string, Provider>,
  random: () => number,
  routing: RoutingState
): Router => {
  const groups: Array<ModelGroup> = []
  const exact = new Map<string, ModelGroup>()
  const patterns: Array<{
    readonly matches: (model: string) => boolean
    readonly group: ModelGroup
    readonly regexName: boolean
  }> = []
  for (const model of config.models.values()) {
    const targets = model.targets.flatMap((t, index): Array<TargetEntry> => {
      const provider = providers.get(t.provider)
      if (provider === undefined) return []
      const health = t.model === undefined ? undefined : routing.health.get(provider.config, t.model)
      return [{ index, config: t, provider, health, limiter: routing.limiter(model, t, index) }]
    })
    const group: ModelGroup = {
      model,
      strategy: makeStrategy(model.strategy, {
        weights: model.targets.map((t) => t.weight),
        random,
        state: routing.strategyState(model)
      }),
      targets,
      patternTargets: targets.some((t) => t.health === undefined)
    }
    groups.push(group)
    if (model.pattern._tag === "Exact") exact.set(model.name, group)
    else patterns.push({ matches: model.pattern.matches, group, regexName: model.pattern._tag === "Regex" })
  }
  // Globs before regexes; config order within each kind.
  const ordered = [...patterns.filter((p) => !p.regexName), ...patterns.filter((p) => p.regexName)]
  const resolve = (model: string): ModelGroup | undefined => {
    const found = exact.get(model)
    if (found !== undefined) return found
    for (const p of ordered) if (p.matches(model)) return p.group
    return undefined
  }
  const routes = config.routes
  return {
    resolve,
    byName: (name) => exact.get(name),
    pinnedModel: (path) => {
      for (const r of routes) if (r.matches(path)) return r.model
      return undefined
    },
    groups
  }
}
