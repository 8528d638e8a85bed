/**
 * The admin store as a worker sees it: every operation is a call to the owner thread, which runs it
 * on the real store (the file or Postgres, one writer for the whole gateway) and answers once every
 * worker serves the result. Usage reports and metrics scrapes travel the same way: the usage
 * store and the metrics live in the owner only. `serveAdminCall` is the owner's end.
 */
import * as Effect from "effect/Effect"
import type { AdminObject, AdminStoreShape, Page } from "../admin/AdminStore.ts"
import type { GatewayError } from "../domain/GatewayError.ts"
import type { MetricsExpositionShape } from "../metrics/WorkerMetrics.ts"
import type { UsageReport, UsageReportsShape } from "../usage/UsageReport.ts"
import type { AdminCall } from "./Protocol.ts"

/** `call` sends one call to the owner and waits for its answer. */
export const makeRemoteAdminStore = (
  mode: AdminStoreShape["mode"],
  call: (call: AdminCall) => Effect.Effect<unknown, GatewayError>
): AdminStoreShape => ({
  mode,
  list: (resource, query) => call({ op: "list", resource, query }) as Effect.Effect<Page, GatewayError>,
  get: (resource, id) => call({ op: "get", resource, id }) as Effect.Effect<AdminObject, GatewayError>,
  create: (resource, body, actor) =>
    call({ op: "create", resource, body, actor }) as Effect.Effect<AdminObject, GatewayError>,
  update: (resource, id, patch, ifMatch, actor) =>
    call({ op: "update", resource, id, patch, ifMatch, actor }) as Effect.Effect<AdminObject, GatewayError>,
  remove: (resource, id, ifMatch, actor) => Effect.asVoid(call({ op: "remove", resource, id, ifMatch, actor })),
  rotateKey: (id, gracePeriodMs, ifMatch, actor) =>
    call({ op: "rotateKey", id, gracePeriodMs, ifMatch, actor }) as Effect.Effect<AdminObject, GatewayError>,
  reload: (actor) => Effect.asVoid(call({ op: "reload", actor }))
})

/** Usage reports as a worker asks for them: each query is answered by the owner. */
export const makeRemoteUsageReports = (
  call: (call: AdminCall) => Effect.Effect<unknown, GatewayError>
): UsageReportsShape => ({
  report: (query) => call({ op: "usageReport", query }) as Effect.Effect<UsageReport, GatewayError>
})

/** The metrics exposition as a worker asks for it: the owner answers each scrape. */
export const makeRemoteMetrics = (
  call: (call: AdminCall) => Effect.Effect<unknown, GatewayError>
): MetricsExpositionShape => ({
  scrape: call({ op: "metrics" }) as Effect.Effect<string, GatewayError>
})

/** Runs a worker's call on the owner's store (or its usage reports, or its metrics). */
export const serveAdminCall = (
  store: AdminStoreShape,
  usage: UsageReportsShape,
  metrics: Effect.Effect<string, GatewayError>,
  call: AdminCall
): Effect.Effect<unknown, GatewayError> => {
  switch (call.op) {
    case "list":
      return store.list(call.resource, call.query)
    case "get":
      return store.get(call.resource, call.id)
    case "create":
      return store.create(call.resource, call.body, call.actor)
    case "update":
      return store.update(call.resource, call.id, call.patch, call.ifMatch, call.actor)
    case "remove":
      return store.remove(call.resource, call.id, call.ifMatch, call.actor)
    case "rotateKey":
      return store.rotateKey(call.id, call.gracePeriodMs, call.ifMatch, call.actor)
    case "reload":
      return store.reload(call.actor)
    case "usageReport":
      return usage.report(call.query)
    case "metrics":
      return metrics
  }
}
