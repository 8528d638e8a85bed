/**
 * An OpenAI Responses API request (`POST /v1/responses`, what `client.responses.create` sends) → the
 * chat completions request the gateway routes to any provider. Only the stateless subset can be
 * served this way: the request must carry the whole conversation. Pure: JSON in, JSON or a problem
 * naming the offending field out (the caller answers it as an OpenAI `invalid_request_error`, 400).
 *
 * The mapping, field by field:
 *
 *   model                  kept as is (the gateway routes on it)
 *   instructions           a leading `system` message
 *   input                  a string (one user message) or a list of items (below)
 *   tools                  function tools → chat's `{type: "function", function: {…}}`; any other
 *                          tool (web_search, file_search, code_interpreter, computer_use, mcp,
 *                          image_generation, custom, …) fails, naming `tools[i]`
 *   tool_choice            "auto" / "none" / "required" as they are, `{type: "function", name}` → the
 *                          named function; other kinds fail
 *   parallel_tool_calls    copied. This and tool_choice are left out when the request has no tools
 *                          (chat refuses them without tools).
 *   max_output_tokens      max_completion_tokens
 *   temperature, top_p, user   copied;  reasoning.effort → reasoning_effort
 *   text.format            json_schema → `response_format: {type: "json_schema", json_schema: {…}}`,
 *                          json_object → `{type: "json_object"}`, text → nothing
 *   stream                 stream + `stream_options.include_usage` (the final event carries usage)
 *
 * What needs state kept by OpenAI fails, naming the field: `previous_response_id`, `conversation`,
 * `prompt` (a stored prompt template), `background: true`, `item_reference` input items and file
 * inputs (`input_file` parts, images by `file_id`). `store` is accepted whatever its value (it
 * defaults to true in the API) but nothing is ever stored: the response says `store: false`, and a
 * later request naming it by `previous_response_id` fails here. `include` may only name
 * `reasoning.encrypted_content` (stateless clients ask for it; no reasoning items are produced, so
 * there is nothing to include); any other entry fails. `top_logprobs` above 0 fails (no log
 * probabilities are returned). `truncation: "auto"` is accepted and behaves as "disabled" (an input
 * too long for the model is the provider's 400). Dropped as tuning or bookkeeping with no chat
 * counterpart every provider takes: `metadata` (echoed in the response), `store`, `service_tier`,
 * `max_tool_calls`, `stream_options`, `prompt_cache_key`, `prompt_cache_retention`,
 * `safety_identifier`, `reasoning.summary`, `text.verbosity`, and fields this module does not know.
 *
 * A function tool's `strict`: the Responses API defaults it to true, chat to false. It is copied when
 * given and left out when not, as forcing it would make OpenAI refuse every schema that is not
 * strict-compatible while other providers ignore it.
 *
 * Input items (`type` absent means a message):
 *
 *   message               role user / system / developer / assistant; content a string or parts.
 *                         developer → system (every chat provider takes system; OpenAI treats them
 *                         alike). Text parts (`input_text`, and `output_text` / `refusal` of an
 *                         assistant message sent back) join with a blank line into a string (empty
 *                         ones skipped), which every upstream accepts; a user message with images becomes `text` /
 *                         `image_url` parts (`input_image` by URL or data URL, its `detail` kept).
 *   function_call         an assistant tool call; it joins the assistant message just before it
 *                         (the text of the same turn, or the calls before it), else opens one
 *   function_call_output  a `tool` message; text parts join into its content, and its images move
 *                         into a user message after the run of tool messages (chat tool messages
 *                         carry text only)
 *   reasoning             dropped (it is signed for OpenAI's own models)
 *   anything else         fails, naming `input[i]`
 */
import * as Result from "effect/Result"
import { type RequestProblem, requestProblem } from "../domain/RequestProblem.ts"
import { asObject } from "../providers/UsageFields.ts"

export type { RequestProblem }

type Json = Record<string, unknown>
type Outcome<A> = Result.Result<A, RequestProblem>

const problem = requestProblem

/** Text parts that make one text are joined with a blank line. */
const JOIN = "\n\n"

/** The one `include` entry accepted: it asks for something this gateway never produces. */
const INCLUDABLE: ReadonlySet<string> = new Set(["reasoning.encrypted_content"])

