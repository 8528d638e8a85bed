/**
 * Builds the Provider for every configured provider, by kind. The only place that maps a kind to
 * its implementation; everything else talks to the Provider contract. Providers get the server's
 * bounds with their own config (what they read from an upstream is capped by them), and building a
 * snapshot's providers tells the upstream clients which ones are still in use, so those of removed
 * providers are closed.
 */
import * as Effect from "effect/Effect"
import type { ResolvedBounds, ResolvedConfig, ResolvedProvider } from "../config/Config.ts"
import * as AnthropicProvider from "./anthropic/AnthropicProvider.ts"
import * as AzureProvider from "./azure/AzureProvider.ts"
import * as MockProvider from "./mock/MockProvider.ts"
import * as OpenAIProvider from "./openai/OpenAIProvider.ts"
import type { Provider } from "./Provider.ts"
import { type UpstreamClientOptions, UpstreamClients } from "./UpstreamClients.ts"

const makeProvider = (
  config: ResolvedProvider,
  bounds: ResolvedBounds
): Effect.Effect<Provider, never, UpstreamClients> => {
  switch (config.kind) {
    case "openai":
      return OpenAIProvider.make(config, bounds)
    case "azure":
      return AzureProvider.make(config, bounds)
    case "anthropic":
      return AnthropicProvider.make(config, bounds)
    case "mock":
      return Effect.succeed(MockProvider.make(config))
  }
}

/** The upstream client a provider uses (its pool and connection settings), if it uses one. */
export const upstreamClientOptions = (config: ResolvedProvider): UpstreamClientOptions | undefined => {
  switch (config.kind) {
    case "openai":
      return OpenAIProvider.clientOptions(config)
    case "azure":
      return AzureProvider.clientOptions(config)
    case "anthropic":
      return AnthropicProvider.clientOptions(config)
    case "mock":
      return undefined
  }
}

export const makeProviders = Effect.fnUntraced(function* (config: ResolvedConfig) {
  const providers = new Map<string, Provider>()
  for (const [name, provider] of config.providers)
    providers.set(name, yield* makeProvider(provider, config.server.bounds))
  const used: Array<UpstreamClientOptions> = []
  for (const provider of config.providers.values()) {
    const options = upstreamClientOptions(provider)
    if (options !== undefined) used.push(options)
  }
  yield* (yield* UpstreamClients).retain(used)
  return providers as ReadonlyMap<string, Provider>
})
