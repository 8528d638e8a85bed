/**
 * GatewayError: the one error of the request path. Its `reason` says what went wrong; the HTTP
 * status, the OpenAI-shaped body and (later) retryability are all derived from the reason here, in
 * one place, so handlers never pick statuses or messages themselves.
 */
import * as Schema from "effect/Schema"

const Reason = <Tag extends string, Fields extends Schema.Struct.Fields>(tag: Tag, fields: Fields) =>
  Schema.TaggedStruct(tag, fields)

export const InvalidJson = Reason("InvalidJson", { detail: Schema.String })
export const InvalidRequest = Reason("InvalidRequest", { param: Schema.NullOr(Schema.String), message: Schema.String })
export const Unauthorized = Reason("Unauthorized", { message: Schema.String })
export const ModelNotFound = Reason("ModelNotFound", { model: Schema.String })
/** A virtual key asked for a model outside its allowed list. */
export const ModelNotAllowed = Reason("ModelNotAllowed", { model: Schema.String })
export const RouteNotFound = Reason("RouteNotFound", { method: Schema.String, path: Schema.String })
export const MethodNotAllowed = Reason("MethodNotAllowed", { method: Schema.String, path: Schema.String })
export const BodyTooLarge = Reason("BodyTooLarge", { limit: Schema.Number })
/** The request line and headers together are larger than the server accepts (`server.header_limit`). */
export const HeadersTooLarge = Reason("HeadersTooLarge", { limit: Schema.Number })
/** The request did not arrive in time: its head within `server.header_timeout` (a slowloris client), or the whole of it. */
export const RequestTimeout = Reason("RequestTimeout", { header_ms: Schema.Number, request_ms: Schema.Number })
export const UpstreamUnreachable = Reason("UpstreamUnreachable", { provider: Schema.String })
export const UpstreamTimeout = Reason("UpstreamTimeout", { provider: Schema.String, after_ms: Schema.Number })
export const UpstreamProtocol = Reason("UpstreamProtocol", { provider: Schema.String, message: Schema.String })
export const ProviderFailure = Reason("ProviderFailure", {
  provider: Schema.String,
  status: Schema.Number,
  message: Schema.String
})
export const Unavailable = Reason("Unavailable", { message: Schema.String })
export const Overloaded = Reason("Overloaded", { message: Schema.String })
export const Internal = Reason("Internal", { message: Schema.String })
/** Authenticated, but not allowed here (a non-admin key on the admin API). */
export const Forbidden = Reason("Forbidden", { message: Schema.String })
/** An admin resource (provider, model, project, user, key) that does not exist. */
export const NotFound = Reason("NotFound", { message: Schema.String })
/** The change contradicts what is stored (a name taken, dependants of what would be deleted). */
export const Conflict = Reason("Conflict", { param: Schema.NullOr(Schema.String), message: Schema.String })
/** `If-Match` names another version than the stored one (someone changed it meanwhile). */
export const PreconditionFailed = Reason("PreconditionFailed", { message: Schema.String })
/** Well-formed, but a field's value is not acceptable; `param` names the field. */
export const Unprocessable = Reason("Unprocessable", { param: Schema.NullOr(Schema.String), message: Schema.String })
/** The limits a request can be refused by (429 rate_limit_exceeded). */
export const RateLimitName = Schema.Literals([
  "requests_per_minute",
  "tokens_per_minute",
  "requests_per_second",
  "max_parallel"
])
export type RateLimitName = typeof RateLimitName.Type
/** Whose limit it is: the virtual key's own, its project's (all its keys together), or the client IP's. */
export const RateLimitScope = Schema.Literals(["key", "project", "ip"])
export type RateLimitScope = typeof RateLimitScope.Type
/** A limit on the key, its project or the client IP is reached; `retry_after_ms` says when to try again. */
export const RateLimited = Reason("RateLimited", {
  limit: RateLimitName,
  value: Schema.Number,
  scope: RateLimitScope,
  retry_after_ms: Schema.Number
})
/** A budget's periods (config `budget.period`): UTC days, weeks from Monday, months from the 1st, or never resetting. */
export const BudgetPeriodName = Schema.Literals(["daily", "weekly", "monthly", "total"])
/**
 * The key's or its project's budget has no room for this request: spent (or reserved by requests
 * in flight) up to `amount_usd`, or too little left for this request's maximum cost. `resets_at`
 * and `retry_after_ms` are null for a `total` budget, which never resets.
 */
