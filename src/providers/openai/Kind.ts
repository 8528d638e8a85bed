/** The `openai` kind's config (any OpenAI-compatible API): `base_url` required, the key as a bearer token. */
import { plainKind } from "../KindRules.ts"

export const openaiKind = plainKind("openai", {
  baseUrl: { _tag: "Required" },
  apiKeyHeader: undefined,
  genAiName: "openai",
  nativeResponses: true
})
