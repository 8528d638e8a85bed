/**
 * What a proxied request's server span says (tracing/Tracing.ts), in the OpenTelemetry GenAI
 * conventions (domain/GenAi.ts): the request's parameters once its body is read, and once it ends
 * (with its usage record) the usage, the response model and id, the finish reasons, cost, attempts
 * and the overhead figure; and what Langfuse reads (a generation, `user.id` and `session.id`: the
 * key's user, else the key, and its project). Prompts and completions only with `tracing.capture_content`, each cut at
 * `CONTENT_LIMIT` characters.
 */
import { type Endpoint, inputField } from "../domain/Endpoint.ts"
import { GEN_AI, operationName, type RequestSpan } from "../domain/GenAi.ts"
import type { RecountableRecord } from "../usage/Recount.ts"

/** Characters of prompt or completion text a span holds at most (the rest is cut, and the cut said). */
export const CONTENT_LIMIT = 65_536

const content = (value: unknown): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value)
  return text.length <= CONTENT_LIMIT ? text : `${text.slice(0, CONTENT_LIMIT)}… (${text.length} characters, cut)`
}

const numberOf = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined)

/** The request as the client sent it: operation, model, parameters (and its input with `capture`). */
export const annotateRequest = (
  span: RequestSpan,
  endpoint: Endpoint,
  body: Readonly<Record<string, unknown>>,
  model: string,
  capture: boolean
): void => {
  span.attribute(GEN_AI.operationName, operationName(endpoint))
  span.attribute(GEN_AI.requestModel, model)
  const maxTokens = numberOf(body["max_completion_tokens"]) ?? numberOf(body["max_tokens"])
  if (maxTokens !== undefined) span.attribute(GEN_AI.requestMaxTokens, maxTokens)
  const temperature = numberOf(body["temperature"])
  if (temperature !== undefined) span.attribute(GEN_AI.requestTemperature, temperature)
  const topP = numberOf(body["top_p"])
  if (topP !== undefined) span.attribute(GEN_AI.requestTopP, topP)
  if (body["stream"] === true) span.attribute("llmgate.stream", true)
  if (capture) {
    const input = body[inputField(endpoint)]
    if (input !== undefined) {
      const text = content(input)
      span.attribute(GEN_AI.inputMessages, text)
      span.attribute("langfuse.observation.input", text)
    }
  }
}

/** The choices of a JSON answer, if it has any. */
const choicesOf = (json: Readonly<Record<string, unknown>> | undefined): ReadonlyArray<Record<string, unknown>> => {
  const choices = json?.["choices"]
  return Array.isArray(choices)
    ? choices.filter((c): c is Record<string, unknown> => c !== null && typeof c === "object")
    : []
}

/** How the request ended, from its record (and its JSON answer, when it had one). */
export const annotateEnding = (
  span: RequestSpan,
  record: RecountableRecord,
  json: Readonly<Record<string, unknown>> | undefined,
  capture: boolean
): void => {
  const t = record.tokens
  span.attribute(GEN_AI.inputTokens, t.input + t.cache_read + t.cache_write)
  span.attribute(GEN_AI.outputTokens, t.output + t.reasoning)
  if (t.cache_read > 0) span.attribute("gen_ai.usage.cache_read.input_tokens", t.cache_read)
  if (t.cache_write > 0) span.attribute("gen_ai.usage.cache_creation.input_tokens", t.cache_write)
  if (record.upstream_model !== null) {
    const model = json?.["model"]
    span.attribute(GEN_AI.responseModel, typeof model === "string" ? model : record.upstream_model)
  }
  const id = json?.["id"]
  if (typeof id === "string") span.attribute(GEN_AI.responseId, id)
  const choices = choicesOf(json)
  const reasons = choices.map((c) => c["finish_reason"]).filter((r): r is string => typeof r === "string")
  if (reasons.length > 0) span.attribute(GEN_AI.responseFinishReasons, reasons)
  if (capture && choices.length > 0) {
    const text = content(choices.map((c) => c["message"] ?? c["text"] ?? null))
    span.attribute(GEN_AI.outputMessages, text)
    span.attribute("langfuse.observation.output", text)
  }
  span.attribute("llmgate.endpoint", record.endpoint)
  if (record.provider !== null) span.attribute("llmgate.provider", record.provider)
  span.attribute("llmgate.attempts", record.attempts)
  span.attribute("llmgate.outcome", record.outcome)
  span.attribute("llmgate.usage.estimated", record.estimated)
  if (record.cost_usd !== null) {
    span.attribute("llmgate.cost_usd", record.cost_usd)
    span.attribute("gen_ai.usage.cost", record.cost_usd)
  }
  // Langfuse reads the request as a generation of the key's user (else the key) in the project's session.
  span.attribute("langfuse.observation.type", "generation")
  const user = record.user_id ?? record.key_id
  if (user !== null) span.attribute("user.id", user)
  if (record.project_id !== null) span.attribute("session.id", record.project_id)
  if (record.ttft_ms !== null)
    span.attribute("langfuse.observation.completion_start_time", new Date(record.at_ms + record.ttft_ms).toISOString())
  if (record.ttft_ms !== null) span.attribute("llmgate.ttft_ms", record.ttft_ms)
  if (record.key_id !== null) span.attribute("llmgate.key_id", record.key_id)
  if (record.project_id !== null) span.attribute("llmgate.project_id", record.project_id)
  if (record.user_id !== null) span.attribute("llmgate.user_id", record.user_id)
  const observed = record.observed
  if (observed !== undefined) {
    span.attribute("llmgate.model", observed.model)
    span.attribute("llmgate.overhead_ms", observed.overheadMs)
    span.attribute("llmgate.upstream_ms", observed.upstreamMs)
  }
}
