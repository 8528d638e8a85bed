/**
 * The owner's usage writer on a fake store, on the TestClock: batches by size and interval, keeps
 * records through an outage and writes each once after it, counts what overflows the buffer,
 * flushes when its scope closes (bounded by the shutdown timeout); and a worker's sender, which
 * posts batches by size, by interval and when its scope closes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import { TestClock } from "effect/testing"
import { storeError } from "../../../src/domain/StoreError.ts"
import type { UsageRecord } from "../../../src/domain/Usage.ts"
import { tokenPrice } from "../../../src/usage/Cost.ts"
import type { Recount, RecountableRecord } from "../../../src/usage/Recount.ts"
import { TokenCountError, type TokenCounterShape } from "../../../src/usage/TokenizerThread.ts"
import type { UsageStoreShape } from "../../../src/domain/UsageSeries.ts"
import { makeUsageSender } from "../../../src/usage/UsageSink.ts"
import { lazyStore } from "../../../src/usage/UsageStore.ts"
import * as UsageWriter from "../../../src/usage/UsageWriter.ts"
import { captureLogs } from "../../support/logs.ts"
import { record } from "./usageStoreSuite.ts"

type Mode = "up" | "down" | "commit-then-fail"

/** A store in memory that can be down, or commit a batch and then report a failure (a timeout after commit). */
const fakeStore = () => {
  const rows = new Map<string, UsageRecord>()
  const calls: Array<number> = []
  const state = { mode: "up" as Mode }
  const store: UsageStoreShape = {
    description: "fake",
    spend: () => Effect.succeed(new Map()),
    writeBatch: (records) =>
      Effect.suspend(() => {
        calls.push(records.length)
        if (state.mode === "down")
          return Effect.fail(storeError({ _tag: "Unreachable", message: "connection refused" }))
        let inserted = 0
        for (const r of records) {
          if (rows.has(r.request_id)) continue
          rows.set(r.request_id, r)
          inserted++
        }
        if (state.mode === "commit-then-fail") {
          state.mode = "up"
          return Effect.fail(storeError({ _tag: "Query", message: "statement timeout (after commit)" }))
        }
        return Effect.succeed(inserted)
      }),
    series: () => Effect.succeed([])
  }
  return { store, rows, calls, state }
}

const records = (from: number, count: number) => Array.from({ length: count }, (_, i) => record(from + i))

const settings = (overrides: Partial<UsageWriter.UsageWriterSettings> = {}): UsageWriter.UsageWriterSettings => ({
  bufferLimit: 1000,
  flushIntervalMs: 1000,
  batchSize: 4,
  shutdownTimeoutMs: 5000,
  ...overrides
})

/** Lets forked fibers run what is due without moving the clock. */
const settle = Effect.andThen(TestClock.adjust(0), Effect.yieldNow)

