/**
 * Health endpoints (no key needed): liveness (the process answers), readiness (config loaded, serving,
 * not draining), a summary with version, runtime, model count and the config version every worker
 * serves, and every target's live state (shared by all workers, so any worker answers the same).
 * A pattern model lists the upstream names it served that still have routing state (bounded by
 * `server.pattern_target_limit`), each under the model that serves it.
 */
import * as Effect from "effect/Effect"
import { GatewayState, RuntimeInfo } from "../GatewayState.ts"
import { VERSION } from "../generated/version.ts"
import type { ModelGroup, Router } from "../routing/Router.ts"
import type { TargetHealth } from "../routing/TargetHealth.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { errorResponse, json } from "./respond.ts"

export const makeHealthHandlers = Effect.gen(function* () {
  const state = yield* GatewayState
  const runtime = yield* RuntimeInfo
  const live = json({ status: "ok" })
  /**
   * Which group serves each upstream name the registry has, for the router it was resolved with:
   * a name is resolved once per snapshot, so a call costs one lookup per registered target (at most
   * the fixed targets plus `pattern_target_limit`), not one pattern match per target and group.
   */
  let served: { readonly router: Router; byModel: Map<string, ModelGroup | undefined> } | undefined
  /** The registered targets a pattern target of each group serves, by group and provider. */
  const patternTargets = (router: Router): Map<ModelGroup, Map<string, Array<TargetHealth>>> => {
    if (served?.router !== router) served = { router, byModel: new Map() }
    const previous = served.byModel
    const byModel = new Map<string, ModelGroup | undefined>()
    const out = new Map<ModelGroup, Map<string, Array<TargetHealth>>>()
    for (const h of state.health.all()) {
      const group = byModel.has(h.model)
        ? byModel.get(h.model)
        : previous.has(h.model)
          ? previous.get(h.model)
          : router.resolve(h.model)
      byModel.set(h.model, group)
      if (group === undefined || !group.patternTargets) continue
      let byProvider = out.get(group)
      if (byProvider === undefined) {
        byProvider = new Map()
        out.set(group, byProvider)
      }
      const list = byProvider.get(h.provider)
      if (list === undefined) byProvider.set(h.provider, [h])
      else list.push(h)
    }
    // Only names still registered are remembered: the cache is as bounded as the registry.
    served.byModel = byModel
    return out
  }
  return {
    liveness: (): OutgoingResponse => live,
    readiness: (): OutgoingResponse =>
      state.isDraining() ? errorResponse({ _tag: "Unavailable", message: "The gateway is shutting down." }) : live,
    detailed: (): OutgoingResponse => {
      const now = Date.now()
      const { router } = state.current()
      const patterned = patternTargets(router)
      return json({
        status: "ok",
        models: router.groups.map((group) => ({
          name: group.model.name,
          strategy: group.model.strategy,
          targets: group.targets.flatMap((entry) => {
            const fixed = entry.config.model
            const healths =
              fixed !== undefined
                ? [entry.health ?? state.health.get(entry.provider.config, fixed)].filter((h) => h !== undefined)
                : (patterned.get(group)?.get(entry.provider.config.name) ?? [])
            return healths.map((h) => {
              const latency = h.latencyMs()
              const b = h.breaker.snapshot(now)
              return {
                provider: h.provider,
                model: h.model,
                weight: entry.config.weight,
                state: b.state,
                failure_rate: Number(b.failureRate.toFixed(4)),
                samples: b.samples,
                in_flight: h.inFlight(),
                latency_ms: latency === undefined ? null : Number(latency.toFixed(1)),
                success_rate: Number(h.successRate().toFixed(4)),
                max_concurrency: entry.limiter?.max ?? null,
                active: entry.limiter?.active() ?? h.inFlight(),
                queued: entry.limiter?.waiting() ?? 0
              }
            })
          })
        }))
      })
    },
    summary: (): OutgoingResponse => {
      const snapshot = state.current()
      return json({
        status: "ok",
        version: VERSION,
        runtime: { name: runtime.name, version: runtime.version },
        models: snapshot.config.modelNames.length,
        worker: runtime.worker,
        config_version: snapshot.version,
        workers: runtime.workers().map((w) => ({ id: w.id, config_version: w.configVersion }))
      })
    }
  }
})
