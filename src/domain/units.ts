/**
 * Units of config values: durations ("200ms", "5s", "1m", "1h" or a number of milliseconds) and
 * byte sizes ("64KiB", "10MiB", "1MB" or a number of bytes), parsed once at config load.
 */
import * as Schema from "effect/Schema"

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/
const BYTES = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const BYTE_FACTOR: Record<string, number> = {
  B: 1,
  KB: 1000,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3
}

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

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/

/**
 * Milliseconds since the epoch of an ISO 8601 timestamp: a date (`2026-12-31`, meaning 00:00 UTC) or
 * a date-time with a time zone (`2026-12-31T23:59:59Z`, `…+02:00`); undefined for anything else,
 * impossible dates (`2026-02-30`) included. A date-time without a zone is refused: it is ambiguous.
 */
export const timestampMillis = (input: string): number | undefined => {
  const m = TIMESTAMP.exec(input)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000)
  const zone = m[8]
  let offsetMinutes = 0
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(4, 6))
    if (oh > 23 || om > 59) return undefined
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om)
  }
  const utc = new Date(0)
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute, second, fraction)
  return utc.getTime() - offsetMinutes * 60_000
}

/** An ISO 8601 timestamp as written in config (see `timestampMillis`). */
export const TimestampInput = Schema.String.check(
  Schema.makeFilter((s: string) => timestampMillis(s) !== undefined, {
    message: `expected an ISO 8601 date ("2026-12-31") or date-time with a time zone ("2026-12-31T23:59:59Z")`
  })
)
