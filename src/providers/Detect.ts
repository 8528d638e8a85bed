/**
 * Provider detection: which models an upstream lists and which capabilities of the first few answer,
 * so an operator can add a provider and its models in one step (`llmgate providers detect`, and
 * `POST /admin/v1/providers/{name}/detect` for a configured provider).
 *
 * Models are listed with a GET (the one thing the Provider contract does not do): `{base}/models`
 * for `openai`; for `azure` the resource's deployments (`{base}/openai/deployments`), else its
 * models (`{base}/openai/models`), with the provider's `api-version`; for `anthropic`
 * `{base}/v1/models` with `anthropic-version`, page by page. Each sends the provider's own
 * credential and header operations, through the provider's own upstream client (the one its calls
 * use: providers/UpstreamClients.ts), so its `proxy`, `tls` and `keep_alive` settings apply to the
 * list as to the probes. A list nobody answers leaves the models unknown (an entry in `errors`),
 * unless the caller named the models to probe.
 *
 * Capabilities are probed through the provider itself (`Provider.call`), so every kind's
 * translation, URL and auth are the gateway's own: `chat` (one user message, `max_tokens: 1`,
 * answered 2xx), `streaming` (the same with `stream: true`, answered an event stream with at least
 * one chunk), `tools` (the same with one tiny function tool), `embeddings` (`input: "ping"`). A 4xx
 * answer means no (a model that wants `max_completion_tokens` is asked again with it); a 2xx means
 * yes; a timeout, a 403, 408, 429 or 5xx, or a broken stream means the probe could not tell (`null`,
 * with the reason in `errors`). A model whose chat probe did not answer yes is not probed for
 * streaming or tools (they take chat's answer). A 401, to the list or to any probe, and an
 * unreachable upstream end the detection with a GatewayError naming the provider (502, or 504 for
 * a list that timed out). Probes go straight to the provider: no routing, limits, breakers or
 * usage records.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type { ResolvedBounds, ResolvedProvider } from "../config/Config.ts"
import { ANTHROPIC_VERSION } from "./anthropic/Kind.ts"
import type { Endpoint } from "../domain/Endpoint.ts"
import { describe, gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { makeSseScanner } from "../streaming/SseScanner.ts"
import { parseJsonObject, upstreamHeaders } from "./openai/OpenAIProvider.ts"
import type { Provider, ProviderResponse } from "./Provider.ts"
import { upstreamClientOptions } from "./Registry.ts"
import { type UpstreamClient, UpstreamClients } from "./UpstreamClients.ts"

export const CAPABILITIES = ["chat", "streaming", "tools", "embeddings"] as const
export type Capability = (typeof CAPABILITIES)[number]

/** `true`: it answered; `false`: it refused (a 4xx); `null`: the probe could not tell (see `errors`). */
export type Answer = boolean | null
export type Capabilities = Readonly<Record<Capability, Answer>>

export interface DetectedModel {
  readonly id: string
  /** Null for a model that was listed but not probed. */
  readonly capabilities: Capabilities | null
}

/** Something detection could not tell: the model list, or one probe of one model. */
export interface DetectionError {
  readonly model: string | null
  readonly probe: "models" | Capability
  readonly message: string
}

export interface Detection {
  readonly provider: string
  /** The listed (or named) models in the upstream's order, the first `probed` of them probed. */
  readonly models: ReadonlyArray<DetectedModel>
  readonly probed: number
  readonly errors: ReadonlyArray<DetectionError>
}

/** Models probed when the caller does not say. */
export const DEFAULT_PROBE = 3
/** The most models one detection probes, and the most it may be asked to probe by name. */
export const MAX_PROBE = 50
/** Each probe's (and each model-list request's) time limit when the caller does not say. */
export const DEFAULT_TIMEOUT_MS = 10_000
/** The longest time limit a caller may give a probe. */
export const MAX_TIMEOUT_MS = 120_000
/** Models probed at the same time. */
const CONCURRENCY = 4
/** Pages of a paginated model list read at most (Anthropic's: 1,000 models a page). */
const MAX_PAGES = 10
/** How much of an upstream's error message a detection error quotes. */
const MESSAGE_LIMIT = 200

