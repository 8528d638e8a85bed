// Counter slots for keys and projects: one slot per id, the same memory for every worker, kept
// across reloads while the id exists, fresh for a new id, reused only after every worker moved on.
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { hashKey } from "../../../src/auth/KeyMaterial.ts"
import type { ResolvedConfig } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { counterKey, counterSlotSpecs } from "../../../src/limits/CounterSlots.ts"
import { workerHolder } from "../../../src/state/SharedLock.ts"
import { type Assignment, makeSlotAllocator } from "../../../src/state/SlotAllocator.ts"
import { FIRST_FLOAT, makeSlotSpace, type SlotSpace } from "../../../src/state/Slots.ts"

const configWith = (keys: ReadonlyArray<string>): ResolvedConfig => {
  const text = `providers: [{ name: m, kind: mock }]
models: [{ name: chat, targets: [{ provider: m }] }]
projects: [{ id: p1, name: One }, { id: p2, name: Two }]
keys:
${keys.map((id) => `  - { id: ${id}, name: ${id}, prefix: sk-lg-${id}, hash: "${hashKey(id)}", project_id: p1 }`).join("\n")}
`
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

const refOf = (layout: ReadonlyArray<Assignment>, key: string) => layout.find((a) => a.key === key)?.refs[0]

/** A worker's view of the allocator's pages. */
const workerSpace = (allocator: ReturnType<typeof makeSlotAllocator>, index: number): SlotSpace => {
  const space = makeSlotSpace(workerHolder(index))
  for (const [i, p] of allocator.pages().entries()) space.addPage(i, p.slots, p.holdings[index]!)
  return space
}

describe("counter slots", () => {
  it("gives every key and project one slot, the same memory for every worker", () => {
    const allocator = makeSlotAllocator(2)
    const layout = allocator.assign(counterSlotSpecs(configWith(["k1", "k2"])), 1, () => false)
    const keys = ["key:k1", "key:k2", "project:p1", "project:p2"].map((k) => {
      const [scope, id] = k.split(":") as ["key" | "project", string]
      return counterKey(scope, id)
    })
    const refs = keys.map((k) => refOf(layout, k))
    for (const r of refs) expect(r).toBeDefined()
    expect(new Set(refs.map((r) => r!.slot)).size).toBe(4)
    const [a, b] = [workerSpace(allocator, 0), workerSpace(allocator, 1)]
    const one = a.slot(refs[0]!)
    const two = b.slot(refs[0]!)
    one.f64[one.fat + FIRST_FLOAT] = 42
    expect(two.f64[two.fat + FIRST_FLOAT]).toBe(42)
  })

  it("keeps a key's slot and counts across reloads; a new key gets a fresh slot; a deleted key's slot waits for every worker", () => {
    const allocator = makeSlotAllocator(2)
    const v1 = allocator.assign(counterSlotSpecs(configWith(["k1", "k2"])), 1, () => false)
    const space = workerSpace(allocator, 0)
    const k1 = refOf(v1, counterKey("key", "k1"))!
    const k2 = refOf(v1, counterKey("key", "k2"))!
    const s1 = space.slot(k1)
    s1.f64[s1.fat + FIRST_FLOAT] = 7

    // v2 deletes k2 and adds k3: k1 keeps its slot and its count; k3 does not get k2's slot yet.
    const v2 = allocator.assign(counterSlotSpecs(configWith(["k1", "k3"])), 2, () => false)
    expect(refOf(v2, counterKey("key", "k1"))).toEqual(k1)
    expect(space.slot(refOf(v2, counterKey("key", "k1"))!).f64[s1.fat + FIRST_FLOAT]).toBe(7)
    expect(refOf(v2, counterKey("key", "k2"))).toBeUndefined()
    const k3 = refOf(v2, counterKey("key", "k3"))!
    expect(k3.slot).not.toBe(k2.slot)

    // Once every worker serves v2, k2's slot is reused, zeroed and under a new generation.
    allocator.acknowledged(2)
    const v3 = allocator.assign(counterSlotSpecs(configWith(["k1", "k3", "k4"])), 3, () => false)
    const k4 = refOf(v3, counterKey("key", "k4"))!
    expect(k4.slot).toBe(k2.slot)
    expect(k4.gen).not.toBe(k2.gen)
    const s4 = space.slot(k4)
    expect(s4.f64[s4.fat + FIRST_FLOAT]).toBe(0)
  })
})
