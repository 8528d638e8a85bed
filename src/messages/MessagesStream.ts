/**
 * An OpenAI chat completions SSE stream → Anthropic's Messages event stream, bytes to bytes, for
 * clients that called `POST /v1/messages` with `stream: true`. The input may be split anywhere
 * (SseScanner reassembles events); the output is the same for every split.
 *
 * Each output event is `event: <type>\ndata: <json>\n\n`, in Anthropic's order:
 *
 *   message_start            on the first chunk: id `msg_…`, empty content, the requested model,
 *                            zero usage (OpenAI reports usage only at the end)
 *   content_block_start      per block, indexes from 0: `thinking`, `text` or `tool_use`
 *   content_block_delta      thinking_delta / text_delta / input_json_delta
 *   content_block_stop       when the next block starts, and before message_delta
 *   message_delta            stop_reason (from finish_reason) and the usage
 *   message_stop
 *
 * A delta of another kind than the open block closes it and opens a new one; a tool call with a
 * new index (or a new id) opens a new `tool_use` block, and its argument pieces become
 * `input_json_delta`s. Anthropic blocks are sequential, so a piece for a tool call whose block was
 * already closed (parallel calls interleaved, which OpenAI does not do) is dropped.
 *
 * Reasoning deltas (`reasoning_content`, or `reasoning`) become `thinking` blocks (with an empty
 * signature and no signature_delta: there is no Anthropic signature to give), so a client shows
 * them as Claude's own; refusal deltas are text. Only the first choice is read (Anthropic has no
 * `n`).
 *
 * The message ends at `[DONE]`, or at `end()` when a finish_reason has arrived (some upstreams
 * omit `[DONE]`). The usage comes from the chunk that carries it (the request sets
 * `stream_options.include_usage`), zeros when none does. An `{"error": …}` chunk, a chunk that is
 * not a JSON object, a scanner failure (a line over `lineLimit`, data that is not UTF-8) or an end
 * before any finish_reason becomes one Anthropic `error` event, and nothing follows it.
 */
import {
  makeEventTranslator,
  readChatChunk,
  scanFailureMessage,
  type StreamTranslator
} from "../streaming/EventTranslator.ts"

export type { StreamTranslator }
import { asObject } from "../providers/UsageFields.ts"
import { anthropicMessageId, anthropicUsageFromOpenAI, reasoningOf, stopReason } from "./MessagesResponse.ts"

export interface MessagesStreamOptions {
  /** The model the client asked for, reported in `message_start`. */
  readonly requestedModel: string
  /** The longest upstream SSE line accepted, in bytes. */
  readonly lineLimit: number
}

type Json = Record<string, unknown>

/** The open content block. */
type OpenBlock =
  | { readonly kind: "thinking" | "text"; readonly index: number }
  | { readonly kind: "tool"; readonly index: number; readonly toolIndex: number; readonly id: string }

