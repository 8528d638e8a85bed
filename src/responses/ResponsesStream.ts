/**
 * A chat completions SSE stream → the OpenAI Responses API event stream, bytes to bytes, for clients
 * that called `POST /v1/responses` with `stream: true`. The input may be split anywhere (SseScanner
 * reassembles events); the output is the same for every split.
 *
 * Each output event is `event: <type>\ndata: <json>\n\n`, the json carrying the same `type` and a
 * `sequence_number` counting from 0, in the order of the Responses API:
 *
 *   response.created, response.in_progress    on the first upstream event: the Response so far
 *                                             (status in_progress, no output, no usage)
 *   per message item      response.output_item.added (status in_progress, no content), then per
 *                         content part response.content_part.added, response.output_text.delta ×n
 *                         (or response.refusal.delta ×n), response.output_text.done (or
 *                         response.refusal.done), response.content_part.done; then
 *                         response.output_item.done
 *   per tool call         response.output_item.added (a function_call with empty arguments),
 *                         response.function_call_arguments.delta ×n,
 *                         response.function_call_arguments.done, response.output_item.done
 *   response.completed    the whole Response, as toResponseObject builds it for the same answer;
 *                         response.incomplete instead when the finish reason is `length` or
 *                         `content_filter`
 *
 * There is no `[DONE]` in a Responses stream: the terminal event ends it.
 *
 * Items: text (and refusal) deltas go to a message item, tool call pieces to function_call items,
 * with the ids and statuses of ResponsesResponse.ts. A delta of the other kind closes the open
 * items: text after tool calls closes them and opens a new message item. Tool calls may be open
 * together (a provider that interleaves the pieces of parallel calls is followed), and a new index,
 * or a new id at an index, opens a new item; a piece without an id for a call whose item was closed
 * by text is dropped. Reasoning deltas are dropped (see ResponsesResponse.ts). Only the first choice
 * is read.
 *
 * The response ends at `[DONE]`, or at `end()` when a finish reason has arrived (some upstreams omit
 * `[DONE]`). The usage comes from the chunk that carries it (the request sets
 * `stream_options.include_usage`), zeros when none does.
 *
 * Failures: an `{"error": …}` chunk, a chunk that is not a JSON object, a scanner failure (a line
 * over `lineLimit`, data that is not UTF-8) or an end before any finish reason becomes one
 * `response.failed` event (after response.created and response.in_progress when they were not sent
 * yet) whose Response has status `failed`, `error: {code: "server_error", message}` and the output
 * so far (items still open marked `incomplete`); nothing follows it. That is the terminal event the
 * API itself sends when generation fails part-way, so every client already handles it: the `openai`
 * SDK's ResponseStream ends on it with that Response (status and error readable), where an `error`
 * event would make it throw and lose the partial output, and clients that wait for a terminal
 * lifecycle event see one.
 */
import {
  makeEventTranslator,
  readChatChunk,
  scanFailureMessage,
  type StreamTranslator
} from "../streaming/EventTranslator.ts"

export type { StreamTranslator }
import { asObject } from "../providers/UsageFields.ts"
import {
  argumentsText,
  fallbackCallId,
  functionCallItem,
  functionCallItemId,
  idBase,
  type ItemStatus,
  messageItem,
  messageItemId,
  outcomeOf,
  outputTextPart,
  refusalPart,
  responseId,
  responseObject,
  type ResponseState,
  responseUsage
} from "./ResponsesResponse.ts"

export interface ResponsesStreamOptions {
  /** The client's Responses request, echoed in the Response objects the stream carries. */
  readonly request: Readonly<Record<string, unknown>>
  /** The Response's `created_at`, in Unix seconds. */
  readonly createdAt: number
  /** The longest upstream SSE line accepted, in bytes. */
  readonly lineLimit: number
}

type Json = Record<string, unknown>

type PartKind = "output_text" | "refusal"

/** The open message item: its closed parts and the part being written. */
interface OpenMessage {
  readonly index: number
  readonly id: string
  readonly parts: Array<Json>
  part: { readonly kind: PartKind; text: string } | undefined
}

/** An open function_call item. */
interface OpenCall {
  readonly index: number
  readonly id: string
  readonly callId: string
  name: string
  args: string
}

const finishedPart = (kind: PartKind, text: string): Json =>
  kind === "output_text" ? outputTextPart(text) : refusalPart(text)