/** Chat's image detail levels (the Responses API's "original" has none: left to the default). */
const DETAILS: ReadonlySet<unknown> = new Set(["low", "high", "auto"])

const present = (value: unknown): boolean => value !== undefined && value !== null

const quoted = (value: unknown): string => JSON.stringify(value) ?? "nothing"

// ---------------------------------------------------------------------------------------------
// Content parts
// ---------------------------------------------------------------------------------------------

/** A content part and its `type`, or a problem when it is not an object with a string type. */
const typedPart = (part: unknown, path: string): Outcome<readonly [Readonly<Json>, string]> => {
  const p = asObject(part)
  if (p === undefined) return problem(path, `${path} must be a content part object`)
  const type = p["type"]
  if (typeof type !== "string") return problem(`${path}.type`, `${path}.type must be a string`)
  return Result.succeed([p, type] as const)
}

const stringField = (object: Readonly<Json>, key: string, path: string): Outcome<string> => {
  const value = object[key]
  return typeof value === "string"
    ? Result.succeed(value)
    : problem(`${path}.${key}`, `${path}.${key} must be a string`)
}

/** An `input_image` part → a chat `image_url` part; images stored by OpenAI (`file_id`) fail. */
const imagePart = (part: Readonly<Json>, path: string): Outcome<Json> => {
  const url = part["image_url"]
  if (typeof url === "string" && url !== "") {
    const detail = part["detail"]
    return Result.succeed({ type: "image_url", image_url: DETAILS.has(detail) ? { url, detail } : { url } })
  }
  if (present(part["file_id"])) {
    return problem(
      `${path}.file_id`,
      `${path}.file_id: images by file_id are not supported by this gateway (files are stored by OpenAI); send image_url (a URL or a data URL)`
    )
  }
  return problem(`${path}.image_url`, `${path}.image_url must be a non-empty string`)
}

const fileUnsupported = (path: string): Outcome<never> =>
  problem(path, `${path}: input_file parts are not supported by this gateway`)

const unsupportedPart = (path: string, type: string, where: string): Outcome<never> =>
  problem(path, `${path}: content parts of type "${type}" are not supported ${where}`)

/** The text of text parts, the empty ones skipped, joined with a blank line. */
const joinTexts = (parts: ReadonlyArray<Json>): string =>
  parts
    .map((p) => p["text"])
    .filter((text) => typeof text === "string" && text !== "")
    .join(JOIN)

/** Parts → chat content: a string when they are all text, else the parts. */
const chatContent = (parts: ReadonlyArray<Json>): string | ReadonlyArray<Json> =>
  parts.every((p) => p["type"] === "text") ? joinTexts(parts) : parts

/** A message's content (string or parts) → text and image parts; `images` says whether images may appear. */
const messageParts = (content: unknown, path: string, images: boolean): Outcome<ReadonlyArray<Json>> =>
  Result.gen(function* () {
    if (typeof content === "string") return [{ type: "text", text: content }]
    if (!Array.isArray(content)) return yield* problem(path, `${path} must be a string or an array of content parts`)
    const parts: Array<Json> = []
    for (const [j, item] of content.entries()) {
      const at = `${path}[${j}]`
      const [part, type] = yield* typedPart(item, at)
      switch (type) {
        case "input_text":
        case "output_text":
          parts.push({ type: "text", text: yield* stringField(part, "text", at) })
          break
        case "refusal":
          parts.push({ type: "text", text: yield* stringField(part, "refusal", at) })
          break
        case "input_image":
          if (!images) return yield* unsupportedPart(at, type, "in this message (only user messages carry images)")
          parts.push(yield* imagePart(part, at))
          break
        case "input_file":
          return yield* fileUnsupported(at)
        default:
          return yield* unsupportedPart(at, type, "in messages")
      }
    }
    return parts
  })

