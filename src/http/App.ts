/**
 * The HTTP app: one dispatch table from method and path to handler, built once. Around every
 * handler: a request id (echoed when the client sent a sane one), authentication on /v1 (the
 * principal, master or virtual key, is passed to the handler), errors turned into OpenAI-shaped
 * responses, and defects into a 500 that leaks nothing. The admin API (`/admin/v1/*`, see Admin.ts)
 * is one entry consulted only when the exact table has no match, so the proxy paths are unchanged.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import spec from "../generated/openapi.json" with { type: "json" }
import { AdminStore } from "../admin/AdminStore.ts"
import { mayList, type Principal } from "../auth/Auth.ts"
import { GatewayError, gatewayError } from "../domain/GatewayError.ts"
import { EXPOSITION_CONTENT_TYPE } from "../metrics/GatewayMetrics.ts"
import { MetricsExposition, WorkerMetrics } from "../metrics/WorkerMetrics.ts"
import { RequestTracing } from "../tracing/Tracing.ts"
import { GatewayState, type Snapshot } from "../GatewayState.ts"
import { TokenCounts } from "../usage/TokenCounts.ts"
import { UsageReports } from "../usage/UsageReport.ts"
import { UsageSink } from "../usage/UsageSink.ts"
import { COUNT_TOKENS_PATH, countTokensHandler } from "./CountTokens.ts"
import { makeDocsHandlers } from "./Docs.ts"
import { ADMIN_PREFIX, adminActor, makeAdminHandler } from "./Admin.ts"
import type { App, IncomingRequest, OutgoingResponse } from "./Exchange.ts"
import { makeHealthHandlers } from "./Health.ts"
import { anthropicErrors, MESSAGES_PATH, messagesHandler } from "./Messages.ts"
import { identifierTooLong, proxyHandler } from "./Proxy.ts"
import { RESPONSES_PATH, responsesHandler } from "./Responses.ts"
import { decodeSegment, pathOf } from "./Path.ts"
import { bytes, errorResponse, json, UNEXPECTED } from "./respond.ts"
import { USAGE_PAGE_PATH, usagePage } from "./UsagePage.ts"
import { UpstreamClients } from "../providers/UpstreamClients.ts"
import type { RequestSpan } from "../domain/GenAi.ts"

/**
 * `principal` is who authenticated on `auth` routes; undefined on the public ones. `receivedAt`
 * is when the request arrived (`performance.now()`), for the proxy's overhead figure; `span` is the
 * request's server span when tracing is on (tracing/Tracing.ts).
 */
type Handler = (
  request: IncomingRequest,
  snapshot: Snapshot,
  requestId: string,
  path: string,
  principal: Principal | undefined,
  receivedAt: number,
  span: RequestSpan | undefined
) => Effect.Effect<OutgoingResponse, GatewayError>

