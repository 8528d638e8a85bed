/**
 * Health endpoints (no key needed): liveness (the process answers), readiness (config loaded, serving,
 * not draining) and a summary with version, runtime and model count.
 */
import { Effect } from "effect"
import type { HttpServerResponse } from "effect/http"
import pkg from "../../package.json" with { type: "json" }
import { GatewayState, RuntimeInfo } from "../GatewayState.ts"
import { errorResponse, json } from "./respond.ts"

export const VERSION: string = pkg.version

export const makeHealthHandlers = Effect.gen(function*() {
  const state = yield* GatewayState
  const runtime = yield* RuntimeInfo
  const live = json({ status: "ok" })
  return {
    liveness: (): HttpServerResponse.HttpServerResponse => live,
    readiness: (): HttpServerResponse.HttpServerResponse =>
      state.isDraining()
        ? errorResponse({ _tag: "Unavailable", message: "The gateway is shutting down." })
        : live,
    summary: (): HttpServerResponse.HttpServerResponse =>
      json({
        status: "ok",
        version: VERSION,
        runtime: { name: runtime.name, version: runtime.version },
        models: state.current().config.modelNames.length
      })
  }
})