/** A function_call_output's `output` → the tool message text and the images it carries. */
const toolOutput = (
  output: unknown,
  path: string
): Outcome<{ readonly text: string; readonly images: ReadonlyArray<Json> }> =>
  Result.gen(function* () {
    if (typeof output === "string") return { text: output, images: [] }
    if (!Array.isArray(output)) return yield* problem(path, `${path} must be a string or an array of content parts`)
    const texts: Array<string> = []
    const images: Array<Json> = []
    for (const [j, item] of output.entries()) {
      const at = `${path}[${j}]`
      const [part, type] = yield* typedPart(item, at)
      switch (type) {
        case "input_text":
          texts.push(yield* stringField(part, "text", at))
          break
        case "input_image":
          images.push(yield* imagePart(part, at))
          break
        case "input_file":
          return yield* fileUnsupported(at)
        default:
          return yield* unsupportedPart(at, type, "in function_call_output")
      }
    }
    return { text: texts.filter((text) => text !== "").join(JOIN), images }
  })

// ---------------------------------------------------------------------------------------------
// Input items
// ---------------------------------------------------------------------------------------------

/** The chat messages being built, and the images of tool outputs waiting for the run of tool messages to end. */
interface Conversation {
  readonly messages: Array<Json>
  readonly toolImages: Array<Json>
}

/** Ends a run of tool messages: the images their outputs carried, as one user message. */
const flushToolImages = (c: Conversation): void => {
  if (c.toolImages.length === 0) return
  c.messages.push({ role: "user", content: [...c.toolImages] })
  c.toolImages.length = 0
}

const messageItem = (item: Readonly<Json>, path: string, c: Conversation): Outcome<void> =>
  Result.gen(function* () {
    const role = item["role"]
    const content = item["content"]
    switch (role) {
      case "user": {
        const parts = yield* messageParts(content, `${path}.content`, true)
        c.messages.push({ role: "user", content: chatContent(parts) })
        return
      }
      case "system":
      case "developer":
      case "assistant": {
        const parts = yield* messageParts(content, `${path}.content`, false)
        const text = joinTexts(parts)
        c.messages.push({ role: role === "assistant" ? "assistant" : "system", content: text })
        return
      }
      default:
        return yield* problem(
          `${path}.role`,
          `${path}.role must be "user", "assistant", "system" or "developer", got ${quoted(role)}`
        )
    }
  })

const functionCallItem = (item: Readonly<Json>, path: string, c: Conversation): Outcome<void> =>
  Result.gen(function* () {
    const callId = item["call_id"]
    if (typeof callId !== "string" || callId === "") {
      return yield* problem(`${path}.call_id`, `${path}.call_id must be a non-empty string`)
    }
    const name = item["name"]
    if (typeof name !== "string" || name === "") {
      return yield* problem(`${path}.name`, `${path}.name must be a non-empty string`)
    }
    const args = yield* stringField(item, "arguments", path)
    const call = { id: callId, type: "function", function: { name, arguments: args } }
    const last = c.messages.at(-1)
    if (last?.["role"] === "assistant") {
      const calls = last["tool_calls"]
      last["tool_calls"] = Array.isArray(calls) ? [...calls, call] : [call]
      if (last["content"] === "") last["content"] = null
    } else {
      c.messages.push({ role: "assistant", content: null, tool_calls: [call] })
    }
  })

const functionCallOutputItem = (item: Readonly<Json>, path: string, c: Conversation): Outcome<void> =>
  Result.gen(function* () {
    const callId = item["call_id"]
    if (typeof callId !== "string" || callId === "") {
      return yield* problem(`${path}.call_id`, `${path}.call_id must be a non-empty string`)
    }
    const output = yield* toolOutput(item["output"], `${path}.output`)
    c.messages.push({ role: "tool", tool_call_id: callId, content: output.text })
    c.toolImages.push(...output.images)
  })

const convertItem = (value: unknown, i: number, c: Conversation): Outcome<void> => {
  const path = `input[${i}]`
  const item = asObject(value)
  if (item === undefined) return problem(path, `${path} must be an object`)
  const type = item["type"] ?? "message"
  if (type !== "function_call_output") flushToolImages(c)
  switch (type) {
    case "message":
      return messageItem(item, path, c)
    case "function_call":
      return functionCallItem(item, path, c)
    case "function_call_output":
      return functionCallOutputItem(item, path, c)
    case "reasoning":
      return Result.void
    case "item_reference":
      return problem(
        path,
        `${path}: item_reference items are not supported by this gateway (it stores no items); send the items themselves`
      )
    default:
      return problem(
        path,
        `${path}: input items of type ${quoted(type)} are not supported by this gateway; only messages, function_call and function_call_output are`
      )
  }
}

