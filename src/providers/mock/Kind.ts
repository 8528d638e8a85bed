/**
 * The `mock` kind's config: `mock:` (latency, chunks, failure and crash rates); it connects
 * nowhere, so it takes no `base_url` and no connection settings.
 */
import * as Schema from "effect/Schema"
import { DurationInput, durationMillis } from "../../domain/units.ts"
import type { KindRules } from "../KindRules.ts"

export const MockSettings = Schema.Struct({
  latency: Schema.optional(DurationInput),
  chunks: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000 }))),
  chunk_interval: Schema.optional(DurationInput),
  failure_rate: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  crash_rate: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })))
})

/** The fields only a `mock` provider writes. */
export const MockFields = { mock: Schema.optional(MockSettings) }

export interface MockOptions {
  readonly latencyMs: number
  readonly chunks: number
  readonly chunkIntervalMs: number
  readonly failureRate: number
  /** Fault injection: the fraction of requests during which the worker serving them crashes. */
  readonly crashRate: number
}

export interface MockKindSettings {
  readonly mock: MockOptions
}

const millisOr = (value: DurationInput | undefined, fallback: number): number =>
  value === undefined ? fallback : durationMillis(value)

export const mockKind: KindRules<Schema.Struct.Type<typeof MockFields>, MockKindSettings> = {
  kind: "mock",
  baseUrl: { _tag: "Unused" },
  connects: false,
  apiKeyHeader: undefined,
  genAiName: "llmgate.mock",
  nativeResponses: false,
  fields: Object.keys(MockFields),
  check: () => [],
  resolve: ({ mock }) => ({
    mock: {
      latencyMs: millisOr(mock?.latency, 0),
      chunks: mock?.chunks ?? 4,
      chunkIntervalMs: millisOr(mock?.chunk_interval, 20),
      failureRate: mock?.failure_rate ?? 0,
      crashRate: mock?.crash_rate ?? 0
    }
  }),
  shown: ({ mock }) =>
    mock === undefined
      ? {}
      : {
          mock: {
            latency_ms: mock.latencyMs,
            chunks: mock.chunks,
            chunk_interval_ms: mock.chunkIntervalMs,
            failure_rate: mock.failureRate,
            crash_rate: mock.crashRate
          }
        }
}
