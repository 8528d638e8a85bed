/**
 * Estimating the tokens of a request whose provider reported none (or a stream cancelled or broken
 * before its usage chunk). Pure: every function takes the counter, so callers choose how to count
 * (the request path by characters, keeping the texts: usage/Recount.ts; the tokenizer thread with
 * the BPE encoding: usage/TokenizerThread.ts). Every estimate is a constant plus the sum of the
 * counts of its texts, each text counted once.
 *
 * - The encoding follows the model family: `o200k_base` for GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and the
 *   o-series, `cl100k_base` for everything else (GPT-4, GPT-3.5, and as an approximation for models
 *   of other vendors, whose tokenizers are not public).
 * - A chat prompt is counted by OpenAI's rule as gpt-tokenizer implements it
 *   (`computeChatCompletionTokenCount`): 3 tokens per message plus its role, content and name (a
 *   name costs 1 more), 3 to prime the reply, and function or tool definitions in OpenAI's internal
 *   TypeScript-like rendering (+9, −4 when there is a system message). A message's text parts are
 *   its content; each tool call costs its name, arguments and 3. Images, audio and files are not
 *   counted (their token cost depends on details the gateway does not decode).
 * - A legacy completions prompt is its text; an embeddings input its texts (token arrays count as
 *   their length).
 * - Generated text is counted as it is; text the stream tracker counted but did not keep adds one
 *   token per 4 characters.
 */
import {
  type ChatCompletionFunctionDefinition,
  type ChatCompletionFunctionParameters,
  type ChatMessage,
  computeChatCompletionTokenCount,
  formatFunctionDefinitions
} from "gpt-tokenizer/functionCalling"
import { type Endpoint, inputField } from "../domain/Endpoint.ts"
import { visitPromptText } from "../domain/PromptText.ts"
import type { TokenUsage } from "../domain/Usage.ts"

export type Encoding = "o200k_base" | "cl100k_base"

/** Counts the tokens of a text (special-token text such as `<|endoftext|>` counts as plain text). */
export type CountTokens = (text: string) => number

const O200K = /^(?:[a-z0-9_-]+\/)?(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d)/i

/** The encoding of a model, by family (the upstream model name, a vendor prefix allowed). */
export const encodingFor = (model: string): Encoding => (O200K.test(model) ? "o200k_base" : "cl100k_base")

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

/** The text of a message's content: a string, or the text of its parts. */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  let text = ""
  for (const part of content) {
    if (isObject(part) && typeof part["text"] === "string") text += part["text"]
    else if (isObject(part) && typeof part["refusal"] === "string") text += part["refusal"]
  }
  return text
}

/** Function definitions from `tools` (type function) and the legacy `functions`. */
const functionDefinitions = (body: Readonly<Record<string, unknown>>) => {
  const out: Array<ChatCompletionFunctionDefinition> = []
  const add = (fn: unknown) => {
    if (!isObject(fn) || typeof fn["name"] !== "string") return
    const definition: ChatCompletionFunctionDefinition = { name: fn["name"] }
    const description = str(fn["description"])
    if (description !== undefined) definition.description = description
    // Untrusted JSON Schema, walked by the renderer inside a try (chatPromptTokens).
    if (isObject(fn["parameters"]))
      definition.parameters = fn["parameters"] as unknown as ChatCompletionFunctionParameters
    out.push(definition)
  }
  const tools = body["tools"]
  if (Array.isArray(tools)) for (const tool of tools) if (isObject(tool)) add(tool["function"])
  const functions = body["functions"]
  if (Array.isArray(functions)) for (const fn of functions) add(fn)
  return out
}

/** The prompt tokens of a chat completions body. */
export const chatPromptTokens = (count: CountTokens, body: Readonly<Record<string, unknown>>): number => {
  const raw = Array.isArray(body["messages"]) ? body["messages"] : []
  let toolCalls = 0
  const messages = raw.filter(isObject).map((m): ChatMessage => {
    const message: ChatMessage = { content: contentText(m["content"]) }
    const role = str(m["role"])
    if (role !== undefined) message.role = role
    const name = str(m["name"])
    if (name !== undefined) message.name = name
    const legacy = m["function_call"]
    if (isObject(legacy)) {
      message.function_call = {}
      const fnName = str(legacy["name"])
      if (fnName !== undefined) message.function_call.name = fnName
      const args = str(legacy["arguments"])
      if (args !== undefined) message.function_call.arguments = args
    }
    const calls = Array.isArray(m["tool_calls"]) ? m["tool_calls"] : []
    for (const call of calls) {
      const fn = isObject(call) ? call["function"] : undefined
      if (isObject(fn)) toolCalls += count(str(fn["name"]) ?? "") + count(str(fn["arguments"]) ?? "") + 3
    }
    return message
  })
  const functions = functionDefinitions(body)
  if (functions.length === 0) return computeChatCompletionTokenCount({ messages }, count) + toolCalls
  // Rendered once on its own first, so that `count` sees each text once whichever way it goes
  // (usage/Recount.ts relies on it).
  if (renders(functions)) return computeChatCompletionTokenCount({ messages, functions }, count) + toolCalls
  // A parameters schema the renderer cannot walk (not JSON Schema): count the definitions as JSON.
  return computeChatCompletionTokenCount({ messages }, count) + toolCalls + count(JSON.stringify(functions)) + 9
}

/** Whether OpenAI's rendering of function definitions can walk them (untrusted JSON Schema). */
const renders = (functions: ReadonlyArray<ChatCompletionFunctionDefinition>): boolean => {
  try {
    formatFunctionDefinitions(functions)
    return true
  } catch {
    return false
  }
}

/** The input tokens of a legacy completions prompt or an embeddings input given as token arrays, else undefined. */
const tokenArrayLength = (input: unknown): number | undefined => {
  if (!Array.isArray(input)) return undefined
  if (input.length > 0 && input.every((t) => typeof t === "number")) return input.length
  if (input.length > 0 && input.every((a) => Array.isArray(a) && a.every((t) => typeof t === "number")))
    return input.reduce((n: number, a: ReadonlyArray<number>) => n + a.length, 0)
  return undefined
}

/** The estimated prompt tokens of a request body on `endpoint`. */
export const promptTokens = (
  count: CountTokens,
  endpoint: Endpoint,
  body: Readonly<Record<string, unknown>>
): number => {
  if (endpoint === "chat") return chatPromptTokens(count, body)
  const tokens = tokenArrayLength(body[inputField(endpoint)])
  if (tokens !== undefined) return tokens
  let total = 0
  visitPromptText(endpoint, body, (text) => {
    total += count(text)
  })
  return total
}

/** The estimated completion tokens of generated text (plus characters counted but not kept, 4 a token). */
export const completionTokens = (count: CountTokens, text: string, overflowChars = 0): number =>
  count(text) + Math.ceil(overflowChars / 4)

/** An estimated usage: all input uncached, all output plain (what an estimate can know). */
export const estimatedUsage = (prompt: number, completion: number): TokenUsage => ({
  input: prompt,
  cache_read: 0,
  cache_write: 0,
  reasoning: 0,
  output: completion
})
