/**
 * The OpenAI-compatible proxy endpoints: read the body once (bounded), refuse one nested too deep
 * (a scan of the bytes) or naming a model longer than `server.identifier_limit`, parse it once,
 * validate the fields the gateway relies on, check that the caller's key may use the model (403 otherwise),
 * admit a limited or budgeted key's request against its rate limits and budgets (http/Limits.ts),
 * route by `model`, and relay the provider's answer. Unknown request fields pass through untouched,
 * except that a streamed chat or completions request asks the upstream for its usage
 * (`stream_options.include_usage`) when the request is measured: with usage recording on, every
 * request leaves one usage record (UsageRecords.ts); a budgeted key's request is measured and
 * priced either way (its record built and discarded when recording is off), so its budget settles
 * to its real cost. Any other request pays for neither.
 *
 * The relayed endpoints (domain/Endpoint.ts: images, audio, moderations, rerank, Responses passed
 * through, http/Responses.ts: its answer's usage read in the Responses API's names, a stream's
 * from its terminal event as the stream is relayed, measured like a chat stream) go the same way
 * with only their `model` checked (moderations may leave it to a route); a multipart upload's
 * `model` is its form field (domain/MultipartField.ts). Files, batches and stored responses carry no
 * model: the route for their path chooses it, and their method, path below and query go upstream
 * with the body untouched.
 *
 * Uploads (the multipart endpoints, `POST /v1/files`) are streamed, never read whole
 * (domain/Upload.ts): a form is read up to the end of its `model` part (within `server.body_limit`),
 * routed on it, and sent upstream with the rest as it arrives (within `server.upload_limit`), still
 * scanned for a second `model` or broken framing; a file goes untouched the same way. The JSON
 * bodies keep the one bounded read (`body`), whose cost is unchanged.
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { GUARDS } from "../api/Guards.ts"
import type { Principal } from "../auth/Auth.ts"
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from "../api/Schemas.ts"
import { concatBytes } from "../domain/BodyCollector.ts"
import { formatBytes, GatewayError, gatewayError } from "../domain/GatewayError.ts"
import { schemaIssues } from "../domain/SchemaIssues.ts"
import type { Snapshot } from "../GatewayState.ts"
import {
  type ClientApi,
  type Endpoint,
  isMultipartEndpoint,
  isRoutedEndpoint,
  isTypedEndpoint,
  type TypedEndpoint
} from "../domain/Endpoint.ts"
import { ENDPOINT_PATH } from "../providers/Provider.ts"
import type { UpstreamMethod } from "../providers/UpstreamClients.ts"
import { boundaryOf, type FieldSearch, makeFieldScanner } from "../domain/MultipartField.ts"
import type { ChunkReader } from "../domain/ChunkReader.ts"
import { makeUpload, type Upload } from "../domain/Upload.ts"
import { reservedParts } from "../limits/TokenEstimate.ts"
import { usageReaderOf } from "../providers/openai/ResponsesUsage.ts"
import { measureResponse } from "../usage/Measure.ts"
import type { TokenUsage } from "../domain/Usage.ts"
import { bytesReader, type IncomingRequest, isBytes, type OutgoingResponse, UNREADABLE } from "./Exchange.ts"
import { exceedsJsonDepth, tooDeep } from "./JsonDepth.ts"
import type { LimitRefusal } from "../limits/RateLimits.ts"
import { limited, maxCost, reservePrice, type Served, settledTokens } from "./Limits.ts"
import { decodeUtf8, queryOf } from "./Path.ts"
import { errorResponse, NOT_UTF8, providerResponse } from "./respond.ts"
import {
  type Arrival,
  overheadSoFar,
  type Progress,
  recordHandlerExit,
  recordedBytes,
  recordedStream,
  serverTiming,
  startProgress,
  type UsageServices
} from "./UsageRecords.ts"
import { requestStreamUsage } from "../usage/StreamUsageRequest.ts"
import { isEventStream } from "../streaming/Sse.ts"
import { annotateRequest } from "./RequestSpans.ts"
import type { RequestSpan } from "../domain/GenAi.ts"

/**
 * Parses a JSON object body (UTF-8, as JSON must be) nested at most `depthLimit` levels, checked on
 * the bytes before parsing.
 */
