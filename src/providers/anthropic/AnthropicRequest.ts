/**
 * An OpenAI chat completions request → an Anthropic Messages request, for the `anthropic` provider
 * kind. Pure: the body in, the upstream body or the reason it cannot be translated out (with the
 * parameter at fault, so the client gets a 400 naming it rather than an answer to another question).
 *
 * Messages: `system` and `developer` messages, wherever they are, become the top-level `system` (a
 * string when every one is a string, joined with a blank line; text blocks otherwise). `user` and
 * `assistant` messages become turns; consecutive messages of one role are merged into one turn, as
 * Anthropic requires the roles to alternate. `tool` messages become `tool_result` blocks of a user
 * turn (so tool results and the user message after them share one turn). Assistant `tool_calls`
 * become `tool_use` blocks. A turn made of one message with string content keeps the string; any
 * other turn is a list of content blocks. Content parts: `text`, `refusal` (an assistant's earlier
 * refusal, sent back as text), and `image_url` as a base64 or URL image source; others (audio,
 * files) cannot be translated.
 *
 * Parameters: `max_completion_tokens` ?? `max_tokens` ?? the configured default → `max_tokens`
 * (Anthropic requires it); `stop` → `stop_sequences`; `temperature` (Anthropic's range is 0..1) and
 * `top_p` as they are; `user` → `metadata.user_id`; `tools` and `tool_choice` in Anthropic's shape,
 * `parallel_tool_calls: false` → `disable_parallel_tool_use` (on an `auto` choice when the request
 * has tools and names no choice). What would change the answer and has no Anthropic equivalent fails
 * (`n` > 1, `logprobs`, audio output, `response_format` json_object/json_schema, the legacy
 * `functions`/`function_call`, `web_search_options`); what only tunes delivery or sampling is dropped
 * (`stream_options`, `seed`, penalties, `logit_bias`, `store`, `metadata`, `service_tier`,
 * `reasoning_effort`, `prediction`, and fields this module does not know).
 */
import * as Result from "effect/Result"
import { type RequestProblem, requestProblem } from "../../domain/RequestProblem.ts"
import { asObject } from "../UsageFields.ts"

type Translated<A> = Result.Result<A, RequestProblem>
type Json = Readonly<Record<string, unknown>>
type Block = Record<string, unknown>

const problem = requestProblem

const untranslatable = (param: string, what: string): Translated<never> =>
  problem(param, `${param}: the anthropic provider kind cannot translate ${what}`)

/** Absent and null are the same for every optional parameter. */
const given = (value: unknown): boolean => value !== undefined && value !== null

// ---------------------------------------------------------------------------------------------------
// Content

/** A `data:<media type>[;param…];base64,<data>` URL's parts, or undefined. */
const parseDataUrl = (url: string): { readonly mediaType: string; readonly data: string } | undefined => {
  if (!url.startsWith("data:")) return undefined
  const comma = url.indexOf(",")
  if (comma < 0) return undefined
  const header = url.slice(5, comma).split(";")
  const mediaType = header[0] ?? ""
  if (mediaType === "" || header.length < 2 || header[header.length - 1]?.toLowerCase() !== "base64") return undefined
  return { mediaType, data: url.slice(comma + 1) }
}