export interface DetectOptions {
  /** How many of the models to probe (0: list only). */
  readonly probe: number
  /** The models to probe instead of listing them; undefined: list them. */
  readonly models?: ReadonlyArray<string> | undefined
  readonly timeoutMs: number
  readonly bounds: Pick<ResolvedBounds, "upstreamBodyLimit" | "sseLineLimit">
}

// ---- model lists --------------------------------------------------------------------------------

export interface ModelPage {
  readonly ids: ReadonlyArray<string>
  /** Anthropic's `has_more`: another page follows (asked for with `after_id`). */
  readonly hasMore: boolean
}

/**
 * A model list as OpenAI (`{data: [{id}]}`), Azure (deployments or models, the same shape) and
 * Anthropic (`{data: [{id, display_name}], has_more}`) answer it; undefined when it is not one.
 */
export const parseModelList = (body: unknown): ModelPage | undefined => {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined
  const data: unknown = Reflect.get(body, "data")
  if (!Array.isArray(data)) return undefined
  const ids: Array<string> = []
  for (const entry of data) {
    const id: unknown = entry !== null && typeof entry === "object" ? Reflect.get(entry, "id") : undefined
    if (typeof id === "string" && id !== "" && !ids.includes(id)) ids.push(id)
  }
  return { ids, hasMore: Reflect.get(body, "has_more") === true }
}

/** One way to ask an upstream for its models; `page` gives the URL after the last id seen (paginated lists). */
export interface ListingRequest {
  readonly url: (after: string | undefined) => string
  readonly headers: Readonly<Record<string, string>>
  readonly paginated: boolean
}

/** The requests that list a provider's models, tried in order until one answers a list. */
export const listingRequests = (config: ResolvedProvider): ReadonlyArray<ListingRequest> => {
  const headers = upstreamHeaders(config, "application/json")
  delete headers["content-type"]
  const base = config.baseUrl
  const one = (url: string): ListingRequest => ({ url: () => url, headers, paginated: false })
  switch (config.kind) {
    case "openai":
      return [one(`${base}/models`)]
    case "azure": {
      const version = `api-version=${encodeURIComponent(config.apiVersion ?? "")}`
      return [one(`${base}/openai/deployments?${version}`), one(`${base}/openai/models?${version}`)]
    }
    case "anthropic": {
      const anthropic = { ...headers, "anthropic-version": config.anthropicVersion ?? ANTHROPIC_VERSION }
      return [
        {
          url: (after) =>
            `${base}/v1/models?limit=1000${after === undefined ? "" : `&after_id=${encodeURIComponent(after)}`}`,
          headers: anthropic,
          paginated: true
        }
      ]
    }
    case "mock":
      return []
  }
}

/** The models were listed, or nothing answered a list (`message` says what each request got). */
export type Listing =
  | { readonly _tag: "Listed"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "Unlisted"; readonly message: string }

const listed = (ids: ReadonlyArray<string>): Listing => ({ _tag: "Listed", ids })
const unlisted = (message: string): Listing => ({ _tag: "Unlisted", message })

const where = (url: string): string => `GET ${url}`

/** Who refused the credentials, as every detection failure of that kind says it. */
const credentialsRefused = (provider: string, what: string): GatewayError =>
  gatewayError({
    _tag: "ProviderFailure",
    provider,
    status: 502,
    message: `Provider \`${provider}\` refused the credentials: ${what} answered 401 (check its api_key or auth).`
  })

const NO_BODY = new Uint8Array(0)

/** A GET through `client`, read whole under the upstream body limit (undefined bytes: larger than that). */
const get = (
  client: UpstreamClient,
  config: ResolvedProvider,
  url: string,
  headers: Readonly<Record<string, string>>,
  limit: number,
  timeoutMs: number
): Effect.Effect<{ readonly status: number; readonly bytes: Uint8Array | undefined }, GatewayError> =>
  client.post({ method: "GET", url, headers, body: NO_BODY }).pipe(
    Effect.flatMap((response) =>
      response.bytes(limit).pipe(
        Effect.map((bytes): Uint8Array | undefined => bytes),
        Effect.catchTag("UpstreamBodyTooLarge", () => Effect.succeed(undefined)),
        Effect.map((bytes) => ({ status: response.status, bytes }))
      )
    ),
    Effect.mapError(() => gatewayError({ _tag: "UpstreamUnreachable", provider: config.name })),
    Effect.timeoutOrElse({
      duration: timeoutMs,
      orElse: () => Effect.fail(gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: timeoutMs }))
    })
  )