/** `input` → the chat messages (after the system message of `instructions`, if any). */
const convertInput = (input: unknown, messages: Array<Json>): Outcome<void> =>
  Result.gen(function* () {
    if (typeof input === "string") {
      messages.push({ role: "user", content: input })
      return
    }
    if (!Array.isArray(input) || input.length === 0) {
      return yield* problem("input", "input is required and must be a string or a non-empty array of input items")
    }
    const c: Conversation = { messages, toolImages: [] }
    for (const [i, item] of input.entries()) yield* convertItem(item, i, c)
    flushToolImages(c)
  })

// ---------------------------------------------------------------------------------------------
// Tools and formats
// ---------------------------------------------------------------------------------------------

const convertTool = (value: unknown, i: number): Outcome<Json> => {
  const at = `tools[${i}]`
  const tool = asObject(value)
  if (tool === undefined) return problem(at, `${at} must be an object`)
  const type = tool["type"]
  if (type !== "function") {
    return problem(
      at,
      `${at}: tools of type ${quoted(type)} are not supported by this gateway (it serves the Responses API from chat providers); only function tools are`
    )
  }
  const name = tool["name"]
  if (typeof name !== "string" || name === "") return problem(`${at}.name`, `${at}.name must be a non-empty string`)
  const fn: Json = { name }
  const description = tool["description"]
  if (typeof description === "string") fn["description"] = description
  const parameters = tool["parameters"]
  if (present(parameters)) {
    if (asObject(parameters) === undefined) {
      return problem(`${at}.parameters`, `${at}.parameters must be a JSON Schema object`)
    }
    fn["parameters"] = parameters
  }
  const strict = tool["strict"]
  if (typeof strict === "boolean") fn["strict"] = strict
  return Result.succeed({ type: "function", function: fn })
}

const convertTools = (tools: unknown): Outcome<ReadonlyArray<Json>> =>
  Result.gen(function* () {
    if (!present(tools)) return []
    if (!Array.isArray(tools)) return yield* problem("tools", "tools must be an array")
    const out: Array<Json> = []
    for (const [i, tool] of tools.entries()) out.push(yield* convertTool(tool, i))
    return out
  })

/** `tool_choice` → chat's `tool_choice` (undefined when absent). */
const convertToolChoice = (choice: unknown): Outcome<unknown> => {
  if (!present(choice)) return Result.succeed(undefined)
  if (choice === "auto" || choice === "none" || choice === "required") return Result.succeed(choice)
  const c = asObject(choice)
  if (c === undefined) {
    return problem("tool_choice", `tool_choice must be "auto", "none", "required" or a function choice`)
  }
  if (c["type"] !== "function") {
    return problem(
      "tool_choice",
      `tool_choice of type ${quoted(c["type"])} is not supported by this gateway; only "auto", "none", "required" and {"type": "function", "name": …} are`
    )
  }
  const name = c["name"]
  if (typeof name !== "string" || name === "") {
    return problem("tool_choice.name", "tool_choice.name must be a non-empty string")
  }
  return Result.succeed({ type: "function", function: { name } })
}

/** `text.format` → chat's `response_format` (undefined for plain text). */
const convertFormat = (text: unknown): Outcome<Json | undefined> => {
  if (!present(text)) return Result.succeed(undefined)
  const t = asObject(text)
  if (t === undefined) return problem("text", "text must be an object")
  const format = t["format"]
  if (!present(format)) return Result.succeed(undefined)
  const f = asObject(format)
  if (f === undefined) return problem("text.format", "text.format must be an object")
  switch (f["type"]) {
    case "text":
      return Result.succeed(undefined)
    case "json_object":
      return Result.succeed({ type: "json_object" })
    case "json_schema": {
      const name = f["name"]
      if (typeof name !== "string" || name === "") {
        return problem("text.format.name", "text.format.name must be a non-empty string")
      }
      const schema = asObject(f["schema"])
      if (schema === undefined) return problem("text.format.schema", "text.format.schema must be a JSON Schema object")
      const jsonSchema: Json = { name, schema }
      if (typeof f["description"] === "string") jsonSchema["description"] = f["description"]
      if (typeof f["strict"] === "boolean") jsonSchema["strict"] = f["strict"]
      return Result.succeed({ type: "json_schema", json_schema: jsonSchema })
    }
    default:
      return problem(
        "text.format.type",
        `text.format.type must be "text", "json_object" or "json_schema", got ${quoted(f["type"])}`
      )
  }
}