interface RouteEntry {
  readonly auth: boolean
  readonly handler: Handler
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

/** A file, batch or response id as providers make them (`file-abc123`, `batch_abc123`, `resp_abc123`): one plain path segment. */
const RESOURCE_ID = /^[A-Za-z0-9_-]{1,128}$/

const requestIdOf = (incoming: string | undefined): string =>
  incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID()

/** Anthropic's paths: the key may come as `x-api-key`, and every error is answered in Anthropic's shape. */
const ANTHROPIC_PATHS: ReadonlySet<string> = new Set([MESSAGES_PATH, COUNT_TOKENS_PATH])

export const makeApp = Effect.gen(function* () {
  const state = yield* GatewayState
  const health = yield* makeHealthHandlers
  const docs = yield* makeDocsHandlers
  const adminStore = yield* AdminStore
  const usageReports = yield* UsageReports
  const metrics = yield* WorkerMetrics
  const tracing = yield* RequestTracing
  const exposition = yield* MetricsExposition
  const tokenCounts = yield* TokenCounts
  // Provider detection lists models over the providers' own clients (Admin.ts).
  const upstreamClients = yield* UpstreamClients
  const usage = { sink: yield* UsageSink, metrics, tracing }
  const encoder = new TextEncoder()
  const specResponse = bytes(new TextEncoder().encode(JSON.stringify(spec)), "application/json")

  const modelObject = (id: string) => ({ id, object: "model", created: state.startedAt, owned_by: "llmgate" })
  const sync =
    (f: () => OutgoingResponse): Handler =>
    () =>
      Effect.sync(f)

  const table = new Map<string, Map<string, RouteEntry>>()
  const add = (method: string, path: string, auth: boolean, handler: Handler) => {
    const byMethod = table.get(path) ?? new Map<string, RouteEntry>()
    byMethod.set(method, { auth, handler })
    table.set(path, byMethod)
  }
  add("GET", "/health", false, sync(health.summary))
  add("GET", "/health/liveness", false, sync(health.liveness))
  add("GET", "/health/readiness", false, sync(health.readiness))
  add("GET", "/health/detailed", false, sync(health.detailed))
  add(
    "GET",
    "/openapi.json",
    false,
    sync(() => specResponse)
  )
  add("GET", "/docs", false, sync(docs.page))
  add("GET", "/docs/scalar.js", false, () => docs.bundle())
  // The page holds no data: it asks for the admin key and sends it on its own requests.
  add("GET", USAGE_PAGE_PATH, false, sync(usagePage))
  const chat = proxyHandler("chat", usage)
  add("POST", "/v1/chat/completions", true, chat)
  // Translated over chat, recorded as the API the client called.
  add("POST", MESSAGES_PATH, true, messagesHandler(proxyHandler("chat", usage, "messages")))
  add(
    "POST",
    RESPONSES_PATH,
    true,
    responsesHandler(proxyHandler("chat", usage, "responses"), proxyHandler("responses", usage))
  )
  add("POST", COUNT_TOKENS_PATH, true, countTokensHandler(tokenCounts))
  add("POST", "/v1/completions", true, proxyHandler("completions", usage))
  add("POST", "/v1/embeddings", true, proxyHandler("embeddings", usage))
  add("POST", "/v1/images/generations", true, proxyHandler("images_generations", usage))
  add("POST", "/v1/moderations", true, proxyHandler("moderations", usage))
  add("POST", "/v1/rerank", true, proxyHandler("rerank", usage))
  add("POST", "/v1/audio/speech", true, proxyHandler("audio_speech", usage))
  add("POST", "/v1/audio/transcriptions", true, proxyHandler("audio_transcriptions", usage))
  add("POST", "/v1/audio/translations", true, proxyHandler("audio_translations", usage))
  add("POST", "/v1/images/edits", true, proxyHandler("images_edits", usage))
  // Files and batches go where the route for their path sends them (any method, the path below relayed).
  const files = proxyHandler("files", usage)
  const batches = proxyHandler("batches", usage)
  add("GET", "/v1/files", true, files)
  add("POST", "/v1/files", true, files)
  add("GET", "/v1/batches", true, batches)
  add("POST", "/v1/batches", true, batches)
  const fileRoute = new Map<string, RouteEntry>([
    ["GET", { auth: true, handler: files }],
    ["DELETE", { auth: true, handler: files }]
  ])
  const fileContentRoute = new Map<string, RouteEntry>([["GET", { auth: true, handler: files }]])
  const batchRoute = new Map<string, RouteEntry>([["GET", { auth: true, handler: batches }]])
  const batchCancelRoute = new Map<string, RouteEntry>([["POST", { auth: true, handler: batches }]])
  // Stored responses by id go where the route for /v1/responses sends them (passthrough's provider).
  const storedResponses = proxyHandler("stored_responses", usage)
  const responseRoute = new Map<string, RouteEntry>([
    ["GET", { auth: true, handler: storedResponses }],
    ["DELETE", { auth: true, handler: storedResponses }]
  ])
  const responseCancelRoute = new Map<string, RouteEntry>([["POST", { auth: true, handler: storedResponses }]])
  const responseItemsRoute = new Map<string, RouteEntry>([["GET", { auth: true, handler: storedResponses }]])
  // A virtual key sees only the models it may use; a forbidden one is as absent as an unknown one.
  const listed = (snapshot: Snapshot, principal: Principal | undefined, name: string): boolean => {
    const model = snapshot.config.models.get(name)
    return model !== undefined && principal !== undefined && mayList(principal, name, model.pattern._tag === "Exact")
  }
  add("GET", "/v1/models", true, (_req, snapshot, _id, _path, principal) =>
    Effect.succeed(
      json({
        object: "list",
        data: (principal?._tag === "Master"
          ? snapshot.config.modelNames
          : snapshot.config.modelNames.filter((name) => listed(snapshot, principal, name))
        ).map(modelObject)
      })
    )
  )
  const modelRoute = new Map<string, RouteEntry>([
    [
      "GET",
      {
        auth: true,
        handler: (_req, snapshot, _id, path, principal) => {
          const id = decodeSegment(path.slice("/v1/models/".length))
          if (id === undefined) {
            return Effect.fail(
              gatewayError({
                _tag: "InvalidRequest",
                param: "model",
                message: "The model id in the path has a malformed percent escape (or is not UTF-8)."
              })
            )
          }
          const { identifierLimit } = snapshot.config.server.bounds
          if (id.length > identifierLimit) return Effect.fail(identifierTooLong("model", identifierLimit))
          return listed(snapshot, principal, id)
            ? Effect.succeed(json(modelObject(id)))
            : Effect.fail(gatewayError({ _tag: "ModelNotFound", model: id }))
        }
      }
    ]
  ])
  const adminEntry: RouteEntry = { auth: true, handler: makeAdminHandler(adminStore, usageReports, upstreamClients) }
  // GET `metrics.path`: the owner's exposition of every worker; with `require_key`, for the keys
  // the admin API takes.
  const scrape: Handler = (_req, _snapshot, _id, _path, principal) => {
    if (principal !== undefined) {
      const actor = adminActor(principal)
      if (actor instanceof GatewayError) return Effect.fail(actor)
    }
    return Effect.map(exposition.scrape, (text) => bytes(encoder.encode(text), EXPOSITION_CONTENT_TYPE))
  }
  const metricsRoute = new Map([["GET", { auth: false, handler: scrape }]])
  const metricsRouteWithKey = new Map([["GET", { auth: true, handler: scrape }]])
  const adminRoute = new Map<string, RouteEntry>(["GET", "POST", "PATCH", "PUT", "DELETE"].map((m) => [m, adminEntry]))

  const dispatch = (
    request: IncomingRequest,
    requestId: string,
    receivedAt: number,
    span: RequestSpan | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> => {
    const path = pathOf(request.url)
    const byMethod = table.get(path) ?? variableRoute(path)
    if (byMethod === undefined)
      return Effect.fail(gatewayError({ _tag: "RouteNotFound", method: request.method, path }))
    const entry = byMethod.get(request.method)
    if (entry === undefined)
      return Effect.fail(gatewayError({ _tag: "MethodNotAllowed", method: request.method, path }))
    const snapshot = state.current()
    if (!entry.auth) return entry.handler(request, snapshot, requestId, path, undefined, receivedAt, span)
    // Per client IP, before authentication: a flood of bad keys is limited too.
    if (snapshot.admitIp !== undefined) {
      const refused = snapshot.admitIp(request.remoteAddress, request.header("x-forwarded-for"))
      if (refused !== undefined) {
        metrics.rejected(refused)
        return Effect.fail(gatewayError(refused))
      }
    }
    // Anthropic's clients send their key as `x-api-key` (Anthropic's paths only).
    const apiKey = ANTHROPIC_PATHS.has(path) ? request.header("x-api-key") : undefined
    const principal = snapshot.authenticate(
      request.header("authorization") ?? (apiKey === undefined ? undefined : `Bearer ${apiKey}`)
    )
    if (principal instanceof Error) return Effect.fail(principal)
    return entry.handler(request, snapshot, requestId, path, principal, receivedAt, span)
  }

  /**
   * A file, batch or stored response by id (`/v1/files/{id}`, `/v1/files/{id}/content`,
   * `/v1/batches/{id}`, `/v1/batches/{id}/cancel`, `/v1/responses/{id}`, `/v1/responses/{id}/cancel`,
   * `/v1/responses/{id}/input_items`): the id one plain segment, so the path relayed upstream is one of these.
   */
  const resourceRoute = (path: string): Map<string, RouteEntry> | undefined => {
    const kind = path.startsWith("/v1/files/") ? "files" : path.startsWith("/v1/batches/") ? "batches" : "responses"
    const [id, action, ...more] = path.slice(`/v1/${kind}/`.length).split("/")
    if (id === undefined || !RESOURCE_ID.test(id) || more.length > 0) return undefined
    switch (kind) {
      case "files":
        return action === undefined ? fileRoute : action === "content" ? fileContentRoute : undefined
      case "batches":
        return action === undefined ? batchRoute : action === "cancel" ? batchCancelRoute : undefined
      case "responses":
        return action === undefined
          ? responseRoute
          : action === "cancel"
            ? responseCancelRoute
            : action === "input_items"
              ? responseItemsRoute
              : undefined
    }
  }

  /** Whether `path` lies below the files', batches' or responses' (a resource by id). */
  const isResourcePath = (path: string): boolean =>
    path.startsWith("/v1/files/") || path.startsWith("/v1/batches/") || path.startsWith("/v1/responses/")

  /** The routes whose path is not fixed: a model by id, a file, batch or stored response, the admin API, the metrics' configured path. */
  const variableRoute = (path: string): Map<string, RouteEntry> | undefined => {
    if (path.startsWith("/v1/models/") && path.length > 11) return modelRoute
    if (isResourcePath(path)) return resourceRoute(path)
    if (path.startsWith(ADMIN_PREFIX)) return adminRoute
    const m = state.current().config.metrics
    if (m.enabled && path === m.path) return m.requireKey ? metricsRouteWithKey : metricsRoute
    return undefined
  }

  /** A route's name for spans: its path, or its pattern (bounded: never the client's path). */
  const routeOf = (path: string): string => {
    if (table.has(path)) return path
    if (path.startsWith("/v1/models/") && path.length > 11) return "/v1/models/{model}"
    if (isResourcePath(path)) {
      // ["", "v1", "files", id, action?]
      const [, , collection, , action] = path.split("/")
      if (resourceRoute(path) === undefined) return "unmatched"
      return `/v1/${collection}/{id}${action === undefined ? "" : `/${action}`}`
    }
    if (path.startsWith(ADMIN_PREFIX)) return `${ADMIN_PREFIX}*`
    const m = state.current().config.metrics
    return m.enabled && path === m.path ? path : "unmatched"
  }

  /** The request in its server span, ended with its answer (a stream's at its last byte). */
  const traced = (
    request: IncomingRequest,
    requestId: string,
    receivedAt: number,
    parent: Tracer.ExternalSpan | undefined
  ): Effect.Effect<OutgoingResponse> => {
    const path = pathOf(request.url)
    const route = routeOf(path)
    return Effect.clockWith((clock) => {
      // Started here, not through the fiber (`Effect.makeSpan`, `withParentSpan`): the request path
      // hands its span on itself, so the fiber's context, and its failures' annotations, stay as they are.
      const span = tracing.startSpan(`${request.method} ${route}`, "server", parent, clock.currentTimeNanosUnsafe(), {
        "http.request.method": request.method,
        "http.route": route,
        "url.path": route === "unmatched" ? "unmatched" : path,
        "llmgate.request_id": requestId
      })
      const end = (status: number | undefined) =>
        Effect.sync(() => {
          if (status !== undefined) span.attribute("http.response.status_code", status)
          span.end(
            clock.currentTimeNanosUnsafe(),
            status === undefined ? Exit.interrupt() : status >= 500 ? Exit.fail(`HTTP ${status}`) : Exit.void
          )
        })
      return answer(requestId, () => dispatch(request, requestId, receivedAt, span)).pipe(
        Effect.onInterrupt(() => end(undefined)),
        Effect.flatMap((response) =>
          response.body instanceof Uint8Array
            ? Effect.as(end(response.status), response)
            : Effect.succeed({ ...response, body: response.body.pipe(Stream.ensuring(end(response.status))) })
        )
      )
    })
  }

  const openAIShaped: App = (request) => {
    const receivedAt = performance.now()
    // Only a sampled request has spans: one left out costs nothing here (its traceparent, if any,
    // still goes upstream as it came: http/Proxy.ts).
    if (tracing.enabled) {
      const { parent, sampled } = tracing.parentOf(request.header("traceparent"))
      if (sampled) return traced(request, requestIdOf(request.header("x-request-id")), receivedAt, parent)
    }
    const requestId = requestIdOf(request.header("x-request-id"))
    return answer(requestId, () => dispatch(request, requestId, receivedAt, undefined))
  }
  // The Messages API (and its token counting) answers its errors in Anthropic's shape, whoever made them.
  const app: App = (request) =>
    ANTHROPIC_PATHS.has(pathOf(request.url))
      ? Effect.map(openAIShaped(request), anthropicErrors)
      : openAIShaped(request)
  return app
})

const withRequestId =
  (requestId: string) =>
  (response: OutgoingResponse): OutgoingResponse => ({
    status: response.status,
    headers: { ...response.headers, "x-request-id": requestId },
    body: response.body
  })

/**
 * The one boundary around every request: `handle` runs inside it, so anything it throws, even
 * synchronously while building its effect, is a defect; an error becomes OpenAI's error shape, a
 * defect a 500 that leaks nothing (logged with the request id); every answer carries the id.
 */
export const answer = (
  requestId: string,
  handle: () => Effect.Effect<OutgoingResponse, GatewayError>
): Effect.Effect<OutgoingResponse> =>
  Effect.suspend(handle).pipe(
    Effect.catch((error) => {
      const response = errorResponse(error.reason)
      return response.status >= 500
        ? Effect.as(
            Effect.logWarning("request failed", error.reason).pipe(Effect.annotateLogs({ requestId })),
            response
          )
        : Effect.succeed(response)
    }),
    Effect.catchDefect((defect) =>
      Effect.as(
        Effect.logError("unexpected defect", Cause.pretty(Cause.die(defect))).pipe(Effect.annotateLogs({ requestId })),
        errorResponse(UNEXPECTED)
      )
    ),
    Effect.map(withRequestId(requestId))
  )
