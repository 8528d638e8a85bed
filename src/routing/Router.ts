/**
 * Model routing: public model name → the target that serves this request. Compiled once per config
 * snapshot; lookups on the request path are a single map access. Strategies, breakers, retries and
 * fallbacks (routing issue) plug in behind `select`.
 */
import type { ResolvedConfig, ResolvedModel, ResolvedTarget } from "../config/Config.ts"
import type { Provider } from "../providers/Provider.ts"

export interface Route {
  readonly model: ResolvedModel
  readonly target: ResolvedTarget
  readonly provider: Provider
}

export interface Router {
  /** The route for a public model name, or undefined when no model has that name. */
  readonly select: (model: string) => Route | undefined
}

export const makeRouter = (config: ResolvedConfig, providers: ReadonlyMap<string, Provider>): Router => {
  const routes = new Map<string, Route>()
  for (const [name, model] of config.models) {
    const target = model.targets[0]
    const provider = target && providers.get(target.provider)
    if (target && provider) routes.set(name, { model, target, provider })
  }
  return { select: (model) => routes.get(model) }
}
