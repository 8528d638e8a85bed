/**
 * `server.ip_rate_limit`: a token bucket per client IP (capacity `burst`, refilled at `rps` per
 * second), kept in a fixed-size hash table in shared slots so every worker enforces one bucket per
 * IP. The set of client IPs is unbounded, the table is not: `IP_TABLE_SLOTS` slots of
 * `ENTRIES_PER_SLOT` entries, an IP hashed (53 bits) to one slot and kept in one of its entries.
 * A new IP takes an empty entry, else one whose bucket has refilled to full (forgetting it changes
 * nothing), else the least recently used one: only then is the table approximate, by giving the
 * evicted IP a fresh (full) bucket, and only when more than `ENTRIES_PER_SLOT` IPs with partly
 * drained buckets hash to one slot at once.
 *
 * The client IP is the connection's peer address; `X-Forwarded-For` is believed only when the peer
 * is a trusted proxy, and then the client is the right-most hop that is not itself trusted.
 */
import * as Hex from "effect/encoding/Hex"
import { parseIp } from "../config/Cidr.ts"
import type { ResolvedIpRateLimit } from "../config/Config.ts"
import type { SlotSpec } from "../state/SlotAllocator.ts"
import { FIRST_FLOAT, type Slot, withSlot } from "../state/Slots.ts"
import type { Refusal } from "./RateLimits.ts"

export const IP_TABLE_KEY = "ip-rate-limit:table"
export const IP_TABLE_SLOTS = 64
/** Three Float64 words per entry (the IP's hash, its tokens, its last refill) in the 31 a slot has free. */
export const ENTRIES_PER_SLOT = 10
const ID = 0
const TOKENS = 1
const AT = 2

/** The slots of the IP table (owner side; laid out only when `server.ip_rate_limit` is set). */
export const ipTableSpec: SlotSpec = { key: IP_TABLE_KEY, size: IP_TABLE_SLOTS }

/** A 53-bit hash of an IP (never 0) and the table slot it lives in. */
const hashIp = (ip: string, slots: number): { readonly id: number; readonly slot: number } => {
  let a = 0x811c9dc5
  let b = 0x9747b28c
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
    b ^= b >>> 15
  }
  const hi = (a >>> 0) % 2 ** 21
  const lo = b >>> 0
  return { id: hi * 2 ** 32 + lo + 1, slot: (a >>> 0) % slots }
}

/** Takes one token from `ip`'s bucket in the table (locked), or refuses. */
const takeLocked = (
  s: Slot,
  id: number,
  settings: Pick<ResolvedIpRateLimit, "rps" | "burst">,
  now: number
): Refusal | undefined => {
  const f = s.f64
  const base = s.fat + FIRST_FLOAT
  const refilled = (e: number) =>
    Math.min(settings.burst, f[e + TOKENS]! + (Math.max(0, now - f[e + AT]!) * settings.rps) / 1000)
  let victim = -1
  let victimRank = Infinity
  for (let i = 0; i < ENTRIES_PER_SLOT; i++) {
    const e = base + i * 3
    const entry = f[e + ID]!
    if (entry === id) {
      const tokens = refilled(e)
      // A refused request counts as a use too: an IP that keeps trying is never the least recently used.
      f[e + AT] = now
      if (tokens < 1) {
        f[e + TOKENS] = tokens
        return {
          limit: "requests_per_second",
          value: settings.rps,
          scope: "ip",
          retryAfterMs: Math.ceil(((1 - tokens) * 1000) / settings.rps)
        }
      }
      f[e + TOKENS] = tokens - 1
      f[e + AT] = now
      return undefined
    }
    // Rank: empty first, then full buckets, then the least recently used.
    const rank = entry === 0 ? -2 : refilled(e) >= settings.burst ? -1 : f[e + AT]!
    if (rank < victimRank) {
      victim = e
      victimRank = rank
    }
  }
  f[victim + ID] = id
  f[victim + TOKENS] = settings.burst - 1
  f[victim + AT] = now
  return undefined
}

/**
 * Takes one request from `ip`'s bucket in `table`; the refusal when it is empty. A stale table (the
 * limit was just removed from the config) refuses nothing.
 */
export const admitIp = (
  table: ReadonlyArray<Slot>,
  ip: string,
  settings: Pick<ResolvedIpRateLimit, "rps" | "burst">,
  now: number
): Refusal | undefined => {
  const { id, slot } = hashIp(ip, table.length)
  return withSlot(
    table[slot]!,
    (s) => takeLocked(s, id, settings, now),
    () => undefined
  )
}

/** An address as one canonical key (IPv4 and its IPv4-mapped IPv6 form alike); the text itself when it is no address. */
const canonical = (address: string): string => {
  const bytes = parseIp(address)
  if (bytes === undefined) return address
  return Hex.encode(bytes)
}

/**
 * The client of a request: the peer address, or, when the peer is a trusted proxy, the right-most
 * `X-Forwarded-For` hop that is not trusted (the left-most when every hop is). Undefined when the
 * runtime did not tell the peer.
 */
export const clientIp = (
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: (address: string) => boolean
): string | undefined => {
  if (remoteAddress === undefined) return undefined
  if (forwardedFor === undefined || !trusted(remoteAddress)) return canonical(remoteAddress)
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "")
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted(hops[i]!)) return canonical(hops[i]!)
  return canonical(hops[0] ?? remoteAddress)
}