/** One Anthropic SSE event. */
const event = (type: string, data: Readonly<Json>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

const errorEvent = (message: string): string => event("error", { error: { type: "api_error", message } })

export const makeMessagesStreamTranslator = (options: MessagesStreamOptions): StreamTranslator => {
  /** message_start has been sent; its id prefixes the ids made up for tool calls without one. */
  let messageId: string | undefined
  /** The stream is over (message_stop or error sent): nothing more is written. */
  let over = false
  let open: OpenBlock | undefined
  let nextIndex = 0
  /** The tool call indexes that have had a block. */
  const seenTools = new Set<number>()
  let finishReason: unknown
  let usage: unknown

  const start = (id: unknown, out: Array<string>): void => {
    if (messageId !== undefined) return
    messageId = anthropicMessageId(id)
    out.push(
      event("message_start", {
        message: {
          id: messageId,
          type: "message",
          role: "assistant",
          content: [],
          model: options.requestedModel,
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 }
        }
      })
    )
  }

  const close = (out: Array<string>): void => {
    if (open === undefined) return
    out.push(event("content_block_stop", { index: open.index }))
    open = undefined
  }

  const openBlock = (block: OpenBlock, contentBlock: Readonly<Json>, out: Array<string>): void => {
    close(out)
    open = block
    nextIndex++
    out.push(event("content_block_start", { index: block.index, content_block: contentBlock }))
  }

  /** Text or thinking: continues the open block of that kind, else opens one. */
  const streamText = (kind: "thinking" | "text", text: string, out: Array<string>): void => {
    if (open?.kind !== kind) {
      openBlock(
        { kind, index: nextIndex },
        kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
        out
      )
    }
    const index = open?.index ?? 0
    out.push(
      event("content_block_delta", {
        index,
        delta: kind === "text" ? { type: "text_delta", text } : { type: "thinking_delta", thinking: text }
      })
    )
  }

  const streamToolPiece = (piece: Readonly<Json>, out: Array<string>): void => {
    const toolIndex = typeof piece["index"] === "number" ? piece["index"] : 0
    const id = typeof piece["id"] === "string" && piece["id"] !== "" ? piece["id"] : undefined
    const fn = asObject(piece["function"])
    const current = open?.kind === "tool" && open.toolIndex === toolIndex && (id === undefined || id === open.id)
    if (!current) {
      // A piece without an id for a call whose block is closed: dropped (see the header).
      if (id === undefined && seenTools.has(toolIndex)) return
      seenTools.add(toolIndex)
      const blockId = id ?? `toolu_${messageId?.slice("msg_".length) ?? ""}_${toolIndex}`
      const name = typeof fn?.["name"] === "string" ? fn["name"] : ""
      openBlock(
        { kind: "tool", index: nextIndex, toolIndex, id: blockId },
        { type: "tool_use", id: blockId, name, input: {} },
        out
      )
    }
    const args = fn?.["arguments"]
    if (typeof args === "string" && args !== "") {
      out.push(
        event("content_block_delta", {
          index: open?.index ?? 0,
          delta: { type: "input_json_delta", partial_json: args }
        })
      )
    }
  }

  const finish = (out: Array<string>): void => {
    start(undefined, out)
    close(out)
    const u = anthropicUsageFromOpenAI(usage)
    out.push(
      event("message_delta", {
        delta: { stop_reason: stopReason(finishReason), stop_sequence: null },
        usage: {
          output_tokens: u["output_tokens"],
          input_tokens: u["input_tokens"],
          cache_read_input_tokens: u["cache_read_input_tokens"],
          cache_creation_input_tokens: u["cache_creation_input_tokens"]
        }
      })
    )
    out.push(event("message_stop", {}))
    over = true
  }

  const fail = (message: string, out: Array<string>): void => {
    out.push(errorEvent(message))
    over = true
  }

  /** One upstream event's data. */
  const handle = (data: string, out: Array<string>): void => {
    const read = readChatChunk(data)
    if (read._tag === "Done") {
      finish(out)
      return
    }
    if (read._tag === "Failed") {
      fail(read.message, out)
      return
    }
    const { chunk } = read
    start(chunk["id"], out)
    if (asObject(chunk["usage"]) !== undefined) usage = chunk["usage"]
    const choices = chunk["choices"]
    const choice = Array.isArray(choices) ? asObject(choices[0]) : undefined
    if (choice === undefined) return
    const delta = asObject(choice["delta"])
    if (delta !== undefined) {
      const reasoning = reasoningOf(delta)
      if (reasoning !== "") streamText("thinking", reasoning, out)
      const content = delta["content"]
      if (typeof content === "string" && content !== "") streamText("text", content, out)
      const refusal = delta["refusal"]
      if (typeof refusal === "string" && refusal !== "") streamText("text", refusal, out)
      const calls = delta["tool_calls"]
      if (Array.isArray(calls)) {
        for (const call of calls) {
          const piece = asObject(call)
          if (piece !== undefined) streamToolPiece(piece, out)
        }
      }
      const legacy = asObject(delta["function_call"])
      if (legacy !== undefined) streamToolPiece({ index: 0, function: legacy }, out)
    }
    const reason = choice["finish_reason"]
    if (reason !== undefined && reason !== null) finishReason = reason
  }

  return makeEventTranslator(options.lineLimit, {
    event: handle,
    broken: (failure, out) => fail(scanFailureMessage(failure), out),
    end: (out) => {
      if (finishReason !== undefined) finish(out)
      else fail("The upstream stream ended before the answer was complete", out)
    },
    over: () => over
  })
}