// ---------------------------------------------------------------------------------------------
// Top-level fields
// ---------------------------------------------------------------------------------------------

/** The fields that name state kept by OpenAI, each with why it cannot be served. */
const STATEFUL: ReadonlyArray<readonly [string, string]> = [
  ["previous_response_id", "this gateway stores no responses; send the whole conversation in input"],
  ["conversation", "this gateway stores no conversations; send the whole conversation in input"],
  ["prompt", "stored prompt templates are not supported by this gateway; send instructions and input"]
]

/** Fails on the first field that needs state kept by OpenAI, or asks for output this gateway cannot give. */
const refuseUnservable = (body: Readonly<Json>): Outcome<void> =>
  Result.gen(function* () {
    for (const [key, why] of STATEFUL) {
      if (present(body[key])) return yield* problem(key, `${key} is not supported: ${why}`)
    }
    if (body["background"] === true) {
      return yield* problem("background", "background responses are not supported by this gateway (it stores none)")
    }
    const include = body["include"]
    if (present(include)) {
      if (!Array.isArray(include)) return yield* problem("include", "include must be an array")
      for (const [i, entry] of include.entries()) {
        if (!INCLUDABLE.has(entry)) {
          return yield* problem(`include[${i}]`, `include[${i}]: ${quoted(entry)} is not supported by this gateway`)
        }
      }
    }
    const topLogprobs = body["top_logprobs"]
    if (typeof topLogprobs === "number" && topLogprobs > 0) {
      return yield* problem(
        "top_logprobs",
        "top_logprobs is not supported by this gateway (it returns no log probabilities)"
      )
    }
  })

/** An optional number field (null counts as absent). */
const optionalNumber = (body: Readonly<Json>, key: string): Outcome<number | undefined> => {
  const value = body[key]
  if (!present(value)) return Result.succeed(undefined)
  return typeof value === "number" && Number.isFinite(value)
    ? Result.succeed(value)
    : problem(key, `${key} must be a number`)
}

export const toChatRequest = (
  body: Readonly<Record<string, unknown>>
): Result.Result<Record<string, unknown>, RequestProblem> =>
  Result.gen(function* () {
    const model = body["model"]
    if (typeof model !== "string" || model === "") return yield* problem("model", "model must be a non-empty string")
    yield* refuseUnservable(body)

    const messages: Array<Json> = []
    const instructions = body["instructions"]
    if (present(instructions)) {
      if (typeof instructions !== "string") return yield* problem("instructions", "instructions must be a string")
      if (instructions !== "") messages.push({ role: "system", content: instructions })
    }
    yield* convertInput(body["input"], messages)

    const out: Json = { model, messages }
    const maxTokens = body["max_output_tokens"]
    if (present(maxTokens)) {
      if (typeof maxTokens !== "number" || !Number.isSafeInteger(maxTokens) || maxTokens < 1) {
        return yield* problem("max_output_tokens", "max_output_tokens must be a positive integer")
      }
      out["max_completion_tokens"] = maxTokens
    }
    for (const key of ["temperature", "top_p"]) {
      const value = yield* optionalNumber(body, key)
      if (value !== undefined) out[key] = value
    }
    const user = body["user"]
    if (typeof user === "string" && user !== "") out["user"] = user
    const effort = asObject(body["reasoning"])?.["effort"]
    if (typeof effort === "string") out["reasoning_effort"] = effort
    const format = yield* convertFormat(body["text"])
    if (format !== undefined) out["response_format"] = format

    const tools = yield* convertTools(body["tools"])
    const choice = yield* convertToolChoice(body["tool_choice"])
    const parallel = body["parallel_tool_calls"]
    if (present(parallel) && typeof parallel !== "boolean") {
      return yield* problem("parallel_tool_calls", "parallel_tool_calls must be a boolean")
    }
    if (tools.length > 0) {
      out["tools"] = tools
      if (choice !== undefined) out["tool_choice"] = choice
      if (typeof parallel === "boolean") out["parallel_tool_calls"] = parallel
    }

    if (body["stream"] === true) {
      out["stream"] = true
      out["stream_options"] = { include_usage: true }
    }
    return out
  })