export const BudgetExceeded = Reason("BudgetExceeded", {
  scope: RateLimitScope,
  amount_usd: Schema.Number,
  period: BudgetPeriodName,
  spent_usd: Schema.Number,
  reserved_usd: Schema.Number,
  request_usd: Schema.Number,
  resets_at: Schema.NullOr(Schema.String),
  retry_after_ms: Schema.NullOr(Schema.Number)
})
/** The operation exists but this deployment cannot do it (admin writes with the file store). */
export const NotImplemented = Reason("NotImplemented", { message: Schema.String })

export const GatewayErrorReason = Schema.Union([
  InvalidJson,
  InvalidRequest,
  Unauthorized,
  ModelNotFound,
  ModelNotAllowed,
  RouteNotFound,
  MethodNotAllowed,
  BodyTooLarge,
  HeadersTooLarge,
  RequestTimeout,
  UpstreamUnreachable,
  UpstreamTimeout,
  UpstreamProtocol,
  ProviderFailure,
  Unavailable,
  Overloaded,
  Internal,
  Forbidden,
  NotFound,
  Conflict,
  PreconditionFailed,
  Unprocessable,
  NotImplemented,
  RateLimited,
  BudgetExceeded
])
export type GatewayErrorReason = typeof GatewayErrorReason.Type

export class GatewayError extends Schema.TaggedError<GatewayError>()("GatewayError", {
  reason: GatewayErrorReason
}) {
  override get message(): string {
    return describe(this.reason).message
  }
}

/** Builds a GatewayError from a reason literal: `fail({ _tag: "ModelNotFound", model })`. */
export const gatewayError = (reason: GatewayErrorReason): GatewayError => new GatewayError({ reason })

/** OpenAI's error object, the body of every error response. */
export interface OpenAIErrorObject {
  readonly message: string
  readonly type: string
  readonly param: string | null
  readonly code: string | null
}

export interface ErrorDescription extends OpenAIErrorObject {
  readonly status: number
}

