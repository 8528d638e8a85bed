/**
 * The realistic gateway config the bench runs llmgate with: master-key auth; every model weighted
 * over two providers (two entries pointing at the same fake upstream, weights 3 and 1) with a high
 * concurrency cap and a queue, one retry, a fallback model, default breakers and explicit timeouts;
 * provider auth and header operations; a glob model and a route. Model names tell the fake upstream
 * the stream shape (`stream-<chunks>x<intervalMs>`).
 */
export const MASTER_KEY = "sk-bench-master-key-0123456789"

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

export const gatewayConfig = (port: number, upstreamPort: number, m: Models): object => {
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
    routes: [{ path: "/v1/embeddings", model: m.nonStream[0] }]
  }
}
