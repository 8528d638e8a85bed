/**
 * The admin REST API under `/admin/v1`, for the master key or a virtual key whose user has role
 * `admin` (any other key: 403). Providers and models are addressed by name, projects, users and
 * keys by id; lists are `{"data": [...], "next_cursor": string|null}` (`limit`, `cursor` and
 * filters in the query); objects carry an `etag`, also sent as the `ETag` header, which `If-Match`
 * on PATCH, DELETE and rotate must match. The operations are the AdminStore's; this module only
 * parses requests and shapes answers; keys and projects get their budget's current `spend` from
 * this worker's limiter store (admin/BudgetSpend.ts) after the store answered. Mounted as one entry
 * beside the proxy routes.
 *
 * `POST /admin/v1/providers/{name}/detect` lists that provider's upstream models and probes the
 * first few for chat, streaming, tools and embeddings (providers/Detect.ts), through the provider
 * this worker's snapshot built from the config, so with its base URL, kind and credentials, and
 * over its upstream client (`clients`), so with its connection settings.
 *
 * `GET /admin/v1/usage` answers a usage report (usage/UsageReport.ts: time series from the minute
 * rollups, validated and bounded here, answered by the owner's store) and `GET /admin/v1/usage/graph`
 * the same report as an SVG chart (usage/UsageGraph.ts).
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { Actor, AdminObject, AdminStoreShape, Resource } from "../admin/AdminStore.ts"
import { FILTERS, RESOURCES } from "../admin/AdminStore.ts"
import { withSpend } from "../admin/BudgetSpend.ts"
import { notFound } from "../admin/AdminRules.ts"
import { effectiveConfig } from "../admin/EffectiveConfig.ts"
import type { Principal } from "../auth/Auth.ts"
import { DurationInput, durationMillis } from "../domain/units.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import type { components } from "../generated/openapi.ts"
import type { Snapshot } from "../GatewayState.ts"
import type { CounterScope } from "../limits/CounterSlots.ts"
import {
  DEFAULT_PROBE,
  DEFAULT_TIMEOUT_MS,
  type DetectOptions,
  detect,
  MAX_PROBE,
  MAX_TIMEOUT_MS
} from "../providers/Detect.ts"
import { KINDS } from "../providers/Kinds.ts"
import { renderUsageGraph } from "../usage/UsageGraph.ts"
import { parseMetric, parseUsageQuery, type UsageReportsShape } from "../usage/UsageReport.ts"
import { UpstreamClients, type UpstreamClientsShape } from "../providers/UpstreamClients.ts"
import type { IncomingRequest, OutgoingResponse } from "./Exchange.ts"
import { exceedsJsonDepth, tooDeep } from "./JsonDepth.ts"
import { decodeSegment, decodeUtf8 } from "./Path.ts"
import { bytes, json, NOT_UTF8 } from "./respond.ts"

export const ADMIN_PREFIX = "/admin/v1/"

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 500

/** Who may use the admin API, as the audit log names them; a Forbidden error for anyone else. */
export const adminActor = (principal: Principal | undefined): Actor | GatewayError => {
  if (principal?._tag === "Master") return { id: "master" }
  if (principal?._tag === "VirtualKey" && principal.key.role === "admin")
    return { id: `key:${principal.key.id}`, userId: principal.key.userId }
  return gatewayError({
    _tag: "Forbidden",
    message: "The admin API needs the master key or a key of a user with role `admin`."
  })
}

const invalid = (param: string | null, message: string): GatewayError =>
  gatewayError({ _tag: "InvalidRequest", param, message })

const withEtag = (object: AdminObject, status = 200): OutgoingResponse => {
  const response = json(object, status)
  return { ...response, headers: { ...response.headers, etag: `"${object.etag}"` } }
}

/** The body as a JSON object (nested at most `server.json_depth_limit` levels); an empty body is `{}` when `optional`. */
const readObject = (request: IncomingRequest, snapshot: Snapshot, optional = false) =>
  Effect.flatMap(request.body(snapshot.config.server.bodyLimit), (bytes) => {
    const depthLimit = snapshot.config.server.bounds.jsonDepthLimit
    if (exceedsJsonDepth(bytes, depthLimit)) return Effect.fail(tooDeep(depthLimit))
    const text = decodeUtf8(bytes)
    if (text === undefined) return Effect.fail(gatewayError({ _tag: "InvalidJson", detail: NOT_UTF8 }))
    if (optional && text.trim() === "") return Effect.succeed({} as Record<string, unknown>)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (e) {
      return Effect.fail(
        gatewayError({ _tag: "InvalidJson", detail: e instanceof Error ? e.message : "malformed JSON" })
      )
    }
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? Effect.succeed(value as Record<string, unknown>)
      : Effect.fail(invalid(null, "The body must be a JSON object."))
  })

