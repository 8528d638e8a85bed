/** The `azure` kind's config: `api_version` (required), the key in the `api-key` header. */
import * as Schema from "effect/Schema"
import type { KindRules } from "../KindRules.ts"

/** The fields only an `azure` provider writes. */
export const AzureFields = {
  /** The `api-version` query parameter of every call (required). */
  api_version: Schema.optional(Schema.String.check(Schema.isMinLength(1)))
}

export interface AzureSettings {
  /** The `api-version` of every call. */
  readonly apiVersion: string
}

export const azureKind: KindRules<Schema.Struct.Type<typeof AzureFields>, AzureSettings> = {
  kind: "azure",
  baseUrl: { _tag: "Required" },
  connects: true,
  // An Entra token goes as `auth: { type: bearer }`; the key never does.
  apiKeyHeader: "api-key",
  genAiName: "azure.ai.openai",
  // Azure's Responses URL depends on a preview api-version a chat `api_version` may not serve.
  nativeResponses: false,
  fields: Object.keys(AzureFields),
  check: (entry, at) =>
    entry.api_version === undefined
      ? [{ path: `${at}.api_version`, message: 'required for kind "azure" (e.g. "2024-10-21")' }]
      : [],
  resolve: (entry) => ({ apiVersion: entry.api_version ?? "" }),
  shown: (settings) => (settings.apiVersion === undefined ? {} : { api_version: settings.apiVersion })
}
