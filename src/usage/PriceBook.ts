/**
 * PriceBook: the price of a request, found once per config snapshot's prices. Precedence:
 *
 *   1. the public model's own `models[].pricing` (by the configured model name, patterns included);
 *   2. the top-level `pricing:` map, by the upstream model name;
 *   3. the built-in defaults (DefaultPrices.ts), by the upstream model name;
 *   4. otherwise unknown: no cost (a UsageRecord's `cost_usd` is null), never a guess.
 *
 * Upstream names are matched exactly first, then without a date or `-latest` suffix
 * (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-20250514` → `claude-sonnet-4`,
 * `claude-3-5-haiku-latest` → `claude-3-5-haiku`), then without Anthropic's `-0` alias suffix
 * (`claude-sonnet-4-0` → `claude-sonnet-4`), all case-insensitively. Never by prefix: `gpt-4o-mini`
 * is not `gpt-4o`. Every price is converted to pico-dollars per token once, when the book is built.
 */
import type { ResolvedConfig, ResolvedPricing } from "../config/Config.ts"
import type { TokenUsage } from "../domain/Usage.ts"
import { type Cost, costOf, type TokenPrice, tokenPrice } from "./Cost.ts"
import { DEFAULT_PRICES } from "./DefaultPrices.ts"

/** Where a price came from (for logs and the admin view). */
export type PriceSource = "model" | "config" | "default"

export interface PriceMatch {
  readonly price: TokenPrice
  readonly source: PriceSource
  /** The name the price was found under (the public model or the matched upstream key). */
  readonly key: string
}

export interface PriceBook {
  /** The price of a request for public model `model` served by `upstreamModel` (null: nothing served it). */
  readonly lookup: (model: string, upstreamModel: string | null) => PriceMatch | undefined
  /** The cost of `usage` at that price; null when the model has no price. */
  readonly cost: (usage: TokenUsage, model: string, upstreamModel: string | null) => Cost | null
}

/** Most (model, upstream model) lookups a price book remembers. */
export const MEMO_LIMIT = 4096

const DATE_OR_LATEST = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/

/** The names an upstream model name is looked up under, most specific first. */
export const priceKeys = (upstreamModel: string): ReadonlyArray<string> => {
  const exact = upstreamModel.toLowerCase()
  const undated = exact.replace(DATE_OR_LATEST, "")
  const unaliased = undated.replace(/-0$/, "")
  return [...new Set([exact, undated, unaliased])]
}

const compile = (prices: ReadonlyMap<string, ResolvedPricing>): ReadonlyMap<string, TokenPrice> =>
  new Map([...prices].map(([name, p]) => [name.toLowerCase(), tokenPrice(p)]))

export const makePriceBook = (
  config: Pick<ResolvedConfig, "models" | "pricing">,
  defaults: ReadonlyMap<string, ResolvedPricing> = DEFAULT_PRICES
): PriceBook => {
  const byModel = new Map<string, TokenPrice>()
  for (const [name, model] of config.models)
    if (model.pricing !== undefined) byModel.set(name, tokenPrice(model.pricing))
  const tables: ReadonlyArray<readonly [PriceSource, ReadonlyMap<string, TokenPrice>]> = [
    ["config", compile(config.pricing)],
    ["default", compile(defaults)]
  ]
  const find = (model: string, upstreamModel: string | null): PriceMatch | undefined => {
    const own = byModel.get(model)
    if (own !== undefined) return { price: own, source: "model", key: model }
    if (upstreamModel === null) return undefined
    const keys = priceKeys(upstreamModel)
    for (const [source, table] of tables) {
      for (const key of keys) {
        const price = table.get(key)
        if (price !== undefined) return { price, source, key }
      }
    }
    return undefined
  }
  // Every priced request looks its price up (its usage record, a budget): the answer is kept per
  // (model, upstream model), which the config mostly fixes; a pattern model passes client-chosen
  // names upstream, so at most MEMO_LIMIT answers are kept and later names are looked up each time.
  const memo = new Map<string, Map<string | null, PriceMatch | null>>()
  let remembered = 0
  const lookup = (model: string, upstreamModel: string | null): PriceMatch | undefined => {
    const known = memo.get(model)?.get(upstreamModel)
    if (known !== undefined) return known ?? undefined
    const found = find(model, upstreamModel)
    if (remembered < MEMO_LIMIT) {
      remembered++
      const byUpstream = memo.get(model) ?? new Map<string | null, PriceMatch | null>()
      memo.set(model, byUpstream)
      byUpstream.set(upstreamModel, found ?? null)
    }
    return found
  }
  return {
    lookup,
    cost: (usage, model, upstreamModel) => {
      const match = lookup(model, upstreamModel)
      return match === undefined ? null : costOf(usage, match.price)
    }
  }
}
