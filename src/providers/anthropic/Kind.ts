/**
 * The `anthropic` kind's config: `base_url` defaults to Anthropic's API (without `/v1`, as its SDKs
 * take it), `anthropic_version` to the header's stable value, the key in the `x-api-key` header.
 */
import * as Schema from "effect/Schema"
import type { KindRules } from "../KindRules.ts"

/** Anthropic's API, when an `anthropic` provider names no `base_url`. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com"
/** The `anthropic-version` header an `anthropic` provider sends unless `anthropic_version` says otherwise. */
export const ANTHROPIC_VERSION = "2023-06-01"

/** The fields only an `anthropic` provider writes. */
export const AnthropicFields = {
  /** The `anthropic-version` header (default 2023-06-01). */
  anthropic_version: Schema.optional(Schema.String.check(Schema.isMinLength(1)))
}

export interface AnthropicSettings {
  /** The `anthropic-version` header. */
  readonly anthropicVersion: string
}

export const anthropicKind: KindRules<Schema.Struct.Type<typeof AnthropicFields>, AnthropicSettings> = {
  kind: "anthropic",
  baseUrl: { _tag: "Default", url: ANTHROPIC_BASE_URL },
  connects: true,
  apiKeyHeader: "x-api-key",
  genAiName: "anthropic",
  nativeResponses: false,
  fields: Object.keys(AnthropicFields),
  check: () => [],
  resolve: (entry) => ({ anthropicVersion: entry.anthropic_version ?? ANTHROPIC_VERSION }),
  shown: (settings) => (settings.anthropicVersion === undefined ? {} : { anthropic_version: settings.anthropicVersion })
}
