// Lifecycle and helpers of the routing & resilience suites (routing-*.contract.test.ts): several
// controllable fake upstreams on their own ports sharing one recorder, and a gateway whose config the
// suite writes from their URLs. Upstream behaviour is reset to `ok` before every test.
import { afterAll, beforeAll, beforeEach, expect } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { httpClient, marker, MASTER_KEY, runtime, type HttpClient, type Res, type Runtime } from "./harness.ts"
import { startControlledUpstream, type ControlledUpstream } from "./upstream/controlled.ts"
import { Recorder, withMarker } from "./upstream/recorder.ts"

export interface ConfigEnv<N extends string> {
  /** base_url of the upstream called `name`. */
  readonly url: (name: N) => string
  /** A port nothing listens on (connection refused). */
  readonly closedPort: number
}

export interface RoutingConfig {
  readonly providers: ReadonlyArray<unknown>
  readonly models: ReadonlyArray<unknown>
  readonly routes?: ReadonlyArray<unknown>
}

export interface RoutingSetup<N extends string> {
  readonly upstreams: ReadonlyArray<N>
  readonly config: (env: ConfigEnv<N>) => RoutingConfig
  readonly debug?: boolean
  /** Worker threads; default: the vitest project's. */
  readonly workers?: number
}

export type BreakerState = "closed" | "open" | "half_open"

export interface DetailedTarget {
  provider: string
  model: string
  state: BreakerState
  failure_rate: number
  samples: number
  in_flight: number
  latency_ms: number | null
  success_rate: number
  active: number
  queued: number
  max_concurrency: number | null
}
export interface DetailedModel {
  name: string
  strategy: string
  targets: Array<DetailedTarget>
}
export interface DetailedHealth {
  status: string
  models: Array<DetailedModel>
}

export interface Sent {
  readonly res: Res
  readonly marker: string
  /** ms from sending to the whole body read. */
  readonly ms: number
  /** x-llmgate-provider */
  readonly provider: string | null
  /** x-llmgate-attempts as a number (NaN when absent). */
  readonly attempts: number
  /** The upstreams that received this request, in order. */
  hits(): Array<string | undefined>
}

export interface RoutingContext<N extends string> extends HttpClient {
  readonly runtime: Runtime
  readonly gateway: GatewayProcess
  readonly recorder: Recorder
  readonly bodies: ReadonlyArray<string>
  up(name: N): ControlledUpstream
  /** POST /v1/chat/completions for `model` with a unique marker as the user message. */
  chat(model: string, extra?: Readonly<Record<string, unknown>>): Promise<Sent>
  /** GET /health/detailed (no key). */
  detailed(): Promise<DetailedHealth>
  /** The /health/detailed entry of `provider` under model `model` (optionally a given upstream model). */
  target(model: string, provider: string, upstreamModel?: string): Promise<DetailedTarget | undefined>
  /** Polls /health/detailed until the target is in `state`; returns it. */
  waitForState(model: string, provider: string, state: BreakerState, timeoutMs?: number): Promise<DetailedTarget>
}

export const attemptsOf = (res: Res | Response): number => Number(res.headers.get("x-llmgate-attempts") ?? Number.NaN)

export const useRouting = <N extends string>(setup: RoutingSetup<N>): RoutingContext<N> => {
  const recorder = new Recorder()
  const ups = new Map<N, ControlledUpstream>()
  let gateway: GatewayProcess | undefined
  const bodies: Array<string> = []
  const needGateway = (): GatewayProcess => {
    if (gateway === undefined) throw new Error("routing harness: gateway not started (beforeAll failed?)")
    return gateway
  }

  beforeAll(async () => {
    for (const name of setup.upstreams) ups.set(name, await startControlledUpstream(name, recorder))
    const [gatewayPort, closedPort] = [await freePort(), await freePort()]
    const url = (name: N): string => {
      const u = ups.get(name)
      if (u === undefined) throw new Error(`routing harness: no upstream "${name}"`)
      return u.baseUrl
    }
    const cfg = setup.config({ url, closedPort })
    const config = {
      server: { host: "127.0.0.1", port: gatewayPort },
      master_key: MASTER_KEY,
      ...cfg
    }
    try {
      gateway = await launchGateway({
        runtime,
        config,
        port: gatewayPort,
        debug: setup.debug ?? false,
        ...(setup.workers === undefined ? {} : { workers: setup.workers })
      })
    } catch (e) {
      for (const u of ups.values()) await u.close()
      throw e
    }
  })

  beforeEach(() => {
    for (const u of ups.values()) u.reset()
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    for (const u of ups.values()) await u.close()
    cleanupTempDirs()
  })

  const client = httpClient(() => needGateway().baseUrl, bodies)

  const detailed = async (): Promise<DetailedHealth> => {
    const r = await client.get("/health/detailed", { key: null })
    expect(r.status, r.text).toBe(200)
    return r.json<DetailedHealth>()
  }
  const target = async (
    model: string,
    provider: string,
    upstreamModel?: string
  ): Promise<DetailedTarget | undefined> => {
    const h = await detailed()
    return h.models
      .find((m) => m.name === model)
      ?.targets.find((t) => t.provider === provider && (upstreamModel === undefined || t.model === upstreamModel))
  }

  return {
    runtime,
    get gateway() {
      return needGateway()
    },
    recorder,
    bodies,
    ...client,
    up: (name) => {
      const u = ups.get(name)
      if (u === undefined) throw new Error(`routing harness: no upstream "${name}" (beforeAll failed?)`)
      return u
    },
    chat: async (model, extra = {}) => {
      const m = marker("rt")
      const t0 = performance.now()
      const res = await client.post("/v1/chat/completions", {
        model,
        messages: [{ role: "user", content: m }],
        ...extra
      })
      const ms = performance.now() - t0
      return {
        res,
        marker: m,
        ms,
        provider: res.headers.get("x-llmgate-provider"),
        attempts: attemptsOf(res),
        hits: () => recorder.find(withMarker(m)).map((r) => r.upstream)
      }
    },
    detailed,
    target,
    waitForState: async (model, provider, state, timeoutMs = 10_000) => {
      const end = performance.now() + timeoutMs
      let last: DetailedTarget | undefined
      for (;;) {
        last = await target(model, provider)
        if (last?.state === state) return last
        if (performance.now() > end) {
          throw new Error(
            `target ${provider} of ${model} not ${state} after ${timeoutMs} ms (last: ${JSON.stringify(last)})`
          )
        }
        await new Promise((r) => setTimeout(r, 25))
      }
    }
  }
}

/** An `openai` provider entry pointing at `baseUrl`; `extra` adds or overrides fields. */
export const provider = (name: string, baseUrl: string, extra: Readonly<Record<string, unknown>> = {}) => ({
  name,
  kind: "openai",
  base_url: baseUrl,
  // Breakers stay out of the way unless a test configures them.
  breaker: { min_requests: 1000, window: "10s", cooldown: "1s" },
  ...extra
})

/** Runs `tasks` with at most `limit` at once; results in task order. */
export const pool = async <A>(limit: number, count: number, task: (i: number) => Promise<A>): Promise<Array<A>> => {
  const out: Array<A> = new Array<A>(count)
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= count) return
      out[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
  return out
}