describe("UsageWriter", () => {
  it.effect("writes a partial batch when the interval ends and a full batch at once, in batches of batch_size", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const fake = fakeStore()
        const writer = yield* UsageWriter.make(fake.store, settings())
        writer.offer(records(0, 2))
        yield* settle
        assert.deepStrictEqual(fake.calls, [])
        yield* TestClock.adjust(1000)
        assert.deepStrictEqual(fake.calls, [2])

        writer.offer(records(10, 10))
        yield* settle
        assert.deepStrictEqual(fake.calls, [2, 4, 4, 2])
        assert.deepStrictEqual(writer.stats(), {
          buffered: 0,
          written: 12,
          duplicates: 0,
          dropped: 0,
          failures: 0,
          recounting: 0,
          recounted: 0,
          uncounted: 0
        })
      })
    )
  )

  it.effect(
    "keeps the records while the store is down, retries with backoff, and writes each once when it is back",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = fakeStore()
          fake.state.mode = "down"
          const writer = yield* UsageWriter.make(fake.store, settings())
          writer.offer(records(0, 3))
          yield* TestClock.adjust(1000)
          assert.strictEqual(writer.stats().failures, 1)
          yield* TestClock.adjust(1000) // first backoff: the interval
          assert.strictEqual(writer.stats().failures, 2)
          writer.offer(records(3, 2)) // records keep arriving behind the failing batch
          yield* TestClock.adjust(1999) // second backoff: twice the interval
          assert.strictEqual(writer.stats().failures, 2)
          assert.strictEqual(writer.stats().buffered, 5)
          assert.strictEqual(fake.rows.size, 0)

          fake.state.mode = "up"
          yield* TestClock.adjust(1)
          assert.deepStrictEqual(writer.stats(), {
            buffered: 0,
            written: 5,
            duplicates: 0,
            dropped: 0,
            failures: 2,
            recounting: 0,
            recounted: 0,
            uncounted: 0
          })
          assert.deepStrictEqual(
            [...fake.rows.keys()],
            records(0, 5).map((r) => r.request_id)
          )
        })
      )
  )

  it.effect("retries a batch whose write committed but reported a failure without counting it twice", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const fake = fakeStore()
        fake.state.mode = "commit-then-fail"
        const writer = yield* UsageWriter.make(fake.store, settings())
        writer.offer(records(0, 3))
        yield* TestClock.adjust(1000)
        yield* TestClock.adjust(1000)
        assert.deepStrictEqual(fake.calls, [3, 3])
        assert.strictEqual(fake.rows.size, 3)
        assert.deepStrictEqual(writer.stats(), {
          buffered: 0,
          written: 0,
          duplicates: 3,
          dropped: 0,
          failures: 1,
          recounting: 0,
          recounted: 0,
          uncounted: 0
        })
      })
    )
  )

  it.effect("drops what overflows the buffer, counts it and says so, never blocking the offer", () => {
    const { logs, loggers } = captureLogs()
    return Effect.scoped(
      Effect.gen(function* () {
        const fake = fakeStore()
        fake.state.mode = "down"
        const writer = yield* UsageWriter.make(fake.store, settings({ bufferLimit: 5, batchSize: 10 }))
        writer.offer(records(0, 3))
        writer.offer(records(3, 4))
        writer.offer(records(7, 1))
        assert.deepStrictEqual(writer.stats(), {
          buffered: 5,
          written: 0,
          duplicates: 0,
          dropped: 3,
          failures: 0,
          recounting: 0,
          recounted: 0,
          uncounted: 0
        })
        yield* TestClock.adjust(1000)
        assert.isTrue(
          logs.some((l) => l.includes("3 records dropped")),
          logs.join("\n")
        )
        fake.state.mode = "up"
        yield* TestClock.adjust(1000)
        assert.deepStrictEqual(
          [...fake.rows.keys()],
          records(0, 5).map((r) => r.request_id)
        )
      })
    ).pipe(Effect.provideService(Logger.CurrentLoggers, loggers))
  })

  it.effect("flushes what is buffered when its scope closes", () =>
    Effect.gen(function* () {
      const fake = fakeStore()
      const scope = yield* Scope.make()
      const writer = yield* UsageWriter.make(fake.store, settings({ flushIntervalMs: 60_000 })).pipe(
        Scope.provide(scope)
      )
      writer.offer(records(0, 3))
      yield* settle
      assert.strictEqual(fake.rows.size, 0)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(fake.rows.size, 3)
    })
  )

  it.effect("a store opened lazily, after the writer was built, stays open for the writer's last flush", () =>
    Effect.gen(function* () {
      const fake = fakeStore()
      const events: Array<string> = []
      let open = false
      // What the owner builds: the lazy store, then the writer on it, in one scope.
      const database: UsageStoreShape = {
        description: "database",
        spend: () => Effect.succeed(new Map()),
        writeBatch: (batch) =>
          open
            ? Effect.andThen(
                Effect.sync(() => events.push(`write ${batch.length}`)),
                fake.store.writeBatch(batch)
              )
            : Effect.fail(storeError({ _tag: "Unreachable", message: "database is not open" })),
        series: () => Effect.succeed([])
      }
      const opening = Effect.acquireRelease(
        Effect.sync(() => {
          open = true
          events.push("open")
          return database
        }),
        () =>
          Effect.sync(() => {
            open = false
            events.push("close")
          })
      )
      const scope = yield* Scope.make()
      const writer = yield* Effect.flatMap(lazyStore("lazy", opening), (store) =>
        UsageWriter.make(store, settings({ flushIntervalMs: 1000 }))
      ).pipe(Scope.provide(scope))
      // The first write opens the database, long after the writer was built.
      writer.offer(records(0, 1))
      yield* TestClock.adjust(1000)
      yield* settle
      writer.offer(records(1, 2))
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(events, ["open", "write 1", "write 2", "close"])
      assert.strictEqual(fake.rows.size, 3)
    })
  )

  /** A writer on a down store holding two records, and its scope closing in a fiber (timeout 5 s). */
  const closingWhileDown = Effect.gen(function* () {
    const fake = fakeStore()
    fake.state.mode = "down"
    const scope = yield* Scope.make()
    const writer = yield* UsageWriter.make(fake.store, settings({ shutdownTimeoutMs: 5000 })).pipe(Scope.provide(scope))
    writer.offer(records(0, 2))
    const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
    return { fake, closing }
  })

  it.effect("at shutdown retries a down store for at most the shutdown timeout, then gives up", () =>
    Effect.gen(function* () {
      const { fake, closing } = yield* closingWhileDown
      yield* TestClock.adjust(4999)
      assert.isUndefined(closing.pollUnsafe())
      yield* TestClock.adjust(1)
      yield* Fiber.join(closing)
      assert.strictEqual(fake.rows.size, 0)
      assert.isTrue(fake.calls.length >= 3)
    })
  )

  it.effect("at shutdown writes once the store is back within the timeout", () =>
    Effect.gen(function* () {
      const { fake, closing } = yield* closingWhileDown
      yield* TestClock.adjust(1500)
      fake.state.mode = "up"
      yield* TestClock.adjust(3000)
      yield* Fiber.join(closing)
      assert.strictEqual(fake.rows.size, 2)
    })
  )

  it("backs off from the interval, doubling, up to 30 s", () => {
    assert.deepStrictEqual(
      [1, 2, 3, 4].map((n) => UsageWriter.retryBackoffMs(1000, n)),
      [1000, 2000, 4000, 8000]
    )
    assert.strictEqual(UsageWriter.retryBackoffMs(1000, 20), UsageWriter.MAX_RETRY_BACKOFF_MS)
  })

  it("gives record ids that are distinct UUIDv7s of the current time, across pool refills", () => {
    const next = UsageWriter.recordIds()
    const before = Date.now()
    const ids = Array.from({ length: 1000 }, next)
    const after = Date.now()
    assert.strictEqual(new Set(ids).size, ids.length)
    for (const id of ids) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const ms = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)
      assert.isTrue(ms >= before && ms <= after, `${id}: ${ms} not in [${before}, ${after}]`)
    }
  })
})