export const makeResponsesStreamTranslator = (options: ResponsesStreamOptions): StreamTranslator => {
  /** Set when response.created has been sent: the base of every id of the response. */
  let base: string | undefined
  let sequence = 0
  /** The response is over (a terminal event sent): nothing more is written. */
  let over = false
  /** The output items by output index; undefined while an item is open. */
  const output: Array<Json | undefined> = []
  let message: OpenMessage | undefined
  /** The open function_call items, by the upstream's tool call index. */
  const calls = new Map<number, OpenCall>()
  /** The tool call indexes that have had an item. */
  const seenTools = new Set<number>()
  let finishReason: unknown
  let usage: unknown

  const emit = (type: string, data: Readonly<Json>, out: Array<string>): void => {
    out.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: sequence })}\n\n`)
    sequence++
  }

  const state = (b: string, rest: Omit<ResponseState, "id" | "createdAt">): ResponseState => ({
    id: responseId(b),
    createdAt: options.createdAt,
    ...rest
  })

  /** Sends response.created and response.in_progress, once; the id comes from the first chunk. */
  const start = (id: unknown, out: Array<string>): string => {
    if (base !== undefined) return base
    const b = idBase(id)
    base = b
    const response = responseObject(options.request, state(b, { status: "in_progress", output: [] }))
    emit("response.created", { response }, out)
    emit("response.in_progress", { response }, out)
    return b
  }

  // --- message items ---------------------------------------------------------------------------

  const closePart = (m: OpenMessage, out: Array<string>): void => {
    const part = m.part
    if (part === undefined) return
    const at = { item_id: m.id, output_index: m.index, content_index: m.parts.length }
    if (part.kind === "output_text") emit("response.output_text.done", { ...at, text: part.text, logprobs: [] }, out)
    else emit("response.refusal.done", { ...at, refusal: part.text }, out)
    const done = finishedPart(part.kind, part.text)
    emit("response.content_part.done", { ...at, part: done }, out)
    m.parts.push(done)
    m.part = undefined
  }

  const closeMessage = (status: ItemStatus, out: Array<string>): void => {
    const m = message
    if (m === undefined) return
    closePart(m, out)
    const item = messageItem(m.id, status, m.parts)
    emit("response.output_item.done", { output_index: m.index, item }, out)
    output[m.index] = item
    message = undefined
  }

  // --- function_call items ---------------------------------------------------------------------

  const closeCall = (call: OpenCall, status: ItemStatus, out: Array<string>): void => {
    const args = argumentsText(call.args)
    const at = { item_id: call.id, output_index: call.index }
    emit("response.function_call_arguments.done", { ...at, arguments: args }, out)
    const item = functionCallItem(call.id, status, { callId: call.callId, name: call.name, arguments: args })
    emit("response.output_item.done", { output_index: call.index, item }, out)
    output[call.index] = item
  }

  /** Closes every open function_call item, in output order; `lastStatus` is the status of the last item of the output. */
  const closeCalls = (lastStatus: ItemStatus, out: Array<string>): void => {
    const open = [...calls.values()].sort((a, b) => a.index - b.index)
    calls.clear()
    for (const call of open) closeCall(call, call.index === output.length - 1 ? lastStatus : "completed", out)
  }

  // --- deltas ----------------------------------------------------------------------------------

  const streamText = (b: string, kind: PartKind, delta: string, out: Array<string>): void => {
    closeCalls("completed", out)
    if (message === undefined) {
      const index = output.length
      output.push(undefined)
      message = { index, id: messageItemId(b, index), parts: [], part: undefined }
      emit("response.output_item.added", { output_index: index, item: messageItem(message.id, "in_progress", []) }, out)
    }
    const m = message
    let part = m.part
    if (part?.kind !== kind) {
      closePart(m, out)
      part = { kind, text: "" }
      m.part = part
      emit(
        "response.content_part.added",
        { item_id: m.id, output_index: m.index, content_index: m.parts.length, part: finishedPart(kind, "") },
        out
      )
    }
    part.text += delta
    emit(
      kind === "output_text" ? "response.output_text.delta" : "response.refusal.delta",
      kind === "output_text"
        ? { item_id: m.id, output_index: m.index, content_index: m.parts.length, delta, logprobs: [] }
        : { item_id: m.id, output_index: m.index, content_index: m.parts.length, delta },
      out
    )
  }

  const streamToolPiece = (b: string, piece: Readonly<Json>, out: Array<string>): void => {
    const toolIndex = typeof piece["index"] === "number" ? piece["index"] : 0
    const id = typeof piece["id"] === "string" && piece["id"] !== "" ? piece["id"] : undefined
    const fn = asObject(piece["function"])
    const name = typeof fn?.["name"] === "string" ? fn["name"] : ""
    closeMessage("completed", out)
    let call = calls.get(toolIndex)
    if (call === undefined || (id !== undefined && id !== call.callId)) {
      // A piece without an id for a call whose item is closed: dropped (see the header).
      if (id === undefined && seenTools.has(toolIndex)) return
      if (call !== undefined) {
        calls.delete(toolIndex)
        closeCall(call, "completed", out)
      }
      seenTools.add(toolIndex)
      const index = output.length
      output.push(undefined)
      call = { index, id: functionCallItemId(b, index), callId: id ?? fallbackCallId(b, index), name, args: "" }
      calls.set(toolIndex, call)
      emit(
        "response.output_item.added",
        {
          output_index: index,
          item: functionCallItem(call.id, "in_progress", { callId: call.callId, name, arguments: "" })
        },
        out
      )
    } else if (call.name === "" && name !== "") {
      call.name = name
    }
    const args = fn?.["arguments"]
    if (typeof args === "string" && args !== "") {
      call.args += args
      emit("response.function_call_arguments.delta", { item_id: call.id, output_index: call.index, delta: args }, out)
    }
  }

  // --- the end ---------------------------------------------------------------------------------

  const finish = (out: Array<string>): void => {
    const b = start(undefined, out)
    const outcome = outcomeOf(finishReason)
    const lastStatus: ItemStatus = outcome.status === "incomplete" ? "incomplete" : "completed"
    closeMessage(message?.index === output.length - 1 ? lastStatus : "completed", out)
    closeCalls(lastStatus, out)
    const response = responseObject(
      options.request,
      state(b, {
        status: outcome.status,
        output: output.filter((item) => item !== undefined),
        usage: responseUsage(usage),
        incompleteReason: outcome.reason
      })
    )
    emit(outcome.status === "completed" ? "response.completed" : "response.incomplete", { response }, out)
    over = true
  }

  /** The output so far, the items still open as they stand (status incomplete). */
  const outputSoFar = (): ReadonlyArray<Json> => {
    const open = new Map<number, Json>()
    const m = message
    if (m !== undefined) {
      const parts = m.part === undefined ? m.parts : [...m.parts, finishedPart(m.part.kind, m.part.text)]
      open.set(m.index, messageItem(m.id, "incomplete", parts))
    }
    for (const call of calls.values()) {
      open.set(
        call.index,
        functionCallItem(call.id, "incomplete", { callId: call.callId, name: call.name, arguments: call.args })
      )
    }
    return output.flatMap((item, index): ReadonlyArray<Json> => {
      const current = item ?? open.get(index)
      return current === undefined ? [] : [current]
    })
  }

  const fail = (reason: string, out: Array<string>): void => {
    const b = start(undefined, out)
    const response = responseObject(
      options.request,
      state(b, {
        status: "failed",
        output: outputSoFar(),
        usage: usage === undefined ? undefined : responseUsage(usage),
        error: { code: "server_error", message: reason }
      })
    )
    emit("response.failed", { response }, out)
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
    const b = start(chunk["id"], out)
    if (asObject(chunk["usage"]) !== undefined) usage = chunk["usage"]
    const choices = chunk["choices"]
    const choice = Array.isArray(choices) ? asObject(choices[0]) : undefined
    if (choice === undefined) return
    const delta = asObject(choice["delta"])
    if (delta !== undefined) {
      const content = delta["content"]
      if (typeof content === "string" && content !== "") streamText(b, "output_text", content, out)
      const refusal = delta["refusal"]
      if (typeof refusal === "string" && refusal !== "") streamText(b, "refusal", refusal, out)
      const toolCalls = delta["tool_calls"]
      if (Array.isArray(toolCalls)) {
        for (const call of toolCalls) {
          const piece = asObject(call)
          if (piece !== undefined) streamToolPiece(b, piece, out)
        }
      }
      const legacy = asObject(delta["function_call"])
      if (legacy !== undefined) streamToolPiece(b, { index: 0, function: legacy }, out)
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
