/**
 * A worker thread for test/unit/usage/UsagePath.test.ts: records `count` usage records through a
 * worker's UsageSink (the sender Worker.ts gives the request path), posting them to the owner over
 * the protocol's `UsageRecords` message; on `Drain` it closes the sender's scope (posting what is
 * left, as a worker does after its requests finished) and answers `Drained`.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { parentPort, workerData } from "node:worker_threads"
import type { FromWorker, ToWorker } from "../../src/cluster/Protocol.ts"
import { makeUsageSender } from "../../src/usage/UsageSink.ts"
import { record } from "../unit/usage/usageFixtures.ts"

const owner = parentPort
const { index, count, flushIntervalMs } = workerData as {
  readonly index: number
  readonly count: number
  readonly flushIntervalMs: number
}
if (owner !== null) {
  const post = (message: FromWorker) => owner.postMessage(message)
  const scope = Effect.runSync(Scope.make())
  const sink = Effect.runSync(
    makeUsageSender((records) => post({ _tag: "UsageRecords", records }), { flushIntervalMs }).pipe(
      Scope.provide(scope)
    )
  )
  owner.on("message", (message: ToWorker) => {
    if (message._tag !== "Drain") return
    void Effect.runPromise(Scope.close(scope, Exit.void)).then(() => post({ _tag: "Drained" }))
  })
  for (let i = 0; i < count; i++) sink.record(record(index * 1_000_000 + i, { key_id: `key-${index}` }))
  post({ _tag: "Ready", port: 0 })
}