/** The query string's parameters. */
const queryOf = (url: string): URLSearchParams => {
  const q = url.indexOf("?")
  return new URLSearchParams(q === -1 ? "" : url.slice(q + 1))
}

/**
 * The chart is a standalone document: nothing in it may run or load anything (group names are
 * escaped; this says so to the browser too).
 */
const SVG_HEADERS = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store"
}

/** `GET /admin/v1/usage` (JSON) and `GET /admin/v1/usage/graph` (SVG). */
const usageReport = (
  reports: UsageReportsShape,
  request: IncomingRequest,
  graph: boolean
): Effect.Effect<OutgoingResponse, GatewayError> => {
  const params = queryOf(request.url)
  const query = parseUsageQuery(params, Date.now(), graph ? ["metric"] : [])
  if (query instanceof Error) return Effect.fail(query)
  if (!graph) return Effect.map(reports.report(query), (report) => json(report))
  const metric = parseMetric(params)
  if (metric instanceof Error) return Effect.fail(metric)
  return Effect.map(reports.report(query), (report) =>
    bytes(new TextEncoder().encode(renderUsageGraph(report, metric)), "image/svg+xml; charset=utf-8", SVG_HEADERS)
  )
}

const listQuery = (url: string, resource: Resource) => {
  const params = queryOf(url)
  let limit = DEFAULT_LIMIT
  let cursor: string | undefined
  const filters: Record<string, string> = {}
  for (const [name, value] of params) {
    if (name === "limit") {
      limit = Number(value)
      if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LIMIT)
        return invalid("limit", `limit: expected an integer from 1 to ${MAX_LIMIT}`)
    } else if (name === "cursor") cursor = value
    else if (FILTERS[resource].includes(name)) filters[name] = value
    else {
      const allowed = ["limit", "cursor", ...FILTERS[resource]].join(", ")
      return invalid(name, `${name}: unknown query parameter (allowed: ${allowed})`)
    }
  }
  return { limit, cursor, filters }
}

const gracePeriod = (body: Readonly<Record<string, unknown>>): number | GatewayError => {
  for (const field of Object.keys(body)) {
    if (field !== "grace_period")
      return gatewayError({ _tag: "Unprocessable", param: field, message: `${field}: unknown field` })
  }
  if (body["grace_period"] === undefined || body["grace_period"] === null) return 0
  const decoded = Schema.decodeUnknownResult(DurationInput)(body["grace_period"])
  return Result.isSuccess(decoded)
    ? durationMillis(decoded.success)
    : gatewayError({
        _tag: "Unprocessable",
        param: "grace_period",
        message: `grace_period: expected a duration such as "10m", "30s" or milliseconds`
      })
}

/** The options of a detection from its request body (every field optional). */
const detectOptions = (body: Readonly<Record<string, unknown>>, snapshot: Snapshot): DetectOptions | GatewayError => {
  const bad = (param: string, message: string) => gatewayError({ _tag: "Unprocessable", param, message })
  for (const field of Object.keys(body)) {
    if (field !== "probe" && field !== "models" && field !== "timeout") return bad(field, `${field}: unknown field`)
  }
  const { probe, models, timeout } = body
  if (probe !== undefined && !(Number.isInteger(probe) && Number(probe) >= 0 && Number(probe) <= MAX_PROBE))
    return bad("probe", `probe: expected a number of models from 0 to ${MAX_PROBE}`)
  if (
    models !== undefined &&
    !(
      Array.isArray(models) &&
      models.length >= 1 &&
      models.length <= MAX_PROBE &&
      models.every((m) => typeof m === "string" && m !== "")
    )
  )
    return bad("models", `models: expected from 1 to ${MAX_PROBE} model ids`)
  let timeoutMs = DEFAULT_TIMEOUT_MS
  if (timeout !== undefined) {
    const decoded = Schema.decodeUnknownResult(DurationInput)(timeout)
    timeoutMs = Result.isSuccess(decoded) ? durationMillis(decoded.success) : Number.NaN
    if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS))
      return bad("timeout", `timeout: expected a duration from 1ms to ${MAX_TIMEOUT_MS / 1000}s such as "10s"`)
  }
  const named = models as ReadonlyArray<string> | undefined
  return {
    probe: typeof probe === "number" ? probe : (named?.length ?? DEFAULT_PROBE),
    models: named,
    timeoutMs,
    bounds: snapshot.config.server.bounds
  }
}

/** `POST /admin/v1/providers/{name}/detect`: the configured provider's models and capabilities. */
const detectProvider = (
  clients: UpstreamClientsShape,
  request: IncomingRequest,
  snapshot: Snapshot,
  name: string
): Effect.Effect<OutgoingResponse, GatewayError> => {
  const provider = snapshot.providers.get(name)
  if (provider === undefined) return Effect.fail(notFound("providers", name))
  if (!KINDS[provider.config.kind].connects)
    return Effect.fail(invalid(null, `Provider \`${name}\` is of kind mock: it has no upstream to detect.`))
  return readObject(request, snapshot, true).pipe(
    Effect.flatMap((body) => {
      const options = detectOptions(body, snapshot)
      return options instanceof Error
        ? Effect.fail(options)
        : detect(provider, options).pipe(Effect.provideService(UpstreamClients, clients))
    }),
    Effect.map((detection) => json(detection satisfies components["schemas"]["AdminProviderDetection"]))
  )
}