/** A byte size as config writes it: `64 KiB`, `1 MiB`, or `1000 bytes`. */
export const formatBytes = (n: number): string =>
  n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`

const SCOPE_NAMES: Readonly<Record<RateLimitScope, string>> = {
  key: "this key",
  project: "this key's project",
  ip: "this IP"
}

/** A USD amount as money in messages: `$1.00`, `$0.0153`, `$0.000002`. */
export const formatUsd = (usd: number): string => {
  const cents = Math.round(usd * 100) / 100
  return Math.abs(cents - usd) < 5e-7 ? `$${cents.toFixed(2)}` : `$${usd.toFixed(6).replace(/0+$/, "")}`
}

const budgetMessage = (r: Extract<GatewayErrorReason, { readonly _tag: "BudgetExceeded" }>): string => {
  const whose = `The ${r.period} budget of ${formatUsd(r.amount_usd)} for ${SCOPE_NAMES[r.scope]}`
  const resets = r.resets_at === null ? "It does not reset (a total budget)." : `It resets at ${r.resets_at} (UTC).`
  if (r.spent_usd >= r.amount_usd) return `${whose} is spent (${formatUsd(r.spent_usd)}). ${resets}`
  const inFlight = r.reserved_usd > 0 ? ` and ${formatUsd(r.reserved_usd)} reserved by requests in flight` : ""
  return `${whose} has too little left for this request: ${formatUsd(r.spent_usd)} spent${inFlight}, and this request may cost up to ${formatUsd(r.request_usd)} (lower max_tokens to fit). ${resets}`
}

/** A `Retry-After` in whole seconds, rounded up (at least 1). */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/** Status and OpenAI-shaped error for a reason. Messages name no secret: reasons carry none. */
export const describe = (reason: GatewayErrorReason): ErrorDescription => {
  switch (reason._tag) {
    case "InvalidJson":
      return {
        status: 400,
        type: "invalid_request_error",
        code: "invalid_json",
        param: null,
        message: `We could not parse the JSON body of your request: ${reason.detail}`
      }
    case "InvalidRequest":
      return {
        status: 400,
        type: "invalid_request_error",
        code: "invalid_request",
        param: reason.param,
        message: reason.message
      }
    case "Unauthorized":
      return {
        status: 401,
        type: "authentication_error",
        code: "invalid_api_key",
        param: null,
        message: reason.message
      }
    case "ModelNotFound":
      return {
        status: 404,
        type: "invalid_request_error",
        code: "model_not_found",
        param: "model",
        message: `The model \`${reason.model}\` does not exist or you do not have access to it.`
      }
    case "ModelNotAllowed":
      // 403 like OpenAI's answer for a project key restricted from a model; type and param as its other model errors.
      return {
        status: 403,
        type: "invalid_request_error",
        code: "model_not_allowed",
        param: "model",
        message: `This API key is not allowed to use the model \`${reason.model}\`.`
      }
    case "RouteNotFound":
      return {
        status: 404,
        type: "invalid_request_error",
        code: "not_found",
        param: null,
        message: `Unknown request URL: ${reason.method} ${reason.path}.`
      }
    case "MethodNotAllowed":
      return {
        status: 405,
        type: "invalid_request_error",
        code: "method_not_allowed",
        param: null,
        message: `Method ${reason.method} is not allowed on ${reason.path}.`
      }
    case "BodyTooLarge":
      return {
        status: 413,
        type: "invalid_request_error",
        code: "request_too_large",
        param: null,
        message: `Request body exceeds the limit of ${formatBytes(reason.limit)}.`
      }
    case "HeadersTooLarge":
      return {
        status: 431,
        type: "invalid_request_error",
        code: "request_header_fields_too_large",
        param: null,
        message: `Request line and headers exceed the limit of ${formatBytes(reason.limit)}.`
      }
    case "RequestTimeout":
      return {
        status: 408,
        type: "invalid_request_error",
        code: "request_timeout",
        param: null,
        message: `The request did not arrive in time: its line and headers are due within ${reason.header_ms} ms, the whole of it within ${reason.request_ms} ms.`
      }
    case "UpstreamUnreachable":
      return {
        status: 502,
        type: "api_error",
        code: "upstream_unreachable",
        param: null,
        message: `Provider \`${reason.provider}\` could not be reached.`
      }
    case "UpstreamTimeout":
      return {
        status: 504,
        type: "api_error",
        code: "upstream_timeout",
        param: null,
        message: `Provider \`${reason.provider}\` did not answer within ${reason.after_ms} ms.`
      }
    case "UpstreamProtocol":
      return {
        status: 502,
        type: "api_error",
        code: "upstream_protocol_error",
        param: null,
        message: `Provider \`${reason.provider}\` sent an invalid response: ${reason.message}`
      }
    case "ProviderFailure":
      return {
        status: reason.status,
        type: reason.status >= 500 ? "api_error" : "invalid_request_error",
        code: "provider_error",
        param: null,
        message: reason.message
      }
    case "Unavailable":
      return { status: 503, type: "api_error", code: "service_unavailable", param: null, message: reason.message }
    case "Overloaded":
      return { status: 429, type: "rate_limit_error", code: "concurrency_limit", param: null, message: reason.message }
    case "Internal":
      return { status: 500, type: "api_error", code: "internal_error", param: null, message: reason.message }
    case "Forbidden":
      return { status: 403, type: "permission_error", code: "forbidden", param: null, message: reason.message }
    case "NotFound":
      return { status: 404, type: "invalid_request_error", code: "not_found", param: null, message: reason.message }
    case "Conflict":
      return {
        status: 409,
        type: "invalid_request_error",
        code: "conflict",
        param: reason.param,
        message: reason.message
      }
    case "PreconditionFailed":
      return {
        status: 412,
        type: "invalid_request_error",
        code: "precondition_failed",
        param: null,
        message: reason.message
      }
    case "Unprocessable":
      return {
        status: 422,
        type: "invalid_request_error",
        code: "invalid_value",
        param: reason.param,
        message: reason.message
      }
    case "NotImplemented":
      return { status: 501, type: "api_error", code: "not_implemented", param: null, message: reason.message }
    case "RateLimited":
      // OpenAI's 429: type names what ran out (`requests` or `tokens`), code `rate_limit_exceeded`.
      return {
        status: 429,
        type: reason.limit === "tokens_per_minute" ? "tokens" : "requests",
        code: "rate_limit_exceeded",
        param: null,
        message: `${reason.limit} limit of ${reason.value} reached for ${SCOPE_NAMES[reason.scope]}. Retry after ${retryAfterSeconds(reason.retry_after_ms)} s.`
      }
    case "BudgetExceeded":
      // 429 as OpenAI answers a spent quota (`type: insufficient_quota`), with our own code.
      return {
        status: 429,
        type: "insufficient_quota",
        code: "budget_exceeded",
        param: null,
        message: budgetMessage(reason)
      }
  }
}

/** The `{"error":{…}}` body for a reason. */
export const errorBody = (reason: GatewayErrorReason): { readonly error: OpenAIErrorObject } => {
  const d = describe(reason)
  return { error: { message: d.message, type: d.type, param: d.param, code: d.code } }
}
