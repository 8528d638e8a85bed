/**
 * An Anthropic Messages API request (`POST /v1/messages`, what the Claude SDKs send) → the OpenAI
 * chat completions request the gateway routes to any provider. Pure: JSON in, JSON or a problem
 * naming the offending field out (the caller answers it as an Anthropic `invalid_request_error`).
 *
 * The mapping, field by field:
 *
 *   model            kept as is (the gateway routes on it)
 *   system           a leading `system` message (text blocks joined with a blank line)
 *   messages         user / assistant turns (below)
 *   max_tokens       max_tokens (required: a positive integer)
 *   stop_sequences   stop
 *   temperature, top_p   copied;  top_k ignored (OpenAI has none)
 *   metadata.user_id user
 *   tools            custom tools → function tools (`parameters` = `input_schema`); server tools fail
 *   tool_choice      auto → "auto", any → "required", tool → the named function, none → "none";
 *                    `disable_parallel_tool_use: true` → `parallel_tool_calls: false`. Both are left
 *                    out when the request has no tools (OpenAI refuses a tool_choice without tools).
 *   stream           stream + `stream_options.include_usage` (the Anthropic stream ends with usage)
 *
 * Fields with no OpenAI counterpart (`thinking`, `service_tier`, `container`, cache_control on
 * blocks, citations, …) are dropped.
 *
 * Content: text-only content becomes a plain string (blocks joined with a blank line), which every
 * OpenAI-compatible upstream accepts; content with images becomes an array of `text` / `image_url`
 * parts. An assistant turn's `tool_use` blocks become `tool_calls`; `thinking` and
 * `redacted_thinking` blocks are dropped (they are signed for Anthropic only), and an assistant
 * turn left with nothing is dropped. A user turn's `tool_result` blocks become `tool` messages
 * placed before the rest of the turn (OpenAI wants them right after the assistant's tool calls).
 * OpenAI tool messages carry text only, so images inside a `tool_result` move into the user
 * message that follows the tool messages, and `is_error` has no counterpart (the text is kept as
 * it is).
 *
 * `textOfRequest` is the text a tokenizer should count for `/v1/messages/count_tokens`.
 */
import * as Result from "effect/Result"
import { type RequestProblem, requestProblem } from "../domain/RequestProblem.ts"
import { asObject } from "../providers/UsageFields.ts"

export type { RequestProblem }

type Json = Record<string, unknown>
type Outcome<A> = Result.Result<A, RequestProblem>

const problem = requestProblem

/** Text blocks and strings that make one text are joined with a blank line. */
const JOIN = "\n\n"

/** Block types with no OpenAI counterpart that are dropped rather than refused. */
const DROPPED: ReadonlySet<string> = new Set(["thinking", "redacted_thinking"])

// ---------------------------------------------------------------------------------------------
// Content blocks
// ---------------------------------------------------------------------------------------------

/** A content block and its `type`, or a problem when it is not an object with a string type. */
const typedBlock = (block: unknown, path: string): Outcome<readonly [Readonly<Json>, string]> => {
  const b = asObject(block)
  if (b === undefined) return problem(path, `${path} must be a content block object`)
  const type = b["type"]
  if (typeof type !== "string") return problem(`${path}.type`, `${path}.type must be a string`)
  return Result.succeed([b, type] as const)
}

const textOf = (block: Readonly<Json>, path: string): Outcome<string> => {
  const text = block["text"]
  return typeof text === "string" ? Result.succeed(text) : problem(`${path}.text`, `${path}.text must be a string`)
}

/** An image block → an OpenAI `image_url` part (base64 → a data URL, url → the URL). */
const imagePart = (block: Readonly<Json>, path: string): Outcome<Json> => {
  const at = `${path}.source`
  const source = asObject(block["source"])
  if (source === undefined) return problem(at, `${at} must be an object`)
  switch (source["type"]) {
    case "base64": {
      const mediaType = source["media_type"]
      const data = source["data"]
      if (typeof mediaType !== "string") return problem(`${at}.media_type`, `${at}.media_type must be a string`)
      if (typeof data !== "string") return problem(`${at}.data`, `${at}.data must be a string`)
      return Result.succeed({ type: "image_url", image_url: { url: `data:${mediaType};base64,${data}` } })
    }
    case "url": {
      const url = source["url"]
      if (typeof url !== "string") return problem(`${at}.url`, `${at}.url must be a string`)
      return Result.succeed({ type: "image_url", image_url: { url } })
    }
    default:
      return problem(
        `${at}.type`,
        `${at}.type ${JSON.stringify(source["type"]) ?? "(missing)"} is not supported (only "base64" and "url" image sources are)`
      )
  }
}

