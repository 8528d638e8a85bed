// The part of autocannon 9's programmatic API the bench uses (the package ships no types).
// Result shape: lib/aggregateResult.js; `latency` values are ms from an HDR histogram with 1 ms
// resolution, which is why the bench also times every response itself (the 'response' event).
declare module "autocannon" {
  import type { EventEmitter } from "node:events"

  namespace autocannon {
    interface Options {
      url: string
      method?: "GET" | "POST"
      headers?: Record<string, string>
      body?: string
      connections?: number
      /** seconds; the run stops at the first sample tick after it */
      duration?: number
      /** ms between samples (default 1000) */
      sampleInt?: number
      /** seconds per request before it counts as a timeout */
      timeout?: number
      pipelining?: number
    }
    interface Histogram {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      total: number
      p50: number
      p90: number
      p97_5: number
      p99: number
    }
    interface Result {
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      resets: number
      "2xx": number
      latency: Histogram
      requests: Histogram & { sent: number }
      throughput: Histogram
    }
    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void
      on(
        event: "response",
        listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void
      ): this
      on(event: string, listener: (...args: Array<unknown>) => void): this
    }
  }
  function autocannon(options: autocannon.Options): autocannon.Instance
  export = autocannon
}
