/**
 * Per-key and per-project counters, laid out now for the limits work that builds on them: one
 * shared slot (state/Slots.ts) per virtual key and per project, in the layout the owner makes for
 * every config snapshot. A key keeps its slot (and so its counts) across reloads for as long as its
 * id exists; keys added through the admin API get a fresh slot with the snapshot that adds them;
 * a deleted key's slot is reused only after every worker has moved past it. Every worker sees the
 * same slot, so a limit kept in it is one limit for the gateway, whatever the number of workers, and
 * each worker's share goes into its holdings, from which the owner recomputes the counts when a
 * worker dies (the limiter gives its slot spec a `repair`, as the routing slots do). What the slot's
 * words mean (requests and tokens per window, a token bucket, parallel requests, spend) is the
 * limiter's to define; across replicas the same interface gets a Redis store.
 */
import type { ResolvedConfig } from "../config/Config.ts"
import type { SlotSpec } from "../state/SlotAllocator.ts"
import { ipTableSpec } from "./IpRateLimit.ts"
import { repairCounters } from "./RateLimits.ts"

export type CounterScope = "key" | "project"

/** The layout key of a key's or a project's counters. */
export const counterKey = (scope: CounterScope, id: string): string => `counter:${JSON.stringify([scope, id])}`

/**
 * A counter slot for every virtual key and every project of `config` (their limits in
 * limits/RateLimits.ts; `max_parallel` repaired from the workers' holdings), and the client IP
 * table when `server.ip_rate_limit` is set (limits/IpRateLimit.ts).
 */
export const counterSlotSpecs = (config: ResolvedConfig): ReadonlyArray<SlotSpec> => [
  ...[...config.tenancy.keys.keys()].map((id) => ({ key: counterKey("key", id), size: 1, repair: repairCounters })),
  ...[...config.tenancy.projects.keys()].map((id) => ({
    key: counterKey("project", id),
    size: 1,
    repair: repairCounters
  })),
  ...(config.server.ipRateLimit === undefined ? [] : [ipTableSpec])
]
