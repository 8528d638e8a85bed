/**
 * Every provider kind and its config rules (each in its folder: `providers/<kind>/Kind.ts`).
 * Config loading reads a provider entry through these, so nothing outside a kind's folder names
 * its fields or defaults.
 */
import { type AnthropicSettings, AnthropicFields, anthropicKind } from "./anthropic/Kind.ts"
import { type AzureSettings, AzureFields, azureKind } from "./azure/Kind.ts"
import type { KindRules } from "./KindRules.ts"
import { MockFields, type MockKindSettings, mockKind } from "./mock/Kind.ts"
import { openaiKind } from "./openai/Kind.ts"

export const KIND_NAMES = ["openai", "azure", "anthropic", "mock"] as const
export type KindName = (typeof KIND_NAMES)[number]

/** Every kind's own fields of a provider entry (config/Config.ts `ProviderSection` spreads them in). */
export const KIND_FIELDS = { ...AzureFields, ...AnthropicFields, ...MockFields }

/** What the kinds resolve their fields to: fields of a resolved provider, each present for its kind only. */
export type KindSettings = Partial<AzureSettings & AnthropicSettings & MockKindSettings>

export const KINDS = {
  openai: openaiKind,
  azure: azureKind,
  anthropic: anthropicKind,
  mock: mockKind
} satisfies { readonly [K in KindName]: KindRules<never, KindSettings> }