const unsupported = (path: string, type: string, where: string): Outcome<never> =>
  problem(path, `${path}: content blocks of type "${type}" are not supported ${where}`)

/** A tool_result's content → its text (for the tool message) and its images (for the user message). */
const toolResultContent = (
  content: unknown,
  path: string
): Outcome<{ readonly text: string; readonly images: ReadonlyArray<Json> }> =>
  Result.gen(function* () {
    if (content === undefined || content === null) return { text: "", images: [] }
    if (typeof content === "string") return { text: content, images: [] }
    if (!Array.isArray(content)) return yield* problem(path, `${path} must be a string or an array of content blocks`)
    const texts: Array<string> = []
    const images: Array<Json> = []
    for (const [k, item] of content.entries()) {
      const at = `${path}[${k}]`
      const [block, type] = yield* typedBlock(item, at)
      if (type === "text") texts.push(yield* textOf(block, at))
      else if (type === "image") images.push(yield* imagePart(block, at))
      else return yield* unsupported(at, type, "inside tool_result")
    }
    return { text: texts.join(JOIN), images }
  })

/** User parts → the content of an OpenAI user message: a string when they are all text. */
const userContent = (parts: ReadonlyArray<Json>): string | ReadonlyArray<Json> =>
  parts.every((p) => p["type"] === "text") ? parts.map((p) => p["text"]).join(JOIN) : parts

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** One Anthropic user turn → its tool messages, then a user message with the rest (when any). */
const userMessages = (content: ReadonlyArray<unknown>, path: string): Outcome<ReadonlyArray<Json>> =>
  Result.gen(function* () {
    const tools: Array<Json> = []
    const toolImages: Array<Json> = []
    const parts: Array<Json> = []
    for (const [j, item] of content.entries()) {
      const at = `${path}[${j}]`
      const [block, type] = yield* typedBlock(item, at)
      switch (type) {
        case "text":
          parts.push({ type: "text", text: yield* textOf(block, at) })
          break
        case "image":
          parts.push(yield* imagePart(block, at))
          break
        case "tool_result": {
          const id = block["tool_use_id"]
          if (typeof id !== "string") return yield* problem(`${at}.tool_use_id`, `${at}.tool_use_id must be a string`)
          const result = yield* toolResultContent(block["content"], `${at}.content`)
          tools.push({ role: "tool", tool_call_id: id, content: result.text })
          toolImages.push(...result.images)
          break
        }
        case "tool_use":
          return yield* problem(at, `${at}: tool_use blocks belong in assistant messages`)
        default:
          if (!DROPPED.has(type)) return yield* unsupported(at, type, "in user messages")
      }
    }
    const rest = [...toolImages, ...parts]
    return rest.length === 0 ? tools : [...tools, { role: "user", content: userContent(rest) }]
  })

/** One Anthropic assistant turn → an OpenAI assistant message (none when nothing is left of it). */
const assistantMessages = (content: ReadonlyArray<unknown>, path: string): Outcome<ReadonlyArray<Json>> =>
  Result.gen(function* () {
    const texts: Array<string> = []
    const calls: Array<Json> = []
    for (const [j, item] of content.entries()) {
      const at = `${path}[${j}]`
      const [block, type] = yield* typedBlock(item, at)
      switch (type) {
        case "text":
          texts.push(yield* textOf(block, at))
          break
        case "tool_use": {
          const id = block["id"]
          const name = block["name"]
          if (typeof id !== "string") return yield* problem(`${at}.id`, `${at}.id must be a string`)
          if (typeof name !== "string") return yield* problem(`${at}.name`, `${at}.name must be a string`)
          const args = JSON.stringify(block["input"] ?? {})
          calls.push({ id, type: "function", function: { name, arguments: args } })
          break
        }
        case "tool_result":
          return yield* problem(at, `${at}: tool_result blocks belong in user messages`)
        default:
          if (!DROPPED.has(type)) return yield* unsupported(at, type, "in assistant messages")
      }
    }
    if (texts.length === 0 && calls.length === 0) return []
    const message: Json = { role: "assistant", content: texts.length === 0 ? null : texts.join(JOIN) }
    if (calls.length > 0) message["tool_calls"] = calls
    return [message]
  })