export const parseJsonObject = (bytes: Uint8Array, depthLimit: number): Record<string, unknown> | GatewayError => {
  if (bytes.length === 0) return gatewayError({ _tag: "InvalidJson", detail: "the body is empty" })
  if (exceedsJsonDepth(bytes, depthLimit)) return tooDeep(depthLimit)
  const text = decodeUtf8(bytes)
  if (text === undefined) return gatewayError({ _tag: "InvalidJson", detail: NOT_UTF8 })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return gatewayError({ _tag: "InvalidJson", detail: e instanceof SyntaxError ? e.message : "malformed JSON" })
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return gatewayError({ _tag: "InvalidJson", detail: "the body must be a JSON object" })
  }
  return value as Record<string, unknown>
}

const NOT_MULTIPART = gatewayError({
  _tag: "InvalidRequest",
  param: null,
  message: "The body must be multipart/form-data with a boundary (the content-type says otherwise)."
})

/** What is wrong with a multipart upload's `model` as scanned so far, if anything (`Found` is fine). */
export const multipartProblem = (field: FieldSearch): GatewayError | undefined => {
  switch (field._tag) {
    case "Found":
      return undefined
    case "Missing":
      return modelMissing
    case "Repeated":
      return gatewayError({ _tag: "InvalidRequest", param: "model", message: "The form names `model` more than once." })
    case "Malformed":
      return gatewayError({
        _tag: "InvalidRequest",
        param: null,
        message: `The multipart body could not be read (${field.detail}).`
      })
  }
}

/** The 400 for a form whose `model` part has not ended within the first `limit` bytes (`server.body_limit`). */
const modelTooLate = (limit: number): GatewayError =>
  gatewayError({
    _tag: "InvalidRequest",
    param: "model",
    message: `The form's \`model\` field must end within its first ${formatBytes(limit)} (server.body_limit): send it before the file.`
  })

const EMPTY = new Uint8Array(0)

/** A client read as an Effect: its rejection is the GatewayError it carries (too large, unreadable). */
const readChunk = (client: ChunkReader): Effect.Effect<Uint8Array | undefined, GatewayError> =>
  Effect.tryPromise({ try: () => client.read(), catch: (e) => (e instanceof GatewayError ? e : UNREADABLE) })

/** The declared `content-length` of a request, when it declares one. */
const declaredLength = (request: IncomingRequest): number | undefined => {
  const value = request.header("content-length")
  const length = value === undefined ? Number.NaN : Number(value)
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined
}

/**
 * A multipart upload, streamed: its parts are read up to the end of the `model` one (held, at
 * most `server.body_limit` bytes), which routes it; the rest goes upstream as it arrives, scanned
 * as it passes for a second `model` part or broken framing (either fails the upload: the upstream
 * request is aborted and the client answered 400 naming the problem).
 */
const readMultipart = (
  request: IncomingRequest,
  server: Snapshot["config"]["server"]
): Effect.Effect<{ readonly body: Record<string, unknown>; readonly upload: Upload }, GatewayError> => {
  const boundary = boundaryOf(request.header("content-type"))
  if (boundary === undefined) return Effect.fail(NOT_MULTIPART)
  const { uploadLimit, uploadReplayLimit } = server.bounds
  return Effect.flatMap(request.stream(uploadLimit), (client) => {
    const scanner = makeFieldScanner(boundary, "model")
    const chunks: Array<Uint8Array> = []
    let held = 0
    const head = Effect.gen(function* () {
      for (;;) {
        const chunk = yield* readChunk(client)
        if (chunk === undefined) scanner.end()
        else {
          chunks.push(chunk)
          held += chunk.length
          scanner.push(chunk)
        }
        const result = scanner.result()
        if (result !== undefined) {
          const problem = multipartProblem(result)
          if (problem !== undefined || result._tag !== "Found") return yield* Effect.fail(problem ?? modelMissing)
          // However the bytes came in: where the value ends decides.
          if (result.end > server.bodyLimit) return yield* Effect.fail(modelTooLate(server.bodyLimit))
          return { found: result, ended: chunk === undefined }
        }
        if (held > server.bodyLimit) return yield* Effect.fail(modelTooLate(server.bodyLimit))
      }
    })
    const watch = (): GatewayError | undefined => {
      const result = scanner.result()
      return result === undefined ? undefined : multipartProblem(result)
    }
    return head.pipe(
      Effect.map(({ found, ended }) => ({
        body: { model: found.value },
        upload: makeUpload({
          client: ended ? bytesReader(EMPTY) : client,
          head: concatBytes(chunks, held),
          field: found,
          length: declaredLength(request),
          replayLimit: uploadReplayLimit,
          watch: {
            push: (chunk) => {
              scanner.push(chunk)
              return watch()
            },
            end: () => {
              scanner.end()
              return watch()
            }
          }
        })
      })),
      Effect.onError(() => Effect.sync(client.cancel))
    )
  })
}