/** Lists the provider's models: the first request that answers a list wins; a 401 or no connection fails. */
export const listModels = Effect.fn("Detect.listModels")(function* (
  config: ResolvedProvider,
  options: Pick<DetectOptions, "timeoutMs" | "bounds">
) {
  const requests = listingRequests(config)
  const clientOptions = upstreamClientOptions(config)
  if (requests.length === 0 || clientOptions === undefined) return unlisted(`kind ${config.kind} has no model list`)
  // The provider's own client: its pool, and its proxy, TLS and keep-alive settings.
  const client = yield* (yield* UpstreamClients).get(clientOptions)
  const tried: Array<string> = []
  for (const request of requests) {
    const ids: Array<string> = []
    let after: string | undefined
    let failed: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = request.url(after)
      const answer = yield* get(
        client,
        config,
        url,
        request.headers,
        options.bounds.upstreamBodyLimit,
        options.timeoutMs
      )
      if (answer.status === 401) return yield* credentialsRefused(config.name, where(url))
      const json = answer.bytes === undefined ? undefined : parseJsonObject(answer.bytes)
      const list = json !== undefined && Result.isSuccess(json) ? parseModelList(json.success) : undefined
      if (answer.status < 200 || answer.status > 299 || list === undefined) {
        failed =
          answer.status < 200 || answer.status > 299
            ? `${where(url)} answered ${answer.status}${errorMessageOf(json)}`
            : `${where(url)} answered ${answer.status} with ${answer.bytes === undefined ? "a body too large" : "no model list"}`
        break
      }
      for (const id of list.ids) if (!ids.includes(id)) ids.push(id)
      const last = list.ids.at(-1)
      if (!request.paginated || !list.hasMore || last === undefined) break
      after = last
    }
    // A list that broke after its first page keeps what it had.
    if (failed === undefined || ids.length > 0) return listed(ids)
    tried.push(failed)
  }
  return unlisted(`the models could not be listed (${tried.join("; ")}): name the models to probe`)
})

// ---- probes -------------------------------------------------------------------------------------

/** What one probe found. */
export type ProbeOutcome =
  | { readonly _tag: "Yes" }
  | { readonly _tag: "No"; readonly message: string }
  | { readonly _tag: "Unknown"; readonly message: string }
  /** A 401: the credentials are refused (the whole detection fails). */
  | { readonly _tag: "Refused" }

const YES: ProbeOutcome = { _tag: "Yes" }

/** The `error.message` of an OpenAI-shaped error body, quoted after a colon (or nothing). */
const errorMessageOf = (json: Result.Result<Readonly<Record<string, unknown>>, string> | undefined): string => {
  if (json === undefined || Result.isFailure(json)) return ""
  const error = json.success["error"]
  const message = error !== null && typeof error === "object" ? Reflect.get(error, "message") : undefined
  return typeof message === "string" && message !== "" ? `: ${message.slice(0, MESSAGE_LIMIT)}` : ""
}

/**
 * What an answer's status means for a capability: 2xx yes, 401 refused credentials, another 4xx no
 * (but 403, 408 and 429, which say nothing about the model), anything else unknown.
 */
export const classifyStatus = (status: number, message: string): ProbeOutcome => {
  if (status >= 200 && status <= 299) return YES
  if (status === 401) return { _tag: "Refused" }
  const what = `answered ${status}${message}`
  if (status >= 400 && status <= 499 && status !== 403 && status !== 408 && status !== 429)
    return { _tag: "No", message: what }
  return { _tag: "Unknown", message: what }
}

/**
 * A provider's failure to answer: a request it refused itself (a kind that cannot do this, a field
 * it cannot translate) is a no; an upstream that broke, timed out or answered nonsense is unknown.
 */