const convertMessage = (message: unknown, i: number): Outcome<ReadonlyArray<Json>> => {
  const path = `messages[${i}]`
  const m = asObject(message)
  if (m === undefined) return problem(path, `${path} must be an object`)
  const role = m["role"]
  if (role !== "user" && role !== "assistant") {
    return problem(
      `${path}.role`,
      `${path}.role must be "user" or "assistant", got ${JSON.stringify(role) ?? "nothing"}`
    )
  }
  const content = m["content"]
  if (typeof content === "string") return Result.succeed([{ role, content }])
  if (!Array.isArray(content)) {
    return problem(`${path}.content`, `${path}.content must be a string or an array of content blocks`)
  }
  return role === "user" ? userMessages(content, `${path}.content`) : assistantMessages(content, `${path}.content`)
}

// ---------------------------------------------------------------------------------------------
// Top-level fields
// ---------------------------------------------------------------------------------------------

/** The system prompt as one string, undefined when there is none. */
const systemText = (system: unknown): Outcome<string | undefined> =>
  Result.gen(function* () {
    if (system === undefined || system === null) return undefined
    if (typeof system === "string") return system === "" ? undefined : system
    if (!Array.isArray(system)) return yield* problem("system", "system must be a string or an array of text blocks")
    const texts: Array<string> = []
    for (const [k, item] of system.entries()) {
      const at = `system[${k}]`
      const [block, type] = yield* typedBlock(item, at)
      if (type !== "text") return yield* problem(at, `${at}: system blocks must be text blocks, got "${type}"`)
      texts.push(yield* textOf(block, at))
    }
    return texts.length === 0 ? undefined : texts.join(JOIN)
  })

/** A custom tool → an OpenAI function tool; a server tool (any `type` but "custom") is refused. */
const convertTool = (item: unknown, i: number): Outcome<Json> => {
  const at = `tools[${i}]`
  const tool = asObject(item)
  if (tool === undefined) return problem(at, `${at} must be an object`)
  const type = tool["type"]
  if (type !== undefined && type !== null && type !== "custom") {
    return problem(
      at,
      `${at}: server tools (type ${JSON.stringify(type)}) are not supported by this gateway; only custom tools are`
    )
  }
  const name = tool["name"]
  if (typeof name !== "string" || name === "") return problem(`${at}.name`, `${at}.name must be a non-empty string`)
  const schema = asObject(tool["input_schema"])
  if (schema === undefined) return problem(`${at}.input_schema`, `${at}.input_schema must be a JSON Schema object`)
  const description = tool["description"]
  const fn: Json =
    typeof description === "string" ? { name, description, parameters: schema } : { name, parameters: schema }
  return Result.succeed({ type: "function", function: fn })
}

const convertTools = (tools: unknown): Outcome<ReadonlyArray<Json>> =>
  Result.gen(function* () {
    if (tools === undefined || tools === null) return []
    if (!Array.isArray(tools)) return yield* problem("tools", "tools must be an array")
    const out: Array<Json> = []
    for (const [i, item] of tools.entries()) out.push(yield* convertTool(item, i))
    return out
  })

/** `tool_choice` → OpenAI's `tool_choice` and `parallel_tool_calls` fields. */
const convertToolChoice = (choice: unknown): Outcome<Json> => {
  if (choice === undefined || choice === null) return Result.succeed({})
  const c = asObject(choice)
  if (c === undefined) return problem("tool_choice", "tool_choice must be an object")
  let toolChoice: unknown
  switch (c["type"]) {
    case "auto":
      toolChoice = "auto"
      break
    case "any":
      toolChoice = "required"
      break
    case "none":
      toolChoice = "none"
      break
    case "tool": {
      const name = c["name"]
      if (typeof name !== "string") return problem("tool_choice.name", "tool_choice.name must be a string")
      toolChoice = { type: "function", function: { name } }
      break
    }
    default:
      return problem(
        "tool_choice.type",
        `tool_choice.type must be "auto", "any", "tool" or "none", got ${JSON.stringify(c["type"]) ?? "nothing"}`
      )
  }
  return Result.succeed(
    c["disable_parallel_tool_use"] === true
      ? { tool_choice: toolChoice, parallel_tool_calls: false }
      : { tool_choice: toolChoice }
  )
}

