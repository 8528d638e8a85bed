/**
 * A chat completion → the OpenAI Responses API `Response` object, for clients that called
 * `POST /v1/responses` (toResponseObject), and the pieces ResponsesStream.ts builds the same object
 * from while a stream goes by: the ids, the output items, the status a finish reason gives, the
 * usage, and the object itself around them (responseObject).
 *
 * Output: the assistant message first (an `output_text` part, and a `refusal` part for a refusal),
 * left out when the answer has neither; then one `function_call` item per tool call, in order.
 * Reasoning text (`reasoning_content`) is dropped: a Responses reasoning item is OpenAI's own,
 * encrypted, and a client would send it back to a provider that cannot read it. `output_text`, the
 * convenience the SDKs show, is computed by the SDK from the output and is not sent.
 *
 * Ids: the completion's id without its `chatcmpl-` prefix (a fresh one when there is none) behind
 * `resp_` for the response and `msg_` for its message (a later message of a stream, text after tool
 * calls, is `msg_<that>_<output index>`); function call items are `fc_<that>_<output index>`, and a
 * tool call without an id gets the call id `call_<that>_<output index>`. The same answer gets the same
 * ids streamed or not.
 *
 * Status: finish_reason `length` → `incomplete` with `incomplete_details.reason` `max_output_tokens`,
 * `content_filter` → `incomplete` with reason `content_filter` (the last output item, the one cut
 * short, is `incomplete` too); any other → `completed`.
 *
 * Usage: the Responses API counts like chat (inclusively: `input_tokens` includes the cached tokens
 * and, for providers that report cache writes, the written ones; `output_tokens` includes the
 * reasoning tokens), so the counts carry over: input = prompt, output = completion, with each
 * detail capped at its total. Zeros when the upstream reports none.
 *
 * The request is echoed as the API does (`instructions`, `tools`, `tool_choice`, `temperature`,
 * `top_p`, `max_output_tokens`, `parallel_tool_calls`, `text`, `reasoning`, `truncation`, `user`,
 * `metadata`), with the defaults of the API where the request left a field out, and null for the
 * sampling values it did not set (the provider's defaults are not known here). Nothing is stored:
 * `store: false`, `previous_response_id: null`, `background: false`. Every field the `openai` SDK's
 * `Response` type requires is present (`access_programs` and `error` as null).
 *
 * Errors: the Responses API answers a failed request with the same body as chat completions
 * (`{"error": {"message", "type", "param", "code"}}`), so an upstream error body is passed on as it
 * is and this module has no error translation.
 */
import { asObject, countField } from "../providers/UsageFields.ts"

type Json = Record<string, unknown>

/** The status of a Response this gateway produces. */
export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed"

/** The status of an output item. */
export type ItemStatus = "in_progress" | "completed" | "incomplete"

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

/** The upstream id without its `chatcmpl-` prefix, or a fresh one; the ids of a response derive from it. */
export const idBase = (id: unknown): string =>
  typeof id === "string" && id !== ""
    ? id.startsWith("chatcmpl-")
      ? id.slice("chatcmpl-".length)
      : id
    : crypto.randomUUID().replaceAll("-", "")

export const responseId = (base: string): string => `resp_${base}`
/** The message item at an output index: `msg_<base>` for the first item, which is the one message of a whole completion. */
export const messageItemId = (base: string, outputIndex: number): string =>
  outputIndex === 0 ? `msg_${base}` : `msg_${base}_${outputIndex}`
export const functionCallItemId = (base: string, outputIndex: number): string => `fc_${base}_${outputIndex}`
/** The call id given to a tool call that arrived without one. */
export const fallbackCallId = (base: string, outputIndex: number): string => `call_${base}_${outputIndex}`

// ---------------------------------------------------------------------------------------------
// Output items
// ---------------------------------------------------------------------------------------------

export const outputTextPart = (text: string): Json => ({ type: "output_text", text, annotations: [], logprobs: [] })

export const refusalPart = (refusal: string): Json => ({ type: "refusal", refusal })

export const messageItem = (id: string, status: ItemStatus, content: ReadonlyArray<Json>): Json => ({
  id,
  type: "message",
  status,
  role: "assistant",
  content
})

export const functionCallItem = (
  id: string,
  status: ItemStatus,
  call: { readonly callId: string; readonly name: string; readonly arguments: string }
): Json => ({
  id,
  type: "function_call",
  status,
  arguments: call.arguments,
  call_id: call.callId,
  name: call.name
})

/** The last item of an output marked `incomplete` (the one a cut-short answer was writing). */
export const markLastIncomplete = (output: ReadonlyArray<Json>): ReadonlyArray<Json> => {
  const last = output.at(-1)
  return last === undefined ? output : [...output.slice(0, -1), { ...last, status: "incomplete" }]
}

// ---------------------------------------------------------------------------------------------
// Status and usage
// ---------------------------------------------------------------------------------------------

/** How a finish reason ends a response: its status, and why it is incomplete (null when it is not). */
export const outcomeOf = (
  finish: unknown
): { readonly status: "completed" | "incomplete"; readonly reason: string | null } => {
  switch (finish) {
    case "length":
      return { status: "incomplete", reason: "max_output_tokens" }
    case "content_filter":
      return { status: "incomplete", reason: "content_filter" }
    default:
      return { status: "completed", reason: null }
  }
}

/** Chat usage (untrusted JSON) → Responses usage; zeros when it is missing. */
export const responseUsage = (usage: unknown): Json => {
  const u = asObject(usage)
  const input = countField(u, "prompt_tokens") ?? 0
  const total = countField(u, "total_tokens")
  const output = countField(u, "completion_tokens") ?? (total !== undefined && total >= input ? total - input : 0)
  const cached = Math.min(countField(asObject(u?.["prompt_tokens_details"]), "cached_tokens") ?? 0, input)
  const reasoning = Math.min(countField(asObject(u?.["completion_tokens_details"]), "reasoning_tokens") ?? 0, output)
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output
  }
}

