/**
 * The `openai` SDK as the judge of what src/responses produces: the required fields of its types,
 * listed so that the compiler checks the lists are complete (a field the SDK adds as required breaks
 * the type check, not silently the clients), and a client whose `fetch` answers with canned bytes,
 * so the SDK's own request building, response handling and stream accumulation run offline.
 */
import OpenAI from "openai"
import { expect } from "vitest"

/** The keys of T that are not optional. */
export type RequiredKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? never : K }[keyof T]

/**
 * The required keys of T, as a list the compiler checks is complete: a key left out is a type error
 * naming it (`missing`).
 */
export const requiredKeys =
  <T>() =>
  <const K extends ReadonlyArray<RequiredKeys<T>>>(
    keys: K &
      ([Exclude<RequiredKeys<T>, K[number]>] extends [never]
        ? unknown
        : { missing: Exclude<RequiredKeys<T>, K[number]> })
  ): ReadonlyArray<string> =>
    keys.map(String)

type R = OpenAI.Responses.Response
type Event<T extends OpenAI.Responses.ResponseStreamEvent["type"]> = Extract<
  OpenAI.Responses.ResponseStreamEvent,
  { type: T }
>

/** The Response's required fields, but `output_text`: the SDK computes it (it is not on the wire). */
export const RESPONSE_KEYS = requiredKeys<Omit<R, "output_text">>()([
  "id",
  "access_programs",
  "created_at",
  "error",
  "incomplete_details",
  "instructions",
  "metadata",
  "model",
  "object",
  "output",
  "parallel_tool_calls",
  "temperature",
  "tool_choice",
  "tools",
  "top_p"
])

export const USAGE_KEYS = requiredKeys<OpenAI.Responses.ResponseUsage>()([
  "input_tokens",
  "input_tokens_details",
  "output_tokens",
  "output_tokens_details",
  "total_tokens"
])

export const ITEM_KEYS: Readonly<Record<string, ReadonlyArray<string>>> = {
  message: requiredKeys<OpenAI.Responses.ResponseOutputMessage>()(["id", "content", "role", "status", "type"]),
  function_call: requiredKeys<OpenAI.Responses.ResponseFunctionToolCall>()(["arguments", "call_id", "name", "type"])
}

export const PART_KEYS: Readonly<Record<string, ReadonlyArray<string>>> = {
  output_text: requiredKeys<OpenAI.Responses.ResponseOutputText>()(["annotations", "text", "type"]),
  refusal: requiredKeys<OpenAI.Responses.ResponseOutputRefusal>()(["refusal", "type"])
}

const lifecycle = ["response", "sequence_number", "type"] as const
const itemEvent = ["item", "output_index", "sequence_number", "type"] as const
const partEvent = ["content_index", "item_id", "output_index", "part", "sequence_number", "type"] as const

/** The required fields of every event the translator emits. */
export const EVENT_KEYS: Readonly<Record<string, ReadonlyArray<string>>> = {
  "response.created": requiredKeys<Event<"response.created">>()(lifecycle),
  "response.in_progress": requiredKeys<Event<"response.in_progress">>()(lifecycle),
  "response.completed": requiredKeys<Event<"response.completed">>()(lifecycle),
  "response.incomplete": requiredKeys<Event<"response.incomplete">>()(lifecycle),
  "response.failed": requiredKeys<Event<"response.failed">>()(lifecycle),
  "response.output_item.added": requiredKeys<Event<"response.output_item.added">>()(itemEvent),
  "response.output_item.done": requiredKeys<Event<"response.output_item.done">>()(itemEvent),
  "response.content_part.added": requiredKeys<Event<"response.content_part.added">>()(partEvent),
  "response.content_part.done": requiredKeys<Event<"response.content_part.done">>()(partEvent),
  "response.output_text.delta": requiredKeys<Event<"response.output_text.delta">>()([
    "content_index",
    "delta",
    "item_id",
    "logprobs",
    "output_index",
    "sequence_number",
    "type"
  ]),
  "response.output_text.done": requiredKeys<Event<"response.output_text.done">>()([
    "content_index",
    "item_id",
    "logprobs",
    "output_index",
    "sequence_number",
    "text",
    "type"
  ]),
  "response.refusal.delta": requiredKeys<Event<"response.refusal.delta">>()([
    "content_index",
    "delta",
    "item_id",
    "output_index",
    "sequence_number",
    "type"
  ]),
  "response.refusal.done": requiredKeys<Event<"response.refusal.done">>()([
    "content_index",
    "item_id",
    "output_index",
    "refusal",
    "sequence_number",
    "type"
  ]),
  "response.function_call_arguments.delta": requiredKeys<Event<"response.function_call_arguments.delta">>()([
    "delta",
    "item_id",
    "output_index",
    "sequence_number",
    "type"
  ]),
  "response.function_call_arguments.done": requiredKeys<Event<"response.function_call_arguments.done">>()([
    "arguments",
    "item_id",
    "output_index",
    "sequence_number",
    "type"
  ])
}

