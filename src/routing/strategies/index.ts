/**
 * The strategy registry: every `StrategyName` mapped to its factory, so a model's configured
 * strategy name becomes a strategy instance in one lookup.
 */
import type { StrategyName } from "../../domain/StrategyName.ts"
import type { Strategy, StrategyFactory, StrategyOptions } from "../Strategy.ts"
import * as Failover from "./Failover.ts"
import * as Latency from "./Latency.ts"
import * as LeastBusy from "./LeastBusy.ts"
import * as Random from "./Random.ts"
import * as RoundRobin from "./RoundRobin.ts"
import * as Weighted from "./Weighted.ts"

export const strategies: Record<StrategyName, StrategyFactory> = {
  round_robin: RoundRobin.make,
  weighted: Weighted.make,
  random: Random.make,
  failover: Failover.make,
  least_busy: LeastBusy.make,
  latency: Latency.make
}

/** A fresh strategy instance (own state) for one model in one config snapshot. */
export const makeStrategy = (name: StrategyName, options: StrategyOptions): Strategy => strategies[name](options)
