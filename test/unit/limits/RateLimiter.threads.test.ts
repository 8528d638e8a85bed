// Rate limits driven from several worker threads at once over the same shared counter slots, as
// gateway workers do: a key limited to 60 requests per minute admits exactly 60 whatever the
// threads; a project's limit holds across its keys while each key keeps its own, and a refusal by
// one consumes nothing of the other; max_parallel holds across threads, and the owner's repair
// after a worker died gives back exactly what that worker held.
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { ResolvedLimits } from "../../../src/config/Config.ts"
import { counterKey } from "../../../src/limits/CounterSlots.ts"
import { makeMemoryStore } from "../../../src/limits/RateLimiter.ts"
import { NO_LIMITS, parallelOf, repairCounters } from "../../../src/limits/RateLimits.ts"
import { makeSlotAllocator } from "../../../src/state/SlotAllocator.ts"
import { HOLD_IN_FLIGHT, type SlotRef } from "../../../src/state/Slots.ts"
import { usePool } from "../state/fixtures/pool.ts"
import { rendezvous } from "../state/fixtures/protocol.ts"
import { holdingsOf, pagesFor, slotsAs } from "../state/fixtures/slots.ts"
import type { HammerSubject, LimitsCommand, LimitsReplies } from "./fixtures/protocol.ts"

const SCRIPT = new URL("./fixtures/limitsWorker.ts", import.meta.url)
const THREADS = 4
const NOW = 1_700_000_000_000

const limits = (l: Partial<ResolvedLimits>): ResolvedLimits => ({ ...NO_LIMITS, ...l })

const pool = usePool<LimitsCommand, LimitsReplies>(SCRIPT, THREADS)

const layout = (keys: ReadonlyArray<string>) => {
  const allocator = makeSlotAllocator(THREADS)
  const specs = keys.map((key) => ({ key, size: 1, repair: repairCounters }))
  const refs = new Map(allocator.assign(specs, 1, () => false).map((a) => [a.key, a.refs[0]!]))
  return { allocator, refOf: (key: string): SlotRef => refs.get(key)! }
}

const hammer = (
  allocator: ReturnType<typeof makeSlotAllocator>,
  perThread: ReadonlyArray<ReadonlyArray<HammerSubject>>,
  attempts: number
) => {
  const meet = rendezvous(perThread.length)
  return Promise.all(
    perThread.map((subjects, w) =>
      pool().run(w, { _tag: "Hammer", pages: pagesFor(allocator, w), subjects, attempts, now: NOW, rendezvous: meet })
    )
  )
}

describe("rate limits across worker threads", () => {
  it("a key limited to 60 requests per minute admits exactly 60, hammered by 4 threads", async () => {
    for (let run = 0; run < 5; run++) {
      const { allocator, refOf } = layout([counterKey("key", "k")])
      const subject: HammerSubject = {
        scope: "key",
        ref: refOf(counterKey("key", "k")),
        limits: limits({ requestsPerMinute: 60 })
      }
      const replies = await hammer(
        allocator,
        Array.from({ length: THREADS }, () => [subject]),
        50
      )
      expect(replies.reduce((n, r) => n + r.admitted, 0)).toBe(60)
    }
  })

  it("two keys of one project: the project's 60 hold for both, each key its own 40, and refusals consume nothing", async () => {
    const { allocator, refOf } = layout([counterKey("key", "a"), counterKey("key", "b"), counterKey("project", "p")])
    const project: HammerSubject = {
      scope: "project",
      ref: refOf(counterKey("project", "p")),
      limits: limits({ requestsPerMinute: 60 })
    }
    const a: HammerSubject = {
      scope: "key",
      ref: refOf(counterKey("key", "a")),
      limits: limits({ requestsPerMinute: 40 })
    }
    const b: HammerSubject = {
      scope: "key",
      ref: refOf(counterKey("key", "b")),
      limits: limits({ requestsPerMinute: 40 })
    }
    const replies = await hammer(
      allocator,
      [
        [a, project],
        [b, project],
        [a, project],
        [b, project]
      ],
      60
    )
    const byA = replies[0]!.admitted + replies[2]!.admitted
    const byB = replies[1]!.admitted + replies[3]!.admitted
    expect(byA + byB).toBe(60)
    expect(byA).toBeLessThanOrEqual(40)
    expect(byB).toBeLessThanOrEqual(40)
    // Each key's own count is exactly what it was admitted: nothing counted for the refusals.
    const owner = slotsAs(allocator)
    const store = makeMemoryStore(
      (scope, id) => owner(refOf(counterKey(scope as "key", id))),
      () => NOW
    )
    for (const [id, admitted] of [
      ["a", byA],
      ["b", byB]
    ] as const) {
      const probe = Effect.runSync(
        store.admit({ subjects: [{ scope: "key", id, limits: limits({ requestsPerMinute: 40 }) }], tokens: 0 })
      )
      if (admitted < 40) expect(probe.headers.requests).toMatchObject({ limit: 40, remaining: 40 - admitted - 1 })
      else expect(probe._tag).toBe("Rejected")
    }
  })

  it("max_parallel holds across threads; the owner's repair gives back exactly a dead worker's share", async () => {
    const { allocator, refOf } = layout([counterKey("key", "k")])
    const ref = refOf(counterKey("key", "k"))
    const subject: HammerSubject = { scope: "key", ref, limits: limits({ maxParallel: 25 }) }
    const replies = await hammer(
      allocator,
      Array.from({ length: THREADS }, () => [subject]),
      20
    )
    expect(replies.reduce((n, r) => n + r.admitted, 0)).toBe(25)
    const owner = slotsAs(allocator)(ref)
    expect(parallelOf(owner)).toBe(25)
    for (const [w, r] of replies.entries()) expect(holdingsOf(allocator, w, ref.slot)[HOLD_IN_FLIGHT]).toBe(r.admitted)
    allocator.repair(1)
    expect(parallelOf(owner)).toBe(25 - replies[1]!.admitted)
  })
})