// ---------------------------------------------------------------------------------------------
// The Response object
// ---------------------------------------------------------------------------------------------

/** What a Response says beyond the echo of its request. */
export interface ResponseState {
  readonly id: string
  readonly createdAt: number
  readonly status: ResponseStatus
  readonly output: ReadonlyArray<Json>
  /** Responses usage (responseUsage); left out while the response is in progress. */
  readonly usage?: Json | undefined
  /** Why the response is incomplete (status `incomplete`). */
  readonly incompleteReason?: string | null | undefined
  /** What went wrong (status `failed`). */
  readonly error?: { readonly code: string; readonly message: string } | undefined
}

const stringOr = <A>(value: unknown, fallback: A): string | A => (typeof value === "string" ? value : fallback)
const numberOr = <A>(value: unknown, fallback: A): number | A => (typeof value === "number" ? value : fallback)

/** A Response object: the state, and the request's fields echoed as the API does. */
export const responseObject = (request: Readonly<Record<string, unknown>>, state: ResponseState): Json => {
  const response: Json = {
    id: state.id,
    object: "response",
    created_at: state.createdAt,
    status: state.status,
    background: false,
    error: state.error === undefined ? null : { code: state.error.code, message: state.error.message },
    incomplete_details:
      state.incompleteReason === undefined || state.incompleteReason === null
        ? null
        : { reason: state.incompleteReason },
    instructions: stringOr(request["instructions"], null),
    max_output_tokens: numberOr(request["max_output_tokens"], null),
    model: stringOr(request["model"], ""),
    output: state.output,
    parallel_tool_calls: typeof request["parallel_tool_calls"] === "boolean" ? request["parallel_tool_calls"] : true,
    previous_response_id: null,
    reasoning: asObject(request["reasoning"]) ?? null,
    store: false,
    temperature: numberOr(request["temperature"], null),
    text: asObject(request["text"]) ?? { format: { type: "text" } },
    tool_choice: request["tool_choice"] ?? "auto",
    tools: Array.isArray(request["tools"]) ? request["tools"] : [],
    top_p: numberOr(request["top_p"], null),
    truncation: stringOr(request["truncation"], "disabled"),
    access_programs: null,
    metadata: asObject(request["metadata"]) ?? {}
  }
  if (state.usage !== undefined) response["usage"] = state.usage
  if (typeof request["user"] === "string") response["user"] = request["user"]
  return response
}

// ---------------------------------------------------------------------------------------------
// A whole completion
// ---------------------------------------------------------------------------------------------

/** The text of a chat message content: a string, or the text of its parts. */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part) => {
      const p = asObject(part)
      return p?.["type"] === "text" && typeof p["text"] === "string" ? p["text"] : ""
    })
    .join("")
}

/** Tool call arguments as the JSON string the Responses API carries ("{}" when there are none). */
export const argumentsText = (args: unknown): string => {
  if (typeof args === "string") return args === "" ? "{}" : args
  return JSON.stringify(asObject(args) ?? {})
}

/** The `{name, arguments, id}` of each tool call of a message (and of a legacy `function_call`). */
const toolCallsOf = (message: Readonly<Json>): ReadonlyArray<{ readonly id: unknown; readonly fn: Readonly<Json> }> => {
  const out: Array<{ readonly id: unknown; readonly fn: Readonly<Json> }> = []
  const calls = message["tool_calls"]
  if (Array.isArray(calls)) {
    for (const call of calls) {
      const c = asObject(call)
      const fn = asObject(c?.["function"])
      if (c !== undefined && fn !== undefined) out.push({ id: c["id"], fn })
    }
  }
  const legacy = asObject(message["function_call"])
  if (legacy !== undefined) out.push({ id: undefined, fn: legacy })
  return out
}

/** A `chat.completion` → a Response object; undefined without `choices[0].message`. */
export const toResponseObject = (
  completion: Readonly<Record<string, unknown>>,
  request: Readonly<Record<string, unknown>>,
  createdAt: number
): Record<string, unknown> | undefined => {
  const choices = completion["choices"]
  const choice = Array.isArray(choices) ? asObject(choices[0]) : undefined
  const message = asObject(choice?.["message"])
  if (choice === undefined || message === undefined) return undefined

  const base = idBase(completion["id"])
  const output: Array<Json> = []
  const parts: Array<Json> = []
  const text = contentText(message["content"])
  if (text !== "") parts.push(outputTextPart(text))
  const refusal = message["refusal"]
  if (typeof refusal === "string" && refusal !== "") parts.push(refusalPart(refusal))
  if (parts.length > 0) output.push(messageItem(messageItemId(base, 0), "completed", parts))
  for (const call of toolCallsOf(message)) {
    const index = output.length
    output.push(
      functionCallItem(functionCallItemId(base, index), "completed", {
        callId: typeof call.id === "string" && call.id !== "" ? call.id : fallbackCallId(base, index),
        name: stringOr(call.fn["name"], ""),
        arguments: argumentsText(call.fn["arguments"])
      })
    )
  }

  const outcome = outcomeOf(choice["finish_reason"])
  return responseObject(
    { ...request, model: stringOr(request["model"], stringOr(completion["model"], "")) },
    {
      id: responseId(base),
      createdAt,
      status: outcome.status,
      output: outcome.status === "incomplete" ? markLastIncomplete(output) : output,
      usage: responseUsage(completion["usage"]),
      incompleteReason: outcome.reason
    }
  )
}
