/**
 * The realistic gateway config the bench runs llmgate with: master-key auth (and, for the limits
 * scenario, one project with one virtual key, without or with limits); every model weighted
 * over two providers (two entries pointing at the same fake upstream, weights 3 and 1) with a high
 * concurrency cap and a queue, one retry, a fallback model, default breakers and explicit timeouts;
 * provider auth and header operations; a glob model and a route. Model names tell the fake upstream
 * the stream shape (`stream-<chunks>x<intervalMs>`).
 */
import { createHash } from "node:crypto"

export const MASTER_KEY = "sk-bench-master-key-0123456789"
/** The limits scenario's virtual key (`sk-lg-` + 32 characters); the config holds its hash and prefix. */
export const VIRTUAL_KEY = "sk-lg-Bench0123456789abcdefghijklmnopq"

/** The `usage` of the fake upstream's non-streamed answer (upstream.ts), which limited requests settle to. */
export const UPSTREAM_USAGE = { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } as const

/**
 * How llmgate is reached and what it runs with: the master key (usage recording and metrics on, as
 * by default); a virtual key without limits and without usage recording, or one with limits (and
 * recording); and for the observability scenario, the master key without usage recording and with
 * every exporter off (`quiet`), with the Prometheus metrics only (`metrics`) or with OTLP tracing of
 * every request only (`traced`, to `otlpEndpoint`).
 */
export type Auth = "master" | "key" | "limited" | "quiet" | "metrics" | "traced"

/**
 * Limits that never refuse at bench load (a few thousand req/s over a few seconds; each request
 * reserves ~1,030 tokens and settles to the upstream's 11), yet make every request take the
 * shared-slot locks, reserve and settle tokens and carry `x-ratelimit-*` headers: a per-minute
 * window for requests and tokens, a token bucket and a `max_parallel` cap.
 */
export const BENCH_LIMITS = {
  requests_per_minute: 100_000_000,
  tokens_per_minute: 10_000_000_000,
  requests_per_second: 1_000_000,
  burst: 1_000_000,
  max_parallel: 100_000
} as const

/** `projects` and `keys` for a virtual-key config: one project, one key (limited or not); none for the master key. */
const tenancy = (auth: Auth): object =>
  auth !== "key" && auth !== "limited"
    ? {}
    : {
        projects: [{ id: "prj_bench", name: "Bench" }],
        keys: [
          {
            id: "key_bench",
            name: "bench",
            prefix: VIRTUAL_KEY.slice(0, 12),
            hash: createHash("sha256").update(VIRTUAL_KEY).digest("hex"),
            project_id: "prj_bench",
            ...(auth === "limited" ? { limits: BENCH_LIMITS } : {})
          }
        ]
      }

export interface StreamShape {
  readonly chunks: number
  readonly intervalMs: number
}
export const shapeModel = (s: StreamShape): string => `stream-${s.chunks}x${s.intervalMs}`

/** The stream shapes the scenarios ask the fake upstream for. */
export const BENCH_SHAPES = {
  /** TTFB: role + content at once, everything immediately. */
  stream: { chunks: 8, intervalMs: 0 },
  /** per-chunk delay: 10 chunks 5 ms apart. */
  chunks: { chunks: 10, intervalMs: 5 },
  /** long streams: 20 chunks 50 ms apart (~1 s). */
  long: { chunks: 20, intervalMs: 50 }
} satisfies Record<string, StreamShape>

/** Public (llmgate) model name → the upstream model id it maps to (what direct and bare send). */
export interface Models {
  readonly nonStream: readonly [string, string]
  readonly stream: readonly [string, string]
  readonly chunks: readonly [string, string]
  readonly long: readonly [string, string]
}

export const models = (shapes: { stream: StreamShape; chunks: StreamShape; long: StreamShape }): Models => ({
  nonStream: ["bench-model", "bench-upstream"],
  stream: ["bench-stream", shapeModel(shapes.stream)],
  chunks: ["bench-chunks", shapeModel(shapes.chunks)],
  long: ["bench-long", shapeModel(shapes.long)]
})

const weighted = (name: string, upstreamModel: string) => {
  const target = (provider: string, weight: number) => ({
    provider,
    model: upstreamModel,
    weight,
    max_concurrency: 4096,
    queue: { size: 1024, timeout: "5s" }
  })
  return {
    name,
    strategy: "weighted",
    targets: [target("up-a", 3), target("up-b", 1)],
    retry: { attempts: 1, backoff: "100ms", max_backoff: "1s" },
    fallbacks: ["bench-fallback"]
  }
}

/** What the observability and limits variants change: usage recording, metrics and tracing. */
const observability = (auth: Auth, otlpEndpoint: string | undefined): object => {
  switch (auth) {
    case "master":
      return {}
    // The key without limits is also the gateway without usage recording (on by default): the
    // limited key against it measures what limits and recording add together. Both run without
    // the metrics (on by default, as on the master-key target), which are not part of that figure.
    case "key":
      return { usage: { enabled: false }, metrics: { enabled: false } }
    case "limited":
      return { metrics: { enabled: false } }
    // The observability variants leave usage recording out (the limits scenario's subject): every
    // exporter off, then each exporter alone.
    case "quiet":
      return { usage: { enabled: false }, metrics: { enabled: false } }
    case "metrics":
      return { usage: { enabled: false } }
    case "traced":
      if (otlpEndpoint === undefined) throw new Error("the traced variant needs an OTLP endpoint")
      return {
        usage: { enabled: false },
        metrics: { enabled: false },
        tracing: { otlp: { endpoint: otlpEndpoint }, sample_rate: 1 }
      }
  }
}

export const gatewayConfig = (
  port: number,
  upstreamPort: number,
  m: Models,
  auth: Auth = "master",
  otlpEndpoint?: string
): object => {
  const base_url = `http://127.0.0.1:${upstreamPort}/v1`
  const timeout = { connect: "2s", request: "30s", idle: "10s" }
  return {
    server: { host: "127.0.0.1", port, body_limit: "1MiB", shutdown_timeout: "2s" },
    master_key: MASTER_KEY,
    providers: [
      {
        name: "up-a",
        kind: "openai",
        base_url,
        api_key: "sk-bench-upstream-a",
        headers: [{ op: "insert", key: "X-Bench-Provider", value: "a" }],
        timeout
      },
      {
        name: "up-b",
        kind: "openai",
        base_url,
        auth: { type: "header", name: "X-Api-Key", value: "sk-bench-upstream-b" },
        headers: [{ op: "replace", key: "X-Bench-Provider", value: "b" }],
        timeout
      }
    ],
    models: [
      weighted(m.nonStream[0], m.nonStream[1]),
      weighted(m.stream[0], m.stream[1]),
      weighted(m.chunks[0], m.chunks[1]),
      weighted(m.long[0], m.long[1]),
      { name: "bench-fallback", strategy: "failover", targets: [{ provider: "up-b", model: m.nonStream[1] }] },
      { name: "bench-glob-*", targets: [{ provider: "up-a" }] }
    ],
    routes: [{ path: "/v1/embeddings", model: m.nonStream[0] }],
    ...tenancy(auth),
    ...observability(auth, otlpEndpoint)
  }
}
