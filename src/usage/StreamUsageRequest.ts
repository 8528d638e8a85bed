/**
 * Asking the upstream for a stream's usage. An OpenAI-compatible stream reports usage only when the
 * request says `stream_options: { include_usage: true }`: then a last chunk before `[DONE]` carries
 * `usage` and `choices: []`. The gateway records the usage of every request, so every streamed
 * chat or completions request asks for it; whether the client itself asked decides whether that
 * extra chunk reaches the client (usage/UsageRelay.ts drops it otherwise).
 *
 * On the hot path the body's bytes are not re-serialized: when the client set no `stream_options`
 * (nearly always), the member is spliced in front of the others (domain/JsonSplice.ts). A client
 * that set `stream_options` without `include_usage: true` gets its object re-serialized with it.
 */
import { type Endpoint, generates } from "../domain/Endpoint.ts"
import { prependTopLevelMember } from "../domain/JsonSplice.ts"

export interface StreamUsageRequest {
  /** The body to send upstream, parsed (agrees with `rawBody`). */
  readonly body: Readonly<Record<string, unknown>>
  /** The body to send upstream, as bytes: the client's own bytes when nothing had to change. */
  readonly rawBody: Uint8Array
  /** Whether the upstream will send a usage chunk (a streamed chat or completions request). */
  readonly usageRequested: boolean
  /** Whether the client asked for the usage chunk itself (`include_usage: true`): relay it, else drop it. */
  readonly clientAsked: boolean
}

const encoder = new TextEncoder()
const INCLUDE_USAGE = { include_usage: true } as const

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** The request to send upstream for a client's `body` (parsed) and `rawBody` (its bytes) on `endpoint`. */
export const requestStreamUsage = (
  endpoint: Endpoint,
  body: Readonly<Record<string, unknown>>,
  rawBody: Uint8Array
): StreamUsageRequest => {
  if (!generates(endpoint) || body["stream"] !== true)
    return { body, rawBody, usageRequested: false, clientAsked: false }
  const options = body["stream_options"]
  if (isObject(options) && options["include_usage"] === true)
    return { body, rawBody, usageRequested: true, clientAsked: true }
  if (!Object.hasOwn(body, "stream_options")) {
    const spliced = prependTopLevelMember(rawBody, "stream_options", JSON.stringify(INCLUDE_USAGE))
    if (spliced !== undefined)
      return {
        body: { stream_options: INCLUDE_USAGE, ...body },
        rawBody: spliced,
        usageRequested: true,
        clientAsked: false
      }
  }
  // `stream_options` set without include_usage (or null): the rare path, re-serialized.
  const upstream = { ...body, stream_options: isObject(options) ? { ...options, include_usage: true } : INCLUDE_USAGE }
  return { body: upstream, rawBody: encoder.encode(JSON.stringify(upstream)), usageRequested: true, clientAsked: false }
}
