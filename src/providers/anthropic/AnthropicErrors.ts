/**
 * Anthropic's error body → OpenAI's, for the `anthropic` provider kind. Anthropic answers an error
 * status (and sends a stream's `error` event) as `{"type":"error","error":{"type":…,"message":…}}`;
 * OpenAI clients expect `{"error":{"message","type","param","code"}}`. The upstream message is kept
 * as it is; the type (and a code where OpenAI has a usual one) comes from Anthropic's error type:
 *
 *   invalid_request_error → invalid_request_error      authentication_error → authentication_error
 *   permission_error      → permission_error                                   (code invalid_api_key)
 *   not_found_error       → invalid_request_error (code model_not_found when the status is 404)
 *   request_too_large     → invalid_request_error (code request_too_large)
 *   rate_limit_error      → rate_limit_error (code rate_limit_exceeded)
 *   api_error             → server_error               overloaded_error → server_error (code overloaded)
 *
 * An error type Anthropic adds later (e.g. `billing_error`) gets the type of its status class and
 * keeps its name as the code. A body that is not Anthropic's error shape (an HTML page from a proxy,
 * an empty body) says `Provider answered <status>.` with the type (and code) of its status class.
 */
import { asObject } from "../UsageFields.ts"

/** A type alias, not an interface: the body is also a plain JSON record (`Record<string, unknown>`). */
export type OpenAIErrorBody = {
  readonly error: {
    readonly message: string
    readonly type: string
    readonly param: null
    readonly code: string | null
  }
}

interface Mapped {
  readonly type: string
  readonly code: string | null
}

/** OpenAI's type and code for one of Anthropic's error types; undefined for a type not known here. */
const mapKnown = (anthropicType: string, status: number | undefined): Mapped | undefined => {
  switch (anthropicType) {
    case "invalid_request_error":
      return { type: "invalid_request_error", code: null }
    case "authentication_error":
      return { type: "authentication_error", code: "invalid_api_key" }
    case "permission_error":
      return { type: "permission_error", code: null }
    case "not_found_error":
      return { type: "invalid_request_error", code: status === 404 ? "model_not_found" : null }
    case "request_too_large":
      return { type: "invalid_request_error", code: "request_too_large" }
    case "rate_limit_error":
      return { type: "rate_limit_error", code: "rate_limit_exceeded" }
    case "api_error":
      return { type: "server_error", code: null }
    case "overloaded_error":
      return { type: "server_error", code: "overloaded" }
    default:
      return undefined
  }
}

/** The Anthropic error type an HTTP status usually comes with (Anthropic's documented statuses). */
export const anthropicTypeOfStatus = (status: number): string => {
  switch (status) {
    case 401:
      return "authentication_error"
    case 403:
      return "permission_error"
    case 404:
      return "not_found_error"
    case 413:
      return "request_too_large"
    case 429:
      return "rate_limit_error"
    case 529:
      return "overloaded_error"
    default:
      return status >= 500 || status < 400 ? "api_error" : "invalid_request_error"
  }
}

/**
 * OpenAI's type and code for an Anthropic error type. `status` is the HTTP status when there is one
 * (undefined for a stream's `error` event, which arrives in a 200 answer).
 */
export const mapAnthropicErrorType = (anthropicType: string, status: number | undefined): Mapped => {
  const known = mapKnown(anthropicType, status)
  if (known !== undefined) return known
  const byStatus = mapKnown(anthropicTypeOfStatus(status ?? 500), status)
  return { type: byStatus?.type ?? "server_error", code: anthropicType === "" ? null : anthropicType }
}

/** The `{type, message}` of Anthropic's error shape, when `body` has it. */
export const anthropicErrorOf = (body: unknown): { readonly type: string; readonly message: string } | undefined => {
  const error = asObject(asObject(body)?.["error"])
  const type = error?.["type"]
  const message = error?.["message"]
  return typeof type === "string" && typeof message === "string" ? { type, message } : undefined
}

export const toOpenAIErrorBody = (status: number, body: unknown): OpenAIErrorBody => {
  const upstream = anthropicErrorOf(body)
  if (upstream === undefined) {
    // Not Anthropic's answer (a proxy's page, a wrong base URL): a 404 here says nothing of the model.
    const mapped = mapAnthropicErrorType(anthropicTypeOfStatus(status), undefined)
    return { error: { message: `Provider answered ${status}.`, type: mapped.type, param: null, code: mapped.code } }
  }
  const mapped = mapAnthropicErrorType(upstream.type, status)
  return { error: { message: upstream.message, type: mapped.type, param: null, code: mapped.code } }
}