const outcomeOfError = (error: GatewayError): ProbeOutcome => {
  const reason = error.reason
  if (reason._tag === "InvalidRequest") return { _tag: "No", message: reason.message }
  if (reason._tag === "ProviderFailure") return classifyStatus(reason.status, `: ${reason.message}`)
  return { _tag: "Unknown", message: describe(reason).message }
}

/**
 * A stream answer: yes when its first event is a chunk of the provider's stream format (not the
 * end of the stream, not an error event); read no further than that.
 */
const firstChunk = (
  provider: Provider,
  stream: Stream.Stream<Uint8Array, GatewayError>,
  lineLimit: number
): Effect.Effect<ProbeOutcome, GatewayError> =>
  Effect.suspend(() => {
    const scanner = makeSseScanner(lineLimit)
    let outcome: ProbeOutcome = { _tag: "No", message: "the stream ended without a chunk" }
    return Stream.runForEachWhile(stream, (bytes) =>
      Effect.sync(() => {
        const scanned = scanner.push(bytes)
        if (scanned._tag !== "Events") {
          outcome = { _tag: "Unknown", message: "the stream is not a valid event stream" }
          return false
        }
        const first = scanned.data[0]
        if (first === undefined) return true
        outcome =
          first === provider.streamTerminator
            ? { _tag: "No", message: "the stream ended without a chunk" }
            : provider.classifyEvent(first) === "invalid"
              ? {
                  _tag: "Unknown",
                  message: `the stream's first event is not a chunk: ${first.slice(0, MESSAGE_LIMIT)}`
                }
              : YES
        return false
      })
    ).pipe(Effect.map(() => outcome))
  })

/** A stream not needed: its first chunk read and the rest let go (which releases the upstream response). */
const release = (stream: Stream.Stream<Uint8Array, GatewayError>): Effect.Effect<void> =>
  Effect.ignore(Stream.runForEachWhile(stream, () => Effect.succeed(false)))

/** What an answer says about a capability. */
const outcomeOf = (
  provider: Provider,
  capability: Capability,
  response: ProviderResponse,
  lineLimit: number
): Effect.Effect<ProbeOutcome, GatewayError> => {
  const body = response.body
  const message = body._tag === "Buffered" ? errorMessageOf(Result.succeed(body.json)) : ""
  const status = classifyStatus(response.status, message)
  if (status._tag !== "Yes" || capability !== "streaming")
    return body._tag === "Stream" ? Effect.as(release(body.stream), status) : Effect.succeed(status)
  return body._tag === "Stream"
    ? firstChunk(provider, body.stream, lineLimit)
    : Effect.succeed({ _tag: "No", message: `answered ${response.status} with JSON, not an event stream` })
}

/** The token cap a probe asks for: `max_tokens`, or `max_completion_tokens` for models that want it. */
type TokenField = "max_tokens" | "max_completion_tokens"

const PROMPT = [{ role: "user", content: "ping" }] as const
/** The one tool of the tools probe. */
const TOOL = {
  type: "function",
  function: { name: "ping", description: "Answers pong.", parameters: { type: "object", properties: {} } }
} as const

/** The request body of a probe. */
export const probeBody = (capability: Capability, model: string, tokens: TokenField): Record<string, unknown> => {
  if (capability === "embeddings") return { model, input: "ping" }
  const chat = { model, messages: PROMPT, [tokens]: 1 }
  if (capability === "streaming") return { ...chat, stream: true }
  if (capability === "tools") return { ...chat, tools: [TOOL] }
  return chat
}

const ENDPOINT: Readonly<Record<Capability, Endpoint>> = {
  chat: "chat",
  streaming: "chat",
  tools: "chat",
  embeddings: "embeddings"
}

const encoder = new TextEncoder()

