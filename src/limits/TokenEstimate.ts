/**
 * The tokens a request reserves against `tokens_per_minute` before it is sent: the prompt's
 * estimate plus what the completion may use (`max_completion_tokens`, else `max_tokens`, else the
 * model's configured default, `ResolvedModel.defaultMaxTokens`; a Responses request's
 * `max_output_tokens`, else that default; other endpoints generate none). The prompt is counted cheaply here, one
 * token per 4 characters of its text (rounded up): the estimator is a parameter, so a real
 * tokenizer slots in without touching the limiter. The reservation is settled to the real usage
 * after the answer when the gateway knows it. A budget reserves the same two parts, each at its
 * price (limits/Budgets.ts `maxCostPico`).
 */
import type { Endpoint } from "../domain/Endpoint.ts"
import { visitPromptText } from "../domain/PromptText.ts"

/** Estimates the prompt tokens of a request body. */
export type PromptEstimator = (endpoint: Endpoint, body: Readonly<Record<string, unknown>>) => number

/** One token per 4 characters of the prompt's text (domain/PromptText.ts): chat messages, a completion's prompt, an embedding's input, a Responses input and instructions. */
export const estimateByCharacters: PromptEstimator = (endpoint, body) => {
  let characters = 0
  visitPromptText(endpoint, body, (text) => {
    characters += text.length
  })
  return Math.ceil(characters / 4)
}

const positiveInt = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined

/** What a request reserves: the prompt estimate, the completion allowance, and their total. */
export interface ReservedParts {
  readonly prompt: number
  readonly completion: number
  readonly total: number
}

/**
 * The tokens to reserve for a request, apart (a budget prices them apart) and in total;
 * `defaultMaxTokens` is the completion allowance of a request that names none.
 */
export const reservedParts = (
  endpoint: Endpoint,
  body: Readonly<Record<string, unknown>>,
  defaultMaxTokens: number,
  estimate: PromptEstimator = estimateByCharacters
): ReservedParts => {
  const completion =
    endpoint === "chat" || endpoint === "completions"
      ? (positiveInt(body["max_completion_tokens"]) ?? positiveInt(body["max_tokens"]) ?? defaultMaxTokens)
      : endpoint === "responses"
        ? (positiveInt(body["max_output_tokens"]) ?? defaultMaxTokens)
        : 0
  const prompt = estimate(endpoint, body)
  return { prompt, completion, total: prompt + completion }
}