/** A recount of `input` and `output` texts (nothing fixed), at $1 / $2 per million tokens. */
const recountOf = (input: string, output: string): Recount => ({
  encoding: "cl100k_base",
  input: { fixed: 3, texts: [input], events: [] },
  output: { fixed: 0, texts: [output], events: [] },
  price: tokenPrice({ input: 1, cache_read: 0, cache_write: 0, reasoning: 0, output: 2 })
})
const estimatedRecord = (i: number, recount: Recount): RecountableRecord => ({
  ...record(i),
  tokens: { input: 99, cache_read: 0, cache_write: 0, reasoning: 0, output: 99 },
  estimated: true,
  recount
})

/** A token counter that answers each text's length in words, or fails, or never answers. */
const fakeCounter = () => {
  const state = { mode: "up" as "up" | "down" | "hang", batches: [] as Array<number> }
  const words = (t: string) => t.split(" ").length
  const counter: TokenCounterShape = {
    count: (recounts) =>
      Effect.suspend(() => {
        state.batches.push(recounts.length)
        if (state.mode === "down") return Effect.fail(new TokenCountError({ message: "cannot load" }))
        if (state.mode === "hang") return Effect.never
        return Effect.succeed(
          recounts.map((r) => [words(r.input.texts.join(" ")), words(r.output.texts.join(" "))] as const)
        )
      })
  }
  return { counter, state }
}

