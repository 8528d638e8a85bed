/**
 * Health endpoints (no key needed): liveness (the process answers), readiness (config loaded, serving,
 * not draining), a summary with version, runtime, model count and the config version every worker
 * serves, and every target's live state (shared by all workers, so any worker answers the same).
 */
import * as Effect from "effect/Effect"
import pkg from "../../package.json" with { type: "json" }
import { GatewayState, RuntimeInfo } from "../GatewayState.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { errorResponse, json } from "./respond.ts"

export const VERSION: string = pkg.version

export const makeHealthHandlers = Effect.gen(function*() {
  const state = yield* GatewayState
  const runtime = yield* RuntimeInfo
  const live = json({ status: "ok" })
  return {
    liveness: (): OutgoingResponse => live,
    readiness: (): OutgoingResponse =>
      state.isDraining()
        ? errorResponse({ _tag: "Unavailable", message: "The gateway is shutting down." })
        : live,
    detailed: (): OutgoingResponse => {
      const now = Date.now()
      const { router } = state.current()
      const all = [...state.health.all()]
      return json({
        status: "ok",
        models: router.groups.map((group) => ({
          name: group.model.name,
          strategy: group.model.strategy,
          targets: group.targets.flatMap((entry) => {
            const fixed = entry.config.model
            const healths = fixed !== undefined
              ? [entry.health ?? state.health.get(entry.provider.config, fixed)].filter((h) => h !== undefined)
              : all.filter((h) => h.provider === entry.provider.config.name && group.model.pattern._tag !== "Exact" && group.model.pattern.regex.test(h.model))
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
