/**
 * The tokens a request reserves against `tokens_per_minute` before it is sent: the prompt's
 * estimate plus what the completion may use (`max_completion_tokens`, else `max_tokens`, else the
 * model's configured default, `ResolvedModel.defaultMaxTokens`; only chat and completions generate any). The prompt is counted cheaply here, one
 * token per 4 characters of its text (rounded up): the estimator is a parameter, so a real
 * tokenizer slots in without touching the limiter. The reservation is settled to the real usage
 * after the answer when the gateway knows it. A budget reserves the same two parts, each at its
 * price (limits/Budgets.ts `maxCostPico`).
 */
import { type Endpoint, generates, inputField } from "../domain/Endpoint.ts"

/** Estimates the prompt tokens of a request body. */
export type PromptEstimator = (endpoint: Endpoint, body: Readonly<Record<string, unknown>>) => number

/** Characters of the text in a value: strings, and the `text`/`content` of message parts, at any depth up to 4. */
const textLength = (value: unknown, depth: number): number => {
  if (typeof value === "string") return value.length
  if (depth === 0 || value === null || typeof value !== "object") return 0
  let n = 0
  if (Array.isArray(value)) {
    for (const item of value) n += textLength(item, depth - 1)
    return n
  }
  const o = value as Record<string, unknown>
  for (const field of ["content", "text", "name", "arguments"]) n += textLength(o[field], depth - 1)
  return n
}

/** One token per 4 characters of the prompt's text: chat messages, a completion's prompt, an embedding's input. */
export const estimateByCharacters: PromptEstimator = (endpoint, body) => {
  return Math.ceil(textLength(body[inputField(endpoint)], 5) / 4)
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
  const completion = !generates(endpoint)
    ? 0
    : (positiveInt(body["max_completion_tokens"]) ?? positiveInt(body["max_tokens"]) ?? defaultMaxTokens)
  const prompt = estimate(endpoint, body)
  return { prompt, completion, total: prompt + completion }
}