describe("UsageWriter: estimated records counted again (the tokenizer thread)", () => {
  it.effect("recounts and reprices estimated records; reported ones are written without waiting for it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const fake = fakeStore()
        const tokens = fakeCounter()
        const writer = yield* UsageWriter.make(fake.store, settings(), tokens.counter)
        writer.offer([record(0), estimatedRecord(1, recountOf("one two three", "four five")), record(2)])
        yield* settle
        assert.strictEqual(writer.stats().recounted, 1)
        yield* TestClock.adjust(1000)
        const row = fake.rows.get(record(1).request_id)
        // 3 fixed + 3 words in, 2 words out; $1 and $2 per million tokens.
        assert.deepStrictEqual(row?.tokens, { input: 6, cache_read: 0, cache_write: 0, reasoning: 0, output: 2 })
        assert.strictEqual(row?.cost_usd, 1e-5)
        assert.strictEqual(row?.estimated, true)
        assert.notProperty(row, "recount")
        assert.strictEqual(fake.rows.get(record(0).request_id)?.estimated, false)
        assert.deepStrictEqual(tokens.state.batches, [1])
        assert.strictEqual(writer.stats().written, 3)
      })
    )
  )

  it.effect("recounts in batches bounded in records and characters", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const fake = fakeStore()
        const tokens = fakeCounter()
        const writer = yield* UsageWriter.make(fake.store, settings({ batchSize: 1000 }), tokens.counter)
        const big = "x".repeat(UsageWriter.RECOUNT_BATCH_CHARS / 2)
        writer.offer(Array.from({ length: 3 }, (_, i) => estimatedRecord(i, recountOf(big, "y"))))
        writer.offer(Array.from({ length: 300 }, (_, i) => estimatedRecord(10 + i, recountOf("a", "b"))))
        yield* settle
        // A batch holds at most RECOUNT_BATCH_CHARS (two big texts do not fit one) and 256 records.
        assert.deepStrictEqual(tokens.state.batches, [1, 1, 256, 45])
        yield* TestClock.adjust(1000)
        assert.strictEqual(fake.rows.size, 303)
      })
    )
  )

  it.effect("a batch the tokenizer fails keeps its character estimates (still estimated), never lost", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const fake = fakeStore()
        const tokens = fakeCounter()
        tokens.state.mode = "down"
        const writer = yield* UsageWriter.make(fake.store, settings(), tokens.counter)
        writer.offer([estimatedRecord(0, recountOf("a b", "c"))])
        yield* TestClock.adjust(1000)
        const row = fake.rows.get(record(0).request_id)
        assert.deepStrictEqual(row?.tokens, { input: 99, cache_read: 0, cache_write: 0, reasoning: 0, output: 99 })
        assert.strictEqual(row?.estimated, true)
        assert.notProperty(row, "recount")
        assert.include(writer.stats(), { recounted: 0, uncounted: 1, written: 1 })
      })
    )
  )

  it.effect(
    "bounds the text waiting for a recount: past it, records keep their estimates at once (and it says so)",
    () => {
      const { logs, loggers } = captureLogs()
      return Effect.scoped(
        Effect.gen(function* () {
          const fake = fakeStore()
          const tokens = fakeCounter()
          tokens.state.mode = "hang"
          const writer = yield* UsageWriter.make(fake.store, settings({ recountLimitChars: 10 }), tokens.counter)
          writer.offer([estimatedRecord(0, recountOf("12345", "678"))]) // 8 characters: waits
          writer.offer([estimatedRecord(1, recountOf("12345", "678"))]) // 16 would pass 10: kept as estimated
          assert.include(writer.stats(), { recounting: 1, uncounted: 1, buffered: 2 })
          yield* TestClock.adjust(1000)
          assert.isTrue(fake.rows.has(record(1).request_id))
          assert.isFalse(fake.rows.has(record(0).request_id))
          assert.isTrue(
            logs.some((l) => l.includes("1 estimated records kept their character counts")),
            logs.join("\n")
          )
          // The tokenizer answers again: the writer's last flush recounts the record still waiting.
          tokens.state.mode = "up"
        })
      ).pipe(Effect.provideService(Logger.CurrentLoggers, loggers))
    }
  )

  it.effect("at shutdown waits for a hung tokenizer only briefly, then writes the character estimates", () =>
    Effect.gen(function* () {
      const fake = fakeStore()
      const tokens = fakeCounter()
      tokens.state.mode = "hang"
      const scope = yield* Scope.make()
      const writer = yield* UsageWriter.make(fake.store, settings({ shutdownTimeoutMs: 4000 }), tokens.counter).pipe(
        Scope.provide(scope)
      )
      writer.offer([estimatedRecord(0, recountOf("a", "b")), record(1)])
      yield* settle
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* TestClock.adjust(1999)
      assert.isUndefined(closing.pollUnsafe())
      // Half the shutdown timeout (under RECOUNT_SHUTDOWN_MS), then the estimates are written.
      yield* TestClock.adjust(1)
      yield* Fiber.join(closing)
      assert.strictEqual(fake.rows.size, 2)
      assert.deepStrictEqual(fake.rows.get(record(0).request_id)?.tokens.input, 99)
    })
  )
})

describe("makeUsageSender (a worker's UsageSink)", () => {
  it.effect(
    "posts a full batch at once, a partial one when the interval ends, and the rest when its scope closes",
    () =>
      Effect.gen(function* () {
        const posted: Array<ReadonlyArray<UsageRecord>> = []
        const scope = yield* Scope.make()
        const sender = yield* makeUsageSender((batch) => posted.push(batch), {
          batchSize: 3,
          flushIntervalMs: 200
        }).pipe(Scope.provide(scope))
        for (const r of records(0, 4)) sender.record(r)
        assert.deepStrictEqual(
          posted.map((b) => b.length),
          [3]
        )
        yield* TestClock.adjust(200)
        assert.deepStrictEqual(
          posted.map((b) => b.length),
          [3, 1]
        )
        yield* TestClock.adjust(1000)
        assert.deepStrictEqual(
          posted.map((b) => b.length),
          [3, 1]
        )
        sender.record(record(9))
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual(
          posted.map((b) => b.length),
          [3, 1, 1]
        )
        assert.deepStrictEqual(
          posted.flat().map((r) => r.request_id),
          [...records(0, 4), record(9)].map((r) => r.request_id)
        )
      })
  )
})
