/**
 * Anthropic's Messages SSE stream → an OpenAI `chat.completion.chunk` SSE stream, for the `anthropic`
 * provider kind. Bytes in (split anywhere: the SSE scanner joins what a split cuts), bytes out, one
 * `data: <json>\n\n` per OpenAI event. Only the `data` of each event is read: every Anthropic event
 * carries its type in it.
 *
 *   message_start            → the role chunk (`delta: {role: "assistant", content: ""}`); its id and
 *                              model are every later chunk's, its usage the input counts
 *   content_block_start      → for a `tool_use` block, the tool call's first chunk (`index` counts the
 *                              tool_use blocks from 0, `id`, `name`, empty `arguments`); else nothing
 *   content_block_delta      → `text_delta` → `delta.content`; `input_json_delta` → the tool call's
 *                              `arguments` piece; `thinking_delta` → `delta.reasoning_content` (the
 *                              field OpenAI-compatible servers use for reasoning); others (signatures,
 *                              citations) → nothing
 *   message_delta            → an empty delta with the `finish_reason`; its usage (cumulative
 *                              `output_tokens`, and input or cache counts when it has them, which win
 *                              over message_start's) is remembered
 *   message_stop             → the usage chunk (`choices: []`) when the client asked for usage, then
 *                              `[DONE]`
 *   error                    → `{"error": {…}}` in OpenAI's shape (AnthropicErrors.ts), which the
 *                              gateway takes for a failed stream
 *   ping, content_block_stop, and event types added later → nothing
 *
 * A broken upstream (a line over `lineLimit`, data that is not UTF-8 or not a JSON object, content
 * before `message_start`) ends the translation with an error chunk of type `upstream_protocol`. After
 * `[DONE]` or an error chunk, later bytes are ignored. A stream that ends without `message_stop`
 * gets nothing more from `end()`: the missing `[DONE]` is how the gateway tells it was cut short.
 */
import { makeEventTranslator, type StreamTranslator } from "../../streaming/EventTranslator.ts"
import { asObject, countField } from "../UsageFields.ts"
import { anthropicErrorOf, mapAnthropicErrorType } from "./AnthropicErrors.ts"
import { finishReason, openAIUsageFromAnthropic } from "./AnthropicResponse.ts"

export interface AnthropicStreamOptions {
  /** The `created` of every chunk (Unix seconds). */
  readonly created: number
  /** The client asked for `stream_options.include_usage`: a usage chunk goes before `[DONE]`. */
  readonly includeUsage: boolean
  /** The longest SSE line accepted from upstream, in bytes. */
  readonly lineLimit: number
}

export type { StreamTranslator }

const USAGE_COUNTS: ReadonlyArray<string> = [
  "input_tokens",
  "cache_read_input_tokens",
  "cache_creation_input_tokens",
  "output_tokens"
]

/** The error chunk of a broken upstream stream. */
const protocolError = (message: string): Record<string, unknown> => ({
  error: { message, type: "upstream_protocol", param: null, code: "upstream_protocol_error" }
})

