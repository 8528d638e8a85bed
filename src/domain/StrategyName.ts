/**
 * StrategyName: the load-balancing strategies a model can name (`strategy:` in the config), written
 * once as a Schema literal set; the type is derived from it. The config validates against the
 * schema (config/Config.ts) and the strategy registry maps every name to its factory
 * (routing/strategies/index.ts).
 */
import * as Schema from "effect/Schema"

export const StrategyName = Schema.Literals(["round_robin", "weighted", "random", "least_busy", "latency", "failover"])
export type StrategyName = typeof StrategyName.Type