const isResource = (name: string | undefined): name is Resource => RESOURCES.includes(name as Resource)

/** The resources whose objects show their budget's `spend`, and whose counters those are. */
const SPEND_SCOPE: Partial<Record<Resource, CounterScope>> = { keys: "key", projects: "project" }

/** Objects of `resource` as answered, with their budgets' spend from this worker's limiter store. */
const withSpendOf = (
  snapshot: Snapshot,
  resource: Resource,
  objects: ReadonlyArray<AdminObject>
): Effect.Effect<ReadonlyArray<AdminObject>> => {
  const scope = SPEND_SCOPE[resource]
  return scope === undefined ? Effect.succeed(objects) : withSpend(snapshot.limiter.store, scope, objects)
}

/** The handler of every `/admin/v1/*` request. */
export const makeAdminHandler =
  (store: AdminStoreShape, reports: UsageReportsShape, clients: UpstreamClientsShape) =>
  (
    request: IncomingRequest,
    snapshot: Snapshot,
    _requestId: string,
    path: string,
    principal: Principal | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> => {
    const actor = adminActor(principal)
    if (actor instanceof Error) return Effect.fail(actor)
    const method = request.method
    const segments = path.slice(ADMIN_PREFIX.length).split("/").map(decodeSegment)
    const notFound = Effect.fail(gatewayError({ _tag: "RouteNotFound", method, path }))
    const notAllowed = Effect.fail(gatewayError({ _tag: "MethodNotAllowed", method, path }))
    if (segments.some((s) => s === undefined || s === "")) return notFound
    const [first, id, action] = segments as ReadonlyArray<string>
    const ifMatch = request.header("if-match")

    if (first === "config") {
      if (id === undefined) {
        return method === "GET"
          ? Effect.succeed(
              json(effectiveConfig(snapshot.config, store.mode) satisfies components["schemas"]["AdminEffectiveConfig"])
            )
          : notAllowed
      }
      if (id === "reload" && action === undefined) {
        return method === "POST"
          ? Effect.as(
              store.reload(actor),
              json({ status: "reloaded" } satisfies components["schemas"]["AdminReloaded"])
            )
          : notAllowed
      }
      return notFound
    }
    if (first === "usage") {
      if (action !== undefined || (id !== undefined && id !== "graph")) return notFound
      return method === "GET" ? usageReport(reports, request, id === "graph") : notAllowed
    }
    if (!isResource(first)) return notFound
    const resource = first
    /** One object as answered, with its spend. */
    const shown = (object: AdminObject, status = 200) =>
      Effect.map(withSpendOf(snapshot, resource, [object]), (objects) => withEtag(objects[0] ?? object, status))

    if (id === undefined) {
      if (method === "GET") {
        const query = listQuery(request.url, resource)
        return query instanceof Error
          ? Effect.fail(query)
          : Effect.flatMap(store.list(resource, query), (page) =>
              Effect.map(withSpendOf(snapshot, resource, page.data), (data) => json({ ...page, data }))
            )
      }
      if (method === "POST") {
        return readObject(request, snapshot).pipe(
          Effect.flatMap((body) => store.create(resource, body, actor)),
          Effect.flatMap((object) => shown(object, 201))
        )
      }
      return notAllowed
    }

    if (action !== undefined && resource === "providers" && action === "detect" && segments.length === 3)
      return method === "POST" ? detectProvider(clients, request, snapshot, id) : notAllowed
    if (action !== undefined) {
      if (resource !== "keys" || action !== "rotate" || segments.length > 3) return notFound
      if (method !== "POST") return notAllowed
      return readObject(request, snapshot, true).pipe(
        Effect.flatMap((body) => {
          const grace = gracePeriod(body)
          return grace instanceof Error ? Effect.fail(grace) : store.rotateKey(id, grace, ifMatch, actor)
        }),
        Effect.flatMap((object) => shown(object))
      )
    }

    switch (method) {
      case "GET":
        return Effect.flatMap(store.get(resource, id), (object) => shown(object))
      case "PATCH":
        return readObject(request, snapshot).pipe(
          Effect.flatMap((patch) => store.update(resource, id, patch, ifMatch, actor)),
          Effect.flatMap((object) => shown(object))
        )
      case "DELETE":
        return Effect.as(
          store.remove(resource, id, ifMatch, actor),
          json({ id, object: resource.slice(0, -1), deleted: true } satisfies components["schemas"]["AdminDeleted"])
        )
      default:
        return notAllowed
    }
  }