export const makeAnthropicStreamTranslator = (options: AnthropicStreamOptions): StreamTranslator => {
  let id: unknown
  let model: unknown
  let started = false
  /** Translation is over: `[DONE]` or an error chunk was sent. */
  let finished = false
  /** Anthropic's content block index → the OpenAI tool call index of a tool_use block. */
  const toolIndex = new Map<number, number>()
  /** The usage counts seen so far (message_start's, overlaid by message_delta's). */
  const usage: Record<string, number> = {}

  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
    id,
    object: "chat.completion.chunk",
    created: options.created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }]
  })

  const rememberUsage = (value: unknown): void => {
    const u = asObject(value)
    for (const key of USAGE_COUNTS) {
      const count = countField(u, key)
      if (count !== undefined) usage[key] = count
    }
  }

  /** The OpenAI events for one Anthropic event (appended to `out`). */
  const translate = (data: string, out: Array<Record<string, unknown> | string>): void => {
    let parsed: unknown
    try {
      parsed = JSON.parse(data)
    } catch {
      parsed = undefined
    }
    const event = asObject(parsed)
    if (event === undefined) {
      finished = true
      out.push(protocolError("Anthropic stream event is not a JSON object."))
      return
    }
    const type = event["type"]
    if (type === "error") {
      finished = true
      const upstream = anthropicErrorOf(event)
      const mapped = mapAnthropicErrorType(upstream?.type ?? "api_error", undefined)
      out.push({
        error: {
          message: upstream?.message ?? "Anthropic stream reported an error.",
          type: mapped.type,
          param: null,
          code: mapped.code
        }
      })
      return
    }
    if (type === "message_start") {
      const message = asObject(event["message"])
      id = message?.["id"]
      model = message?.["model"]
      started = true
      rememberUsage(message?.["usage"])
      out.push(chunk({ role: "assistant", content: "" }))
      return
    }
    if (
      !started &&
      (type === "content_block_start" ||
        type === "content_block_delta" ||
        type === "message_delta" ||
        type === "message_stop")
    ) {
      finished = true
      out.push(protocolError(`Anthropic stream sent ${type} before message_start.`))
      return
    }
    switch (type) {
      case "content_block_start": {
        const block = asObject(event["content_block"])
        const index = event["index"]
        if (block?.["type"] !== "tool_use" || typeof index !== "number") return
        const k = toolIndex.size
        toolIndex.set(index, k)
        out.push(
          chunk({
            tool_calls: [
              { index: k, id: block["id"], type: "function", function: { name: block["name"], arguments: "" } }
            ]
          })
        )
        return
      }
      case "content_block_delta": {
        const delta = asObject(event["delta"])
        switch (delta?.["type"]) {
          case "text_delta": {
            const text = delta["text"]
            if (typeof text === "string" && text !== "") out.push(chunk({ content: text }))
            return
          }
          case "input_json_delta": {
            const json = delta["partial_json"]
            const index = event["index"]
            const k = typeof index === "number" ? toolIndex.get(index) : undefined
            if (k !== undefined && typeof json === "string" && json !== "")
              out.push(chunk({ tool_calls: [{ index: k, function: { arguments: json } }] }))
            return
          }
          case "thinking_delta": {
            const thinking = delta["thinking"]
            if (typeof thinking === "string" && thinking !== "") out.push(chunk({ reasoning_content: thinking }))
            return
          }
          default:
            return
        }
      }
      case "message_delta":
        rememberUsage(event["usage"])
        out.push(chunk({}, finishReason(asObject(event["delta"])?.["stop_reason"])))
        return
      case "message_stop": {
        finished = true
        const reported = openAIUsageFromAnthropic(usage)
        if (options.includeUsage && reported !== undefined)
          out.push({
            id,
            object: "chat.completion.chunk",
            created: options.created,
            model,
            choices: [],
            usage: reported
          })
        out.push("[DONE]")
        return
      }
      default:
        // ping, content_block_stop, and event types newer than this module.
        return
    }
  }

  /** The chunks `translate` makes, framed as SSE events. */
  const framed = (events: ReadonlyArray<Record<string, unknown> | string>, out: Array<string>): void => {
    for (const e of events) out.push(`data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`)
  }

  return makeEventTranslator(options.lineLimit, {
    event: (data, out) => {
      const events: Array<Record<string, unknown> | string> = []
      translate(data, events)
      framed(events, out)
    },
    broken: (failure, out) => {
      finished = true
      framed(
        [
          protocolError(
            failure._tag === "LineTooLong"
              ? `Anthropic stream line is longer than ${failure.limit} bytes.`
              : "Anthropic stream data is not UTF-8."
          )
        ],
        out
      )
    },
    // An upstream that ended without message_stop owes nothing more: the missing [DONE] says it.
    end: () => {},
    over: () => finished
  })
}
