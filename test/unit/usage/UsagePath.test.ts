/**
 * Usage records end to end, off the request path: worker threads record through their UsageSink,
 * which posts `UsageRecords` to the owner over the protocol (structured clone between real
 * threads); the owner's UsageWriter buffers and writes them in batches to the SQLite store; a
 * drain (the worker posts its last records before `Drained`) and the writer's scope closing
 * (its final flush) leave every record stored once.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Worker } from "node:worker_threads"
import { expect, it } from "vitest"
import { nodeSqlite } from "../../../runtimes/common/NodeSqlite.ts"
import type { FromWorker } from "../../../src/cluster/Protocol.ts"
import * as SqliteUsageStore from "../../../src/usage/SqliteUsageStore.ts"
import { lazyStore } from "../../../src/usage/UsageStore.ts"
import * as UsageWriter from "../../../src/usage/UsageWriter.ts"
import { T0 } from "./usageFixtures.ts"

const WORKERS = 2
const PER_WORKER = 1000

it("records from worker threads reach the owner's writer and the store, each once, the last ones at drain", async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-usage-path-"))
  ctx.onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "gateway.yaml.usage.sqlite")
  const scope = await Effect.runPromise(Scope.make())
  const writer = await Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* lazyStore(`sqlite ${path}`, SqliteUsageStore.open(nodeSqlite, path))
      return yield* UsageWriter.make(store, {
        bufferLimit: 100_000,
        flushIntervalMs: 50,
        batchSize: 300,
        shutdownTimeoutMs: 5000
      })
    }).pipe(Scope.provide(scope))
  )

  const workers = Array.from({ length: WORKERS }, (_, index) => {
    const worker = new Worker(new URL("../../support/usageWorker.ts", import.meta.url), {
      // The timer never fires here: what is left after the full batches arrives only through the drain.
      workerData: { index, count: PER_WORKER, flushIntervalMs: 60_000 }
    })
    ctx.onTestFinished(() => worker.terminate().then(() => undefined))
    const ready = Promise.withResolvers<void>()
    const drained = Promise.withResolvers<void>()
    worker.on("message", (message: FromWorker) => {
      // What the owner does with each (cluster/Owner.ts).
      if (message._tag === "UsageRecords") writer.offer(message.records)
      else if (message._tag === "Ready") ready.resolve()
      else if (message._tag === "Drained") drained.resolve()
    })
    worker.on("error", (e) => ready.reject(e))
    return { worker, ready: ready.promise, drained: drained.promise }
  })
  await Promise.all(workers.map((w) => w.ready))
  // Full batches (256 records per post) were posted at once and written in the writer's batches.
  await new Promise((resolve) => setTimeout(resolve, 300))
  expect(writer.stats().written).toBe(WORKERS * 3 * 256)

  // Drain: each worker posts what it still holds before `Drained`; then the writer's scope closes.
  for (const w of workers) w.worker.postMessage({ _tag: "Drain" })
  await Promise.all(workers.map((w) => w.drained))
  await Effect.runPromise(Scope.close(scope, Exit.void))
  expect(writer.stats()).toMatchObject({ buffered: 0, written: WORKERS * PER_WORKER, duplicates: 0, dropped: 0 })

  const points = await Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(SqliteUsageStore.open(nodeSqlite, path), (store) =>
        store.series({ group_by: "key", interval: "day", from: T0, to: T0 + 30 * 86_400_000 })
      )
    )
  )
  // Worker i's records start i × 10⁶ s after T0 (days apart): summed per key over their day buckets.
  const byKey = new Map<string | null, number>()
  for (const p of points) byKey.set(p.group, (byKey.get(p.group) ?? 0) + p.requests)
  expect([...byKey]).toEqual(Array.from({ length: WORKERS }, (_, i) => [`key-${i}`, PER_WORKER]))
}, 30_000)
