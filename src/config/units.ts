/**
 * Units of config values: durations ("200ms", "5s", "1m", "1h" or a number of milliseconds) and
 * byte sizes ("64KiB", "10MiB", "1MB" or a number of bytes), parsed once at config load.
 */
import * as Schema from "effect/Schema"

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/
const BYTES = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const BYTE_FACTOR: Record<string, number> = { B: 1, KB: 1000, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3 }

/** A duration as written in config: "250ms", "10s", "2m", "1h", or milliseconds as a number. */
export const DurationInput = Schema.Union([
  Schema.String.check(Schema.isPattern(DURATION, { message: `expected a duration like "500ms", "10s", "2m" or "1h"` })),
  Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))
])
export type DurationInput = typeof DurationInput.Type

/** A byte size as written in config: "64KiB", "10MiB", "1MB", or bytes as a number. */
export const ByteSizeInput = Schema.Union([
  Schema.String.check(Schema.isPattern(BYTES, { message: `expected a size like "512KiB", "10MiB" or "1MB"` })),
  Schema.Number.check(Schema.isGreaterThan(0))
])
export type ByteSizeInput = typeof ByteSizeInput.Type

/** Milliseconds of a validated duration. */
export const durationMillis = (input: DurationInput): number => {
  if (typeof input === "number") return input
  const m = DURATION.exec(input)
  return m ? Math.round(Number(m[1]) * (DURATION_MS[m[2] ?? "ms"] ?? 1)) : Number.NaN
}

/** Bytes of a validated size. */
export const byteCount = (input: ByteSizeInput): number => {
  if (typeof input === "number") return Math.floor(input)
  const m = BYTES.exec(input)
  return m ? Math.floor(Number(m[1]) * (BYTE_FACTOR[m[2] ?? "B"] ?? 1)) : Number.NaN
}
