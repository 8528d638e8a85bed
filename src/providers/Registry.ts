/**
 * Builds the Provider for every configured provider, by kind. The only place that maps a kind to
 * its implementation; everything else talks to the Provider contract.
 */
import * as Effect from "effect/Effect"
import type { ResolvedConfig, ResolvedProvider } from "../config/Config.ts"
import * as MockProvider from "./mock/MockProvider.ts"
import * as OpenAIProvider from "./openai/OpenAIProvider.ts"
import type { Provider } from "./Provider.ts"
import type { UpstreamClients } from "./UpstreamClients.ts"

const makeProvider = (config: ResolvedProvider): Effect.Effect<Provider, never, UpstreamClients> => {
  switch (config.kind) {
    case "openai":
      return OpenAIProvider.make(config)
    case "mock":
      return Effect.succeed(MockProvider.make(config))
  }
}

export const makeProviders = Effect.fnUntraced(function*(config: ResolvedConfig) {
  const providers = new Map<string, Provider>()
  for (const [name, provider] of config.providers) providers.set(name, yield* makeProvider(provider))
  return providers as ReadonlyMap<string, Provider>
})