/** `out`, the upload let go once it has been answered whole (a streamed answer: at its end, however it ends). */
const closingWith = (out: OutgoingResponse, upload: Upload): OutgoingResponse => {
  if (!isBytes(out.body)) return { ...out, body: Stream.ensuring(out.body, Effect.sync(upload.close)) }
  upload.close()
  return out
}

/** A file upload (`POST /v1/files`), streamed upstream untouched as it arrives. */
const readFileUpload = (
  request: IncomingRequest,
  server: Snapshot["config"]["server"]
): Effect.Effect<{ readonly body: Record<string, unknown>; readonly upload: Upload }, GatewayError> =>
  Effect.map(request.stream(server.bounds.uploadLimit), (client) => ({
    body: {},
    upload: makeUpload({
      client,
      head: EMPTY,
      length: declaredLength(request),
      replayLimit: server.bounds.uploadReplayLimit
    })
  }))

/** The upstream method of a files, batches or stored responses request (App.ts routes only these three here). */
const methodOf = (method: string): UpstreamMethod => (method === "GET" || method === "DELETE" ? method : "POST")

/** The 400 for a files, batches or stored responses request on a gateway with no route for their path. */
const noRoute = (path: string): GatewayError =>
  gatewayError({
    _tag: "InvalidRequest",
    param: null,
    message: `No provider serves ${path}: configure a route for it (routes: [{ path: ${path}, model: <a model of an openai or azure provider> }]).`
  })

/** The 400 for an identifier (a model name, ...) longer than `limit` (`server.identifier_limit`). */
export const identifierTooLong = (param: string, limit: number): GatewayError =>
  gatewayError({
    _tag: "InvalidRequest",
    param,
    message: `Invalid value for '${param}': longer than ${limit} characters, the most this gateway accepts.`
  })

const SCHEMAS = {
  chat: ChatCompletionRequest,
  completions: CompletionRequest,
  embeddings: EmbeddingRequest
} as const

const MODEL_NOT_STRING = gatewayError({
  _tag: "InvalidRequest",
  param: "model",
  message: "Invalid value for 'model': expected a non-empty string."
})

/** The 400 for a request naming no model on a path no route pins. */
export const modelMissing = gatewayError({
  _tag: "InvalidRequest",
  param: "model",
  message: "You must provide a model parameter (or configure a route for this path)."
})

/** A relayed endpoint's body is the upstream's to judge: only its `model`, when present, must be a name. */
const relayedValidator =
  () =>
  (body: Record<string, unknown>): GatewayError | undefined => {
    const model = body["model"]
    return model === undefined || (typeof model === "string" && model.length > 0) ? undefined : MODEL_NOT_STRING
  }

const validator = (endpoint: Endpoint) => (isTypedEndpoint(endpoint) ? typedValidator(endpoint) : relayedValidator())

const typedValidator = (endpoint: TypedEndpoint) => {
  const decode = Schema.decodeUnknownExit(SCHEMAS[endpoint])
  const guard = GUARDS[endpoint]
  return (body: Record<string, unknown>): GatewayError | undefined => {
    if (guard(body)) return undefined
    const exit = decode(body, { errors: "first" })
    if (Exit.isSuccess(exit)) return undefined
    for (const reason of exit.cause.reasons) {
      if (reason._tag === "Fail" && reason.error instanceof Schema.SchemaError) {
        const first = schemaIssues(reason.error)[0]
        if (first !== undefined) {
          const param = first.path === "" ? null : first.path
          return gatewayError({
            _tag: "InvalidRequest",
            param,
            message:
              param === null ? `Invalid request: ${first.message}.` : `Invalid value for '${param}': ${first.message}.`
          })
        }
      }
    }
    return gatewayError({ _tag: "InvalidRequest", param: null, message: "Invalid request body." })
  }
}