/** An optional number field (null counts as absent). */
const optionalNumber = (body: Readonly<Json>, key: string): Outcome<number | undefined> => {
  const value = body[key]
  if (value === undefined || value === null) return Result.succeed(undefined)
  return typeof value === "number" && Number.isFinite(value)
    ? Result.succeed(value)
    : problem(key, `${key} must be a number`)
}

const stopSequences = (stop: unknown): Outcome<ReadonlyArray<string>> => {
  if (stop === undefined || stop === null) return Result.succeed([])
  return Array.isArray(stop) && stop.every((s) => typeof s === "string")
    ? Result.succeed(stop)
    : problem("stop_sequences", "stop_sequences must be an array of strings")
}

export const toChatRequest = (
  body: Readonly<Record<string, unknown>>
): Result.Result<Record<string, unknown>, RequestProblem> =>
  Result.gen(function* () {
    const model = body["model"]
    if (typeof model !== "string" || model === "") return yield* problem("model", "model must be a non-empty string")
    const maxTokens = body["max_tokens"]
    if (typeof maxTokens !== "number" || !Number.isSafeInteger(maxTokens) || maxTokens < 1) {
      return yield* problem("max_tokens", "max_tokens is required and must be a positive integer")
    }
    const input = body["messages"]
    if (!Array.isArray(input) || input.length === 0) {
      return yield* problem("messages", "messages is required and must be a non-empty array")
    }

    const messages: Array<Json> = []
    const system = yield* systemText(body["system"])
    if (system !== undefined) messages.push({ role: "system", content: system })
    for (const [i, message] of input.entries()) messages.push(...(yield* convertMessage(message, i)))

    const out: Json = { model, messages, max_tokens: maxTokens }
    const stop = yield* stopSequences(body["stop_sequences"])
    if (stop.length > 0) out["stop"] = stop
    for (const key of ["temperature", "top_p"]) {
      const value = yield* optionalNumber(body, key)
      if (value !== undefined) out[key] = value
    }
    const userId = asObject(body["metadata"])?.["user_id"]
    if (typeof userId === "string" && userId !== "") out["user"] = userId

    const tools = yield* convertTools(body["tools"])
    const choice = yield* convertToolChoice(body["tool_choice"])
    if (tools.length > 0) Object.assign(out, { tools }, choice)

    if (body["stream"] === true) {
      out["stream"] = true
      out["stream_options"] = { include_usage: true }
    }
    return out
  })

// ---------------------------------------------------------------------------------------------
// Text to count
// ---------------------------------------------------------------------------------------------

/** The text of content (a string or blocks), pushed in order; what it does not understand is skipped. */
const contentTexts = (content: unknown, out: Array<string>): void => {
  if (typeof content === "string") {
    out.push(content)
    return
  }
  if (!Array.isArray(content)) return
  for (const item of content) {
    const block = asObject(item)
    if (block === undefined) continue
    switch (block["type"]) {
      case "text":
        if (typeof block["text"] === "string") out.push(block["text"])
        break
      case "tool_use":
        if (typeof block["name"] === "string") out.push(block["name"])
        out.push(JSON.stringify(block["input"] ?? {}))
        break
      case "tool_result":
        contentTexts(block["content"], out)
        break
      case "thinking":
        if (typeof block["thinking"] === "string") out.push(block["thinking"])
        break
    }
  }
}

/**
 * All the text of an Anthropic request, for a tokenizer: the system prompt, every message's text,
 * tool calls (name and input JSON) and tool results, and the tool definitions (name, description,
 * input schema JSON), joined with newlines. Images are not counted. Never fails: what is not
 * understood is skipped.
 */
export const textOfRequest = (body: Readonly<Record<string, unknown>>): string => {
  const out: Array<string> = []
  contentTexts(body["system"], out)
  const messages = body["messages"]
  if (Array.isArray(messages)) {
    for (const message of messages) contentTexts(asObject(message)?.["content"], out)
  }
  const tools = body["tools"]
  if (Array.isArray(tools)) {
    for (const item of tools) {
      const tool = asObject(item)
      if (tool === undefined) continue
      if (typeof tool["name"] === "string") out.push(tool["name"])
      if (typeof tool["description"] === "string") out.push(tool["description"])
      if (tool["input_schema"] !== undefined) out.push(JSON.stringify(tool["input_schema"]))
    }
  }
  return out.join("\n")
}
