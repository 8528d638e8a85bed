/**
 * The OpenTelemetry GenAI semantic conventions as the gateway's spans use them: attribute names, the
 * operation of each endpoint, and the provider names of the kinds. Plain data, so every layer
 * (routing's attempt spans, http's request spans) speaks the same names.
 */
import type * as Tracer from "effect/Tracer"
import type { Endpoint } from "./Endpoint.ts"

export const GEN_AI = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  /** The older name of `gen_ai.provider.name`, still read by many backends. */
  system: "gen_ai.system",
  requestModel: "gen_ai.request.model",
  requestMaxTokens: "gen_ai.request.max_tokens",
  requestTemperature: "gen_ai.request.temperature",
  requestTopP: "gen_ai.request.top_p",
  responseModel: "gen_ai.response.model",
  responseId: "gen_ai.response.id",
  responseFinishReasons: "gen_ai.response.finish_reasons",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  inputMessages: "gen_ai.input.messages",
  outputMessages: "gen_ai.output.messages"
} as const

/** `gen_ai.operation.name` of an endpoint. */
export const operationName = (endpoint: Endpoint): string =>
  endpoint === "chat" ? "chat" : endpoint === "completions" ? "text_completion" : endpoint

/**
 * A request's span as the request path holds it: Effect's span, which starts its children itself
 * (an attempt's client span) without a fiber's tracer, context or clock lookups.
 */
export interface RequestSpan extends Tracer.Span {
  readonly child: (
    name: string,
    kind: Tracer.SpanKind,
    startTime: bigint,
    attributes: Readonly<Record<string, unknown>>
  ) => RequestSpan
}

/** The W3C `traceparent` of a span, to send upstream. */
export const traceparentOf = (span: Tracer.Span): string =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