const imageBlock = (part: Json, param: string): Translated<Block> => {
  const image = part["image_url"]
  const url = typeof image === "string" ? image : asObject(image)?.["url"]
  if (typeof url !== "string") return problem(`${param}.image_url`, `${param}.image_url: expected an object with a url`)
  const data = parseDataUrl(url)
  if (data !== undefined)
    return Result.succeed({
      type: "image",
      source: { type: "base64", media_type: data.mediaType, data: data.data }
    })
  if (/^https?:\/\//i.test(url)) return Result.succeed({ type: "image", source: { type: "url", url } })
  return problem(`${param}.image_url.url`, `${param}.image_url.url: expected a base64 data: URL or an http(s) URL`)
}

/** The text of a `text` part (and, where `refusal` is allowed, of a `refusal` part). */
const textOfPart = (part: Json, param: string, allowRefusal: boolean): Translated<string> => {
  const type = part["type"]
  const key = type === "text" ? "text" : allowRefusal && type === "refusal" ? "refusal" : undefined
  if (key === undefined) {
    return typeof type === "string"
      ? untranslatable(`${param}.type`, `a content part of type ${type} here`)
      : problem(`${param}.type`, `${param}.type: required`)
  }
  const text = part[key]
  return typeof text === "string"
    ? Result.succeed(text)
    : problem(`${param}.${key}`, `${param}.${key}: expected a string`)
}

const partsOf = (content: unknown, param: string): Translated<ReadonlyArray<Json>> =>
  Result.gen(function* () {
    if (!Array.isArray(content))
      return yield* problem(param, `${param}: expected a string or an array of content parts`)
    const parts: Array<Json> = []
    for (let j = 0; j < content.length; j++) {
      const part = asObject(content[j])
      if (part === undefined) return yield* problem(`${param}[${j}]`, `${param}[${j}]: expected an object`)
      parts.push(part)
    }
    return parts
  })

/** Text parts only (system, developer and tool messages), as their texts. */
const textParts = (content: unknown, param: string): Translated<ReadonlyArray<string>> =>
  Result.gen(function* () {
    const parts = yield* partsOf(content, param)
    const texts: Array<string> = []
    for (let j = 0; j < parts.length; j++) texts.push(yield* textOfPart(parts[j]!, `${param}[${j}]`, false))
    return texts
  })

const textBlocks = (texts: ReadonlyArray<string>): Array<Block> =>
  texts.filter((text) => text !== "").map((text) => ({ type: "text", text }))

/** A user message's content as blocks (empty text is dropped: Anthropic rejects empty text blocks). */
const userBlocks = (content: unknown, param: string): Translated<Array<Block>> =>
  Result.gen(function* () {
    if (typeof content === "string") return textBlocks([content])
    const parts = yield* partsOf(content, param)
    const blocks: Array<Block> = []
    for (let j = 0; j < parts.length; j++) {
      const part = parts[j]!
      if (part["type"] === "image_url") blocks.push(yield* imageBlock(part, `${param}[${j}]`))
      else blocks.push(...textBlocks([yield* textOfPart(part, `${param}[${j}]`, false)]))
    }
    return blocks
  })

/** An assistant tool call → a `tool_use` block; its `arguments` must be the JSON text of an object. */
const toolUseBlock = (value: unknown, param: string): Translated<Block> =>
  Result.gen(function* () {
    const call = asObject(value)
    if (call === undefined) return yield* problem(param, `${param}: expected an object`)
    if (given(call["type"]) && call["type"] !== "function")
      return yield* untranslatable(`${param}.type`, `a tool call of type ${String(call["type"])}`)
    const id = call["id"]
    if (typeof id !== "string") return yield* problem(`${param}.id`, `${param}.id: expected a string`)
    const fn = asObject(call["function"])
    const name = fn?.["name"]
    if (typeof name !== "string")
      return yield* problem(`${param}.function.name`, `${param}.function.name: expected a string`)
    const args = fn?.["arguments"]
    let input: unknown
    try {
      input = typeof args === "string" ? JSON.parse(args) : undefined
    } catch {
      input = undefined
    }
    if (asObject(input) === undefined) {
      return yield* problem(
        `${param}.function.arguments`,
        `${param}.function.arguments: expected the JSON text of an object (Anthropic's tool input is an object)`
      )
    }
    return { type: "tool_use", id, name, input }
  })

const assistantBlocks = (message: Json, param: string): Translated<Array<Block>> =>
  Result.gen(function* () {
    const content = message["content"]
    const blocks: Array<Block> = []
    if (typeof content === "string") blocks.push(...textBlocks([content]))
    else if (given(content)) {
      const parts = yield* partsOf(content, `${param}.content`)
      for (let j = 0; j < parts.length; j++)
        blocks.push(...textBlocks([yield* textOfPart(parts[j]!, `${param}.content[${j}]`, true)]))
    }
    const calls = message["tool_calls"]
    if (given(calls)) {
      if (!Array.isArray(calls)) return yield* problem(`${param}.tool_calls`, `${param}.tool_calls: expected an array`)
      for (let j = 0; j < calls.length; j++) blocks.push(yield* toolUseBlock(calls[j], `${param}.tool_calls[${j}]`))
    }
    if (given(message["function_call"]))
      return yield* untranslatable(`${param}.function_call`, "the legacy function_call (use tool_calls)")
    return blocks
  })

const toolResultBlock = (message: Json, param: string): Translated<Block> =>
  Result.gen(function* () {
    const id = message["tool_call_id"]
    if (typeof id !== "string")
      return yield* problem(`${param}.tool_call_id`, `${param}.tool_call_id: expected a string`)
    const content = message["content"]
    const result = typeof content === "string" ? content : textBlocks(yield* textParts(content, `${param}.content`))
    return { type: "tool_result", tool_use_id: id, content: result }
  })

// ---------------------------------------------------------------------------------------------------
// Messages

interface Turn {
  readonly role: "user" | "assistant"
  readonly blocks: Array<Block>
  /** The content as a string: the turn is one message whose content was this string. */
  text: string | undefined
}

interface Conversation {
  readonly system: string | ReadonlyArray<Block> | undefined
  readonly messages: ReadonlyArray<Record<string, unknown>>
}

const conversation = (value: unknown): Translated<Conversation> =>
  Result.gen(function* () {
    if (!Array.isArray(value)) return yield* problem("messages", "messages: expected an array")
    /** The system and developer texts; `plain` while every one of them was a string. */
    const system: Array<string> = []
    let plain = true
    const turns: Array<Turn> = []
    const add = (role: Turn["role"], blocks: Array<Block>, text: string | undefined): void => {
      const last = turns[turns.length - 1]
      if (last !== undefined && last.role === role) {
        last.blocks.push(...blocks)
        last.text = undefined
      } else turns.push({ role, blocks, text })
    }
    for (let i = 0; i < value.length; i++) {
      const param = `messages[${i}]`
      const message = asObject(value[i])
      if (message === undefined) return yield* problem(param, `${param}: expected an object`)
      const role = message["role"]
      const content = message["content"]
      switch (role) {
        case "system":
        case "developer":
          if (typeof content === "string") system.push(content)
          else {
            system.push(...(yield* textParts(content, `${param}.content`)))
            plain = false
          }
          break
        case "user": {
          const blocks = yield* userBlocks(content, `${param}.content`)
          if (blocks.length === 0) return yield* problem(`${param}.content`, `${param}.content: empty`)
          add("user", blocks, typeof content === "string" ? content : undefined)
          break
        }
        case "assistant": {
          const blocks = yield* assistantBlocks(message, param)
          if (blocks.length === 0) return yield* problem(`${param}.content`, `${param}.content: empty`)
          const onlyText = typeof content === "string" && blocks.length === 1
          add("assistant", blocks, onlyText ? content : undefined)
          break
        }
        case "tool":
          add("user", [yield* toolResultBlock(message, param)], undefined)
          break
        default:
          return yield* typeof role === "string"
            ? untranslatable(`${param}.role`, `a message with role ${role}`)
            : problem(`${param}.role`, `${param}.role: required`)
      }
    }
    if (turns.length === 0)
      return yield* problem("messages", "messages: at least one user or assistant message is required")
    const texts = system.filter((text) => text !== "")
    return {
      system: texts.length === 0 ? undefined : plain ? texts.join("\n\n") : textBlocks(texts),
      messages: turns.map((turn) => ({ role: turn.role, content: turn.text ?? turn.blocks }))
    }
  })

// ---------------------------------------------------------------------------------------------------
// Tools

const anthropicTools = (value: unknown): Translated<ReadonlyArray<Block> | undefined> =>
  Result.gen(function* () {
    if (!given(value)) return undefined
    if (!Array.isArray(value)) return yield* problem("tools", "tools: expected an array")
    const tools: Array<Block> = []
    for (let i = 0; i < value.length; i++) {
      const param = `tools[${i}]`
      const tool = asObject(value[i])
      if (tool === undefined) return yield* problem(param, `${param}: expected an object`)
      if (tool["type"] !== "function") {
        return yield* typeof tool["type"] === "string"
          ? untranslatable(`${param}.type`, `a tool of type ${tool["type"]}`)
          : problem(`${param}.type`, `${param}.type: required`)
      }
      const fn = asObject(tool["function"])
      if (fn === undefined) return yield* problem(`${param}.function`, `${param}.function: expected an object`)
      const name = fn["name"]
      if (typeof name !== "string")
        return yield* problem(`${param}.function.name`, `${param}.function.name: expected a string`)
      const parameters = fn["parameters"]
      if (given(parameters) && asObject(parameters) === undefined)
        return yield* problem(`${param}.function.parameters`, `${param}.function.parameters: expected an object`)
      const out: Block = { name }
      if (typeof fn["description"] === "string") out["description"] = fn["description"]
      out["input_schema"] = given(parameters) ? parameters : { type: "object", properties: {} }
      tools.push(out)
    }
    return tools.length === 0 ? undefined : tools
  })

const anthropicToolChoice = (value: unknown): Translated<Block | undefined> => {
  if (!given(value)) return Result.succeed(undefined)
  switch (value) {
    case "auto":
      return Result.succeed({ type: "auto" })
    case "required":
      return Result.succeed({ type: "any" })
    case "none":
      return Result.succeed({ type: "none" })
  }
  const choice = asObject(value)
  if (choice?.["type"] === "function") {
    const name = asObject(choice["function"])?.["name"]
    return typeof name === "string"
      ? Result.succeed({ type: "tool", name })
      : problem("tool_choice.function.name", "tool_choice.function.name: expected a string")
  }
  return typeof choice?.["type"] === "string"
    ? untranslatable("tool_choice", `a tool_choice of type ${choice["type"]}`)
    : problem("tool_choice", 'tool_choice: expected "auto", "required", "none" or a function to call')
}

// ---------------------------------------------------------------------------------------------------
// Parameters

/** Parameters that would change the answer and that Anthropic has no equivalent for. */
const unsupportedOptions = (body: Json): Translated<void> => {
  const n = body["n"]
  if (typeof n === "number" && n > 1) return untranslatable("n", "n greater than 1 (Anthropic answers one choice)")
  if (body["logprobs"] === true) return untranslatable("logprobs", "logprobs (Anthropic reports none)")
  if (given(body["audio"])) return untranslatable("audio", "audio output")
  const modalities = body["modalities"]
  if (Array.isArray(modalities) && modalities.some((m) => m !== "text"))
    return untranslatable("modalities", "output modalities other than text")
  const format = asObject(body["response_format"])
  const formatType = format?.["type"]
  if (format !== undefined && formatType !== "text") {
    return untranslatable(
      "response_format",
      typeof formatType === "string"
        ? `a response_format of type ${formatType} (structured output)`
        : "this response_format"
    )
  }
  if (given(body["functions"])) return untranslatable("functions", "the legacy functions (use tools)")
  if (given(body["function_call"])) return untranslatable("function_call", "the legacy function_call (use tool_choice)")
  if (given(body["web_search_options"])) return untranslatable("web_search_options", "web_search_options")
  return Result.succeed(undefined)
}

const maxTokens = (body: Json, defaultMaxTokens: number): Translated<number> => {
  const param = given(body["max_completion_tokens"])
    ? "max_completion_tokens"
    : given(body["max_tokens"])
      ? "max_tokens"
      : undefined
  if (param === undefined) return Result.succeed(defaultMaxTokens)
  const value = body[param]
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0
    ? Result.succeed(value)
    : problem(param, `${param}: expected a positive integer`)
}

const stopSequences = (value: unknown): Translated<ReadonlyArray<string> | undefined> => {
  if (!given(value)) return Result.succeed(undefined)
  if (typeof value === "string") return Result.succeed([value])
  if (Array.isArray(value) && value.every((s) => typeof s === "string"))
    return Result.succeed(value.length === 0 ? undefined : (value as ReadonlyArray<string>))
  return problem("stop", "stop: expected a string or an array of strings")
}

const optionalNumber = (body: Json, param: string): Translated<number | undefined> => {
  const value = body[param]
  if (!given(value)) return Result.succeed(undefined)
  return typeof value === "number" && Number.isFinite(value)
    ? Result.succeed(value)
    : problem(param, `${param}: expected a number`)
}

export const toAnthropicRequest = (
  body: Readonly<Record<string, unknown>>,
  upstreamModel: string,
  defaultMaxTokens: number
): Result.Result<Record<string, unknown>, { readonly param: string | null; readonly message: string }> =>
  Result.gen(function* () {
    yield* unsupportedOptions(body)
    const temperature = yield* optionalNumber(body, "temperature")
    if (temperature !== undefined && (temperature < 0 || temperature > 1)) {
      return yield* problem(
        "temperature",
        `temperature: ${temperature} is out of range for the anthropic provider kind (Anthropic's range is 0 to 1)`
      )
    }
    const topP = yield* optionalNumber(body, "top_p")
    const max = yield* maxTokens(body, defaultMaxTokens)
    const stop = yield* stopSequences(body["stop"])
    const user = body["user"]
    if (given(user) && typeof user !== "string") return yield* problem("user", "user: expected a string")
    const { system, messages } = yield* conversation(body["messages"])
    const tools = yield* anthropicTools(body["tools"])
    let toolChoice = yield* anthropicToolChoice(body["tool_choice"])
    if (body["parallel_tool_calls"] === false) {
      if (toolChoice === undefined && tools !== undefined) toolChoice = { type: "auto" }
      if (toolChoice !== undefined && toolChoice["type"] !== "none")
        toolChoice = { ...toolChoice, disable_parallel_tool_use: true }
    }
    const out: Record<string, unknown> = { model: upstreamModel, max_tokens: max }
    if (system !== undefined) out["system"] = system
    out["messages"] = messages
    if (tools !== undefined) out["tools"] = tools
    if (toolChoice !== undefined) out["tool_choice"] = toolChoice
    if (stop !== undefined) out["stop_sequences"] = stop
    if (temperature !== undefined) out["temperature"] = temperature
    if (topP !== undefined) out["top_p"] = topP
    if (typeof user === "string") out["metadata"] = { user_id: user }
    if (body["stream"] === true) out["stream"] = true
    return out
  })
