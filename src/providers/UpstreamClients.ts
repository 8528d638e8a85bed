/**
 * Upstream HTTP clients, one per provider: each provider gets its own keep-alive connection pool
 * (and, where the runtime's client supports it, its own connect timeout). Runtimes provide the
 * implementation: Node builds undici pools per provider; fetch-based runtimes (Bun, Deno) share
 * their runtime's pooled fetch, where no connect phase is exposed, so `timeout.connect` is folded
 * into `timeout.request` there.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as HttpClient from "effect/http/HttpClient"

export interface UpstreamClientOptions {
  readonly provider: string
  readonly connectTimeoutMs: number
}

export interface UpstreamClientsShape {
  /** The client for one provider, created on first use and kept for the process lifetime. */
  readonly get: (options: UpstreamClientOptions) => Effect.Effect<HttpClient.HttpClient>
  /** Whether response bodies come back decompressed (fetch) so `content-encoding` must not be relayed. */
  readonly decodesBodies: boolean
  /** Whether `timeout.connect` is enforced separately from `timeout.request`. */
  readonly enforcesConnectTimeout: boolean
}

export class UpstreamClients extends Context.Service<UpstreamClients, UpstreamClientsShape>()("llmgate/UpstreamClients") {
  /** Every provider shares the one HttpClient in context (a pooled fetch). */
  static readonly layerShared: Layer.Layer<UpstreamClients, never, HttpClient.HttpClient> = Layer.effect(
    UpstreamClients,
    Effect.map(Effect.service(HttpClient.HttpClient), (client) =>
      UpstreamClients.of({ get: () => Effect.succeed(client), decodesBodies: true, enforcesConnectTimeout: false }))
  )
}
