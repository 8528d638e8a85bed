/**
 * A worker's own part of the metrics: what its usage records do not carry. Requests refused by a
 * rate limit or a budget (`rejected`), circuit breaker transitions this worker made, failed span
 * exports (`exportFailed`), and, read when
 * the owner asks (`report`), the breakers' states (shared by every worker, so any one's view is the
 * gateway's) and how many of its requests are in flight. Counts are cumulative since the worker
 * started; the owner sums every worker's (metrics/GatewayMetrics.ts). Synchronous and cheap: a
 * Map update per event, nothing per successful request.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { GatewayError } from "../domain/GatewayError.ts"
import type { LimitRefusal } from "../limits/RateLimits.ts"
import type { BreakerState, BreakerTransition } from "../routing/CircuitBreaker.ts"
import type { TargetHealth } from "../routing/TargetHealth.ts"

/** One worker's answer to the owner's pull (plain data: it crosses threads). */
export interface WorkerMetricsReport {
  /** Requests of this worker whose usage record is not written yet (in flight, streams included). */
  readonly active: number
  /** [from, to, count] since the worker started. */
  readonly transitions: ReadonlyArray<readonly [BreakerState, BreakerState, number]>
  /** [limit, scope, count] since the worker started; `limit` is a rate limit's name or `budget`. */
  readonly rejections: ReadonlyArray<readonly [string, string, number]>
  /** [destination, count] of failed span exports since the worker started. */
  readonly exportFailures: ReadonlyArray<readonly [string, number]>
  /** Every target with routing state: its breaker's state now. */
  readonly breakers: ReadonlyArray<{ readonly provider: string; readonly model: string; readonly state: BreakerState }>
}

export interface WorkerMetricsShape {
  readonly rejected: (reason: LimitRefusal) => void
  readonly transition: (t: BreakerTransition) => void
  readonly exportFailed: (destination: string) => void
  readonly report: (active: number, targets: Iterable<TargetHealth>, now: number) => WorkerMetricsReport
}

export class WorkerMetrics extends Context.Service<WorkerMetrics, WorkerMetricsShape>()("llmgate/WorkerMetrics") {}

/** Keeps one count per distinct pair, the pair's parts kept for the report. */
const pairCounter = <A extends string, B extends string>() => {
  const counts = new Map<string, { readonly a: A; readonly b: B; n: number }>()
  return {
    add: (a: A, b: B) => {
      const key = `${a}\u0000${b}`
      const found = counts.get(key)
      if (found === undefined) counts.set(key, { a, b, n: 1 })
      else found.n++
    },
    entries: (): ReadonlyArray<readonly [A, B, number]> => [...counts.values()].map((c) => [c.a, c.b, c.n] as const)
  }
}

export const makeWorkerMetrics = (): WorkerMetricsShape => {
  const transitions = pairCounter<BreakerState, BreakerState>()
  const rejections = pairCounter<string, string>()
  const exportFailures = new Map<string, number>()
  return {
    rejected: (reason) => rejections.add(reason._tag === "BudgetExceeded" ? "budget" : reason.limit, reason.scope),
    transition: (t) => transitions.add(t.from, t.to),
    exportFailed: (destination) => {
      exportFailures.set(destination, (exportFailures.get(destination) ?? 0) + 1)
    },
    report: (active, targets, now) => ({
      active,
      transitions: transitions.entries(),
      rejections: rejections.entries(),
      exportFailures: [...exportFailures],
      breakers: [...targets].map((h) => ({
        provider: h.provider,
        model: h.model,
        state: h.breaker.snapshot(now).state
      }))
    })
  }
}

/** Counts nothing (tests, tools, and a gateway with metrics off). */
export const NO_WORKER_METRICS: WorkerMetricsShape = {
  rejected: () => {},
  transition: () => {},
  exportFailed: () => {},
  report: () => ({ active: 0, transitions: [], rejections: [], exportFailures: [], breakers: [] })
}

/** The metrics exposition as the HTTP layer asks for it (the owner renders it: cluster/RemoteAdminStore.ts). */
export interface MetricsExpositionShape {
  /** The text exposition; fails when the owner cannot answer. */
  readonly scrape: Effect.Effect<string, GatewayError>
}

export class MetricsExposition extends Context.Service<MetricsExposition, MetricsExpositionShape>()(
  "llmgate/MetricsExposition"
) {}