const hasKeys = (value: unknown, keys: ReadonlyArray<string>, what: string): Record<string, unknown> => {
  expect(value, what).toBeTypeOf("object")
  const object = value as Record<string, unknown>
  for (const key of keys) expect(Object.hasOwn(object, key), `${what} has ${key}`).toBe(true)
  return object
}

/** Checks an output item (and its content parts) has every field the SDK's type requires. */
export const expectItemShape = (item: unknown): void => {
  const type = String((item as Record<string, unknown>)["type"])
  const keys = ITEM_KEYS[type]
  if (keys === undefined) expect.fail(`unexpected output item type ${type}`)
  const it = hasKeys(item, keys, `${type} item`)
  if (type === "message") {
    for (const part of it["content"] as ReadonlyArray<Record<string, unknown>>) {
      const partKeys = PART_KEYS[String(part["type"])]
      if (partKeys === undefined) expect.fail(`unexpected content part type ${String(part["type"])}`)
      hasKeys(part, partKeys, `${String(part["type"])} part`)
    }
  }
}

/** Checks a Response object has every field the SDK's type requires, down to its items and usage. */
export const expectResponseShape = (response: unknown): void => {
  const r = hasKeys(response, RESPONSE_KEYS, "response")
  for (const item of r["output"] as ReadonlyArray<unknown>) expectItemShape(item)
  if (r["usage"] !== undefined) {
    const usage = hasKeys(r["usage"], USAGE_KEYS, "usage")
    hasKeys(usage["input_tokens_details"], ["cached_tokens"], "input_tokens_details")
    hasKeys(usage["output_tokens_details"], ["reasoning_tokens"], "output_tokens_details")
  }
}

/** Checks an event has every field the SDK's type for its `type` requires (and its Response or item too). */
export const expectEventShape = (event: Record<string, unknown>): void => {
  const type = String(event["type"])
  const keys = EVENT_KEYS[type]
  if (keys === undefined) expect.fail(`unexpected event type ${type}`)
  hasKeys(event, keys, type)
  if (event["response"] !== undefined) expectResponseShape(event["response"])
  if (event["item"] !== undefined) expectItemShape(event["item"])
}

/** An SDK client whose every request is answered by `answer`; the JSON bodies it sent go to `sent`. */
export const fakeClient = (answer: () => Response, sent: Array<unknown> = []): OpenAI =>
  new OpenAI({
    apiKey: "sk-test",
    baseURL: "http://gateway.test/v1",
    maxRetries: 0,
    fetch: async (_url, init) => {
      sent.push(JSON.parse(String(init?.body)))
      return answer()
    }
  })

export const jsonAnswer = (body: unknown) => (): Response =>
  new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } })

export const sseAnswer = (bytes: Uint8Array) => (): Response =>
  new Response(new Uint8Array(bytes), { headers: { "content-type": "text/event-stream" } })