/** What a handler knows of the request it serves, besides its body. */
interface RequestContext {
  readonly request: IncomingRequest
  readonly snapshot: Snapshot
  readonly requestId: string
  readonly path: string
  readonly principal: Principal | undefined
  readonly progress: Progress
  readonly recording: { readonly arrival: Arrival; readonly clock: Clock.Clock } | undefined
  /** A multipart or routed request's content-type, sent upstream with its body. */
  readonly contentType: string | undefined
}

/**
 * A handler for one proxied endpoint; every request it handles leaves one usage record
 * (UsageRecords.ts), whose endpoint (and metrics' label, log line, span) is `api`, the API the
 * client called: the endpoint itself unless an API is translated over it (`messages` over `chat`).
 */
export const proxyHandler = (endpoint: Endpoint, usage: UsageServices, api: ClientApi = endpoint) => {
  const validate = validator(endpoint)
  const typed = isTypedEndpoint(endpoint)
  const multipart = isMultipartEndpoint(endpoint)
  /** Files, batches and stored responses: no model, the body relayed unparsed; routed by the route for their path, whatever lies below it. */
  const routed = isRoutedEndpoint(endpoint) ? `/v1${ENDPOINT_PATH[endpoint]}` : undefined
  const metrics = usage.metrics
  /** The reader of the usage its answers report (a passed-through Responses answer's is named apart). */
  const readUsage = usageReaderOf(endpoint)
  /** A relayed endpoint whose event streams report their usage (usage/StreamUsage.ts reads them): Responses. */
  const measuresEvents = endpoint === "responses"
  /** Models found without a price while a budget applied, warned about once each (per worker). */
  const unpriced = new Set<string>()
  const handler = (
    request: IncomingRequest,
    snapshot: Snapshot,
    requestId: string,
    path: string,
    principal: Principal | undefined,
    receivedAt: number = performance.now(),
    span?: RequestSpan
  ): Effect.Effect<OutgoingResponse, GatewayError> => {
    const progress = startProgress(receivedAt, span)
    /** Every answer (a stream's headers) tells the gateway's own time and the providers' (Server-Timing). */
    const timed = (response: OutgoingResponse): OutgoingResponse => {
      const overheadMs = overheadSoFar(progress)
      progress.overheadMs = overheadMs
      return {
        ...response,
        headers: { ...response.headers, "server-timing": serverTiming(overheadMs, progress.upstreamMs) }
      }
    }
    // Without usage records (storage or metrics), a span or a budget the request path measures nothing.
    return !usage.sink.enabled &&
      span === undefined &&
      (principal?._tag !== "VirtualKey" || snapshot.limiter.subjectsOf(principal.key)?.budgeted !== true)
      ? Effect.map(handle(request, snapshot, requestId, path, principal, progress, undefined), timed)
      : Effect.clockWith((clock) => {
          const arrival: Arrival = { requestId, atMs: clock.currentTimeMillisUnsafe(), principal, endpoint: api }
          usage.sink.begin()
          return handle(request, snapshot, requestId, path, principal, progress, { arrival, clock }).pipe(
            Effect.map(timed),
            Effect.onExit((exit) =>
              recordHandlerExit(exit, arrival, progress, usage, snapshot.priceBook, clock.currentTimeMillisUnsafe())
            )
          )
        })
  }

  const handle = (
    request: IncomingRequest,
    snapshot: Snapshot,
    requestId: string,
    path: string,
    principal: Principal | undefined,
    progress: Progress,
    recording: { readonly arrival: Arrival; readonly clock: Clock.Clock } | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> => {
    const { server } = snapshot.config
    const contentType = multipart || routed !== undefined ? request.header("content-type") : undefined
    const context: RequestContext = { request, snapshot, requestId, path, principal, progress, recording, contentType }
    // Uploads stream upstream as they arrive; every other body is read whole (bounded).
    const upload = multipart
      ? readMultipart(request, server)
      : routed === "/v1/files" && path === routed && request.method === "POST"
        ? readFileUpload(request, server)
        : undefined
    if (upload !== undefined)
      return Effect.flatMap(upload, ({ body, upload }) =>
        serve(context, body, EMPTY, upload).pipe(
          // An upstream may answer while it still reads the upload: it is let go with the answer's end.
          Effect.map((out) => closingWith(out, upload)),
          Effect.onError(() => Effect.sync(upload.close))
        )
      )
    return Effect.flatMap(request.body(server.bodyLimit), (rawBody) => {
      const body = routed !== undefined ? {} : parseJsonObject(rawBody, server.bounds.jsonDepthLimit)
      return body instanceof GatewayError ? Effect.fail(body) : serve(context, body, rawBody, undefined)
    })
  }

  /** Routes a request whose body has been read (or, an upload, begun) and relays the answer. */
  const serve = (
    context: RequestContext,
    body: Record<string, unknown>,
    rawBody: Uint8Array,
    upload: Upload | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> => {
    const { request, snapshot, requestId, path, principal, progress, recording, contentType } = context
    const { bounds } = snapshot.config.server
    // Before routing, pattern matching, the key's model check or any log line sees the name.
    const requested = body["model"]
    if (typeof requested === "string" && requested.length > bounds.identifierLimit) {
      return Effect.fail(identifierTooLong("model", bounds.identifierLimit))
    }
    // A relayed endpoint's `stream` (an image event stream) is the upstream's: its answer goes as bytes.
    const stream = typed && body["stream"] === true
    progress.stream = stream
    if (typeof requested === "string") progress.model = requested
    const invalid = validate(body)
    if (invalid !== undefined) return Effect.fail(invalid)
    // A routed path's own route (`/v1/responses/*`), else its endpoint's (`/v1/files`).
    const model =
      snapshot.router.pinnedModel(path) ??
      (routed === undefined ? undefined : snapshot.router.pinnedModel(routed)) ??
      requested
    if (typeof model !== "string") return Effect.fail(routed === undefined ? modelMissing : noRoute(routed))
    progress.model = model
    // The requested public name (or the one the route pins), before routing: a key's list names
    // public models, and a forbidden name answers 403 whether or not it exists.
    if (principal === undefined || (principal._tag === "VirtualKey" && !principal.key.allows(model))) {
      return Effect.fail(gatewayError({ _tag: "ModelNotAllowed", model }))
    }
    const group = snapshot.router.resolve(model)
    if (group === undefined) return Effect.fail(gatewayError({ _tag: "ModelNotFound", model }))
    progress.configured = group.model.name
    if (progress.span !== undefined)
      annotateRequest(progress.span, endpoint, body, model, usage.tracing?.captureContent === true)
    const limits = principal._tag === "VirtualKey" ? snapshot.limiter.subjectsOf(principal.key) : undefined
    const budgeted = limits?.budgeted === true
    /** What `tokens` served by `upstreamModel` cost, exact pico-dollars (an unpriced model: nothing). */
    const costOf = (tokens: TokenUsage, upstreamModel: string): bigint =>
      snapshot.priceBook.cost(tokens, model, upstreamModel)?.pico ?? 0n
    // A streamed chat or completions request asks the upstream for its usage; the client's own
    // body stays what its usage is estimated from.
    const upstream = recording === undefined ? undefined : requestStreamUsage(endpoint, body, rawBody)
    const served = Effect.flatMap(
      snapshot.dispatcher.dispatch(
        {
          endpoint,
          model,
          body: upstream?.body ?? body,
          rawBody: upstream?.rawBody ?? rawBody,
          contentType,
          upload,
          ...(routed === undefined
            ? {}
            : {
                method: methodOf(request.method),
                subpath: path.slice(routed.length),
                query: queryOf(request.url)
              }),
          stream,
          requestId,
          span: progress.span,
          // Not sampled here: the caller's trace context goes upstream as it came.
          traceparent:
            progress.span === undefined && usage.tracing?.enabled === true ? request.header("traceparent") : undefined
        },
        group
      ),
      (outcome): Effect.Effect<Served> => {
        progress.attempts = outcome.attempts
        progress.tries = outcome.tries
        progress.upstreamMs = outcome.upstreamMs
        if (outcome._tag === "Served") {
          const { response, upstreamModel } = outcome
          const measured = { endpoint, body, upstreamModel }
          progress.provider = outcome.provider
          progress.upstreamModel = upstreamModel
          if (response.body._tag === "Buffered") {
            const { json } = response.body
            if (recording !== undefined) progress.buffered = { json, request: measured }
            const answer = {
              response: providerResponse(outcome.provider, response, outcome.attempts),
              totalTokens: settledTokens(response.status, json, readUsage)
            }
            if (!budgeted) return Effect.succeed(answer)
            // A budget settles to the answer's cost: its reported usage, else an estimate.
            if (response.status >= 400) return Effect.succeed({ ...answer, costPico: 0n })
            return Effect.succeed({
              ...answer,
              costPico: costOf(measureResponse(readUsage, json, measured).tokens, upstreamModel)
            })
          }
          // Opaque bytes (speech audio, an image event stream): relayed as they come, recorded at
          // their end with no usage. An event stream whose events report usage (a passed-through
          // Responses stream) is relayed as bytes too, and measured like a chat stream.
          if (response.body._tag === "Bytes" && !(measuresEvents && isEventStream(response.headers))) {
            const body =
              recording === undefined
                ? response.body
                : {
                    _tag: "Bytes" as const,
                    stream: recordedBytes(response.body.stream, {
                      arrival: recording.arrival,
                      progress,
                      status: response.status,
                      usage,
                      prices: snapshot.priceBook,
                      clock: recording.clock
                    })
                  }
            return Effect.succeed({
              response: providerResponse(outcome.provider, { ...response, body }, outcome.attempts),
              totalTokens: undefined
            })
          }
          // Not recording: the stream is relayed as it comes; its reservation stands.
          if (recording === undefined || upstream === undefined) {
            return Effect.succeed({
              response: providerResponse(outcome.provider, response, outcome.attempts),
              totalTokens: undefined
            })
          }
          const { arrival, clock } = recording
          const recorded = recordedStream(response.body.stream, {
            arrival,
            progress,
            status: response.status,
            request: measured,
            usageRequested: upstream.usageRequested,
            clientAsked: upstream.clientAsked,
            lineLimit: bounds.sseLineLimit,
            usage,
            prices: snapshot.priceBook,
            clock
          })
          return Effect.succeed({
            response: providerResponse(
              outcome.provider,
              { ...response, body: { _tag: response.body._tag, stream: recorded.stream } },
              outcome.attempts
            ),
            // A stream's usage is known at its end: its reservation is settled then.
            totalTokens: undefined,
            streamTokens: recorded.totalTokens,
            streamCost: () => {
              const m = recorded.measured()
              return m === undefined ? undefined : costOf(m.tokens, upstreamModel)
            }
          })
        }
        const error = errorResponse(outcome.reason)
        const response = { ...error, headers: { ...error.headers, "x-llmgate-attempts": String(outcome.attempts) } }
        return Effect.as(
          Effect.logWarning("request failed", outcome.reason).pipe(
            Effect.annotateLogs({ requestId, attempts: outcome.attempts })
          ),
          // Nothing was served: no tokens were used, nothing was spent.
          { response, totalTokens: 0, costPico: 0n }
        )
      }
    )
    // A limited or budgeted key (or project) is admitted before dispatch; any other request costs nothing here.
    if (limits === undefined) return Effect.map(served, (s) => s.response)
    const { span } = progress
    const decided = (refusal: LimitRefusal | undefined) => {
      if (refusal !== undefined) metrics?.rejected(refusal)
      if (span === undefined || recording === undefined) return
      span.event("llmgate.ratelimit", recording.clock.currentTimeNanosUnsafe(), {
        "llmgate.ratelimit.result": refusal === undefined ? "admitted" : "rejected",
        ...(refusal === undefined
          ? {}
          : { "llmgate.ratelimit.limit": refusal._tag === "BudgetExceeded" ? "budget" : refusal.limit })
      })
    }
    const reserve = reservedParts(endpoint, body, group.model.defaultMaxTokens)
    let cost = 0
    if (budgeted) {
      const price = reservePrice(snapshot.priceBook, snapshot.router, model, group)
      cost = maxCost(reserve.prompt, reserve.completion, price)
      if (price === undefined && !unpriced.has(model)) {
        unpriced.add(model)
        return Effect.andThen(
          Effect.logWarning(
            `budgets: model ${model} has no price (pricing: or models[].pricing); its requests reserve and spend nothing against budgets`
          ),
          limited(snapshot.limiter.store, { subjects: limits.subjects, tokens: reserve.total, cost }, served, decided)
        )
      }
    }
    return limited(snapshot.limiter.store, { subjects: limits.subjects, tokens: reserve.total, cost }, served, decided)
  }
  return handler
}
