/**
 * Closed-loop HTTP load with autocannon (programmatic API, in the bench process). autocannon's own
 * latency histogram has 1 ms resolution, too coarse for sub-millisecond overheads, so every
 * response's time (float ms, from the 'response' event) is kept and the percentiles computed here.
 */
import autocannon from "autocannon"
import { percentile } from "./stats.ts"

export interface LoadOptions {
  readonly port: number
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly connections: number
  readonly durationS: number
}

export interface LoadResult {
  /** 2xx responses per second over the run. */
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
  readonly ok: number
  /** Socket errors, timeouts and non-2xx answers. */
  readonly errors: number
  readonly elapsedMs: number
}

export const runLoad = async (options: LoadOptions): Promise<LoadResult> => {
  const latencies: Array<number> = []
  let non2xx = 0
  const start = performance.now()
  const instance = autocannon({
    url: `http://127.0.0.1:${options.port}${options.path}`,
    method: "POST",
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.durationS,
    sampleInt: 100,
    timeout: 10
  })
  instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs)
    else non2xx++
  })
  const result = await instance
  const elapsedMs = performance.now() - start
  const sum = latencies.reduce((a, b) => a + b, 0)
  return {
    rps: latencies.length / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean: latencies.length ? sum / latencies.length : Number.NaN,
    ok: latencies.length,
    errors: result.errors + non2xx,
    elapsedMs
  }
}