/** One probe of one model, within the time limit. */
export const probe = (
  provider: Provider,
  model: string,
  capability: Capability,
  options: Pick<DetectOptions, "timeoutMs" | "bounds">,
  tokens: TokenField = "max_tokens"
): Effect.Effect<ProbeOutcome> => {
  const body = probeBody(capability, model, tokens)
  return provider
    .call({
      endpoint: ENDPOINT[capability],
      body,
      rawBody: encoder.encode(JSON.stringify(body)),
      upstreamModel: model,
      stream: capability === "streaming",
      requestId: `detect-${crypto.randomUUID()}`
    })
    .pipe(
      Effect.flatMap((response) => outcomeOf(provider, capability, response, options.bounds.sseLineLimit)),
      Effect.timeoutOrElse({
        duration: options.timeoutMs,
        orElse: () =>
          Effect.succeed<ProbeOutcome>({ _tag: "Unknown", message: `no answer within ${options.timeoutMs} ms` })
      }),
      Effect.catch((error) => Effect.succeed(outcomeOfError(error)))
    )
}

/** A 400 that asks for `max_completion_tokens` instead of `max_tokens` (OpenAI's reasoning models). */
const wantsCompletionTokens = (outcome: ProbeOutcome): boolean =>
  outcome._tag === "No" && outcome.message.includes("max_completion_tokens")

interface ModelReport {
  readonly capabilities: Capabilities
  readonly errors: ReadonlyArray<DetectionError>
  readonly refused: boolean
}

const answerOf = (outcome: ProbeOutcome): Answer =>
  outcome._tag === "Yes" ? true : outcome._tag === "No" ? false : null

/** Every probe of one model. */
const probeModel = (
  provider: Provider,
  model: string,
  options: Pick<DetectOptions, "timeoutMs" | "bounds">
): Effect.Effect<ModelReport> =>
  Effect.gen(function* () {
    let tokens: TokenField = "max_tokens"
    let chat = yield* probe(provider, model, "chat", options, tokens)
    if (wantsCompletionTokens(chat)) {
      tokens = "max_completion_tokens"
      chat = yield* probe(provider, model, "chat", options, tokens)
    }
    const outcomes: Record<Capability, ProbeOutcome> = {
      chat,
      streaming: chat,
      tools: chat,
      embeddings: yield* probe(provider, model, "embeddings", options)
    }
    if (chat._tag === "Yes") {
      outcomes.streaming = yield* probe(provider, model, "streaming", options, tokens)
      outcomes.tools = yield* probe(provider, model, "tools", options, tokens)
    }
    const errors: Array<DetectionError> = []
    for (const capability of CAPABILITIES) {
      const outcome = outcomes[capability]
      // Streaming and tools that took chat's answer are not errors of their own.
      const own = capability === "chat" || capability === "embeddings" || chat._tag === "Yes"
      if (outcome._tag === "Unknown" && own) errors.push({ model, probe: capability, message: outcome.message })
    }
    return {
      capabilities: {
        chat: answerOf(outcomes.chat),
        streaming: answerOf(outcomes.streaming),
        tools: answerOf(outcomes.tools),
        embeddings: answerOf(outcomes.embeddings)
      },
      errors,
      refused: CAPABILITIES.some((c) => outcomes[c]._tag === "Refused")
    }
  })

/** Lists the provider's models (unless named) and probes the first `options.probe` of them. */
export const detect = Effect.fn("Detect.detect")(function* (provider: Provider, options: DetectOptions) {
  const config = provider.config
  const errors: Array<DetectionError> = []
  let ids: ReadonlyArray<string>
  if (options.models !== undefined) ids = [...new Set(options.models)]
  else {
    const listing = yield* listModels(config, options)
    if (listing._tag === "Listed") ids = listing.ids
    else {
      ids = []
      errors.push({ model: null, probe: "models", message: listing.message })
    }
  }
  const toProbe = ids.slice(0, Math.max(0, Math.min(options.probe, MAX_PROBE)))
  const reports = yield* Effect.forEach(toProbe, (id) => probeModel(provider, id, options), {
    concurrency: CONCURRENCY
  })
  if (reports.some((r) => r.refused)) return yield* credentialsRefused(config.name, "a probe")
  for (const report of reports) errors.push(...report.errors)
  return {
    provider: config.name,
    models: ids.map((id, i) => ({ id, capabilities: reports[i]?.capabilities ?? null })),
    probed: toProbe.length,
    errors
  } satisfies Detection
})
