// The stall watchdog (server.stall_timeout): it fires once a chunk has waited for the client the
// whole stall time, never while the client keeps taking data, and costs one timer per stream. And
// the streamed request body's bound (`uploadReader`), which every runtime's server port uses.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { ChunkReader } from "../../../src/domain/ChunkReader.ts"
import { GatewayError } from "../../../src/domain/GatewayError.ts"
import { makeStallWatchdog, UNREADABLE, uploadReader } from "../../../src/http/Exchange.ts"

describe("makeStallWatchdog", () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("fires once when a chunk waits for the stall time", () => {
    const onStall = vi.fn()
    const w = makeStallWatchdog(1_000, onStall)
    w.waiting()
    vi.advanceTimersByTime(999)
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onStall).toHaveBeenCalledTimes(1)
    // Watching is over: nothing more fires, whatever follows.
    w.waiting()
    vi.advanceTimersByTime(5_000)
    expect(onStall).toHaveBeenCalledTimes(1)
  })

  it("never fires while the client keeps taking chunks, however long the stream", () => {
    const onStall = vi.fn()
    const w = makeStallWatchdog(1_000, onStall)
    for (let i = 0; i < 100; i++) {
      w.waiting()
      vi.advanceTimersByTime(600)
      w.taken()
    }
    expect(onStall).not.toHaveBeenCalled()
  })

  it("counts a wait from when it began, not from when the timer was armed", () => {
    const onStall = vi.fn()
    const w = makeStallWatchdog(1_000, onStall)
    w.waiting()
    vi.advanceTimersByTime(900)
    w.taken()
    // A new wait starts at 900 ms: the timer (armed at 0) finds it 100 ms old and waits on.
    w.waiting()
    vi.advanceTimersByTime(100)
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(899)
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onStall).toHaveBeenCalledTimes(1)
  })

  it("does not count time in which nothing waits for the client (the upstream is slow)", () => {
    const onStall = vi.fn()
    const w = makeStallWatchdog(1_000, onStall)
    w.waiting()
    w.taken()
    vi.advanceTimersByTime(10_000)
    w.waiting()
    vi.advanceTimersByTime(500)
    expect(onStall).not.toHaveBeenCalled()
  })

  it("keeps at most one timer per stream, and none once stopped", () => {
    const w = makeStallWatchdog(1_000, () => {})
    for (let i = 0; i < 50; i++) {
      w.waiting()
      w.taken()
    }
    expect(vi.getTimerCount()).toBe(1)
    w.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it("stopped (the answer ended), or with a stall time of 0, it never fires", () => {
    const stopped = vi.fn()
    const w = makeStallWatchdog(1_000, stopped)
    w.waiting()
    w.stop()
    const off = vi.fn()
    const o = makeStallWatchdog(0, off)
    o.waiting()
    vi.advanceTimersByTime(60_000)
    expect(stopped).not.toHaveBeenCalled()
    expect(off).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe("uploadReader: a streamed request body, bounded as it flows", () => {
  const enc = new TextEncoder()
  const raw = (chunks: ReadonlyArray<string>, failWith?: unknown) => {
    let i = 0
    const state = { opened: false, cancelled: false }
    const open = (): ChunkReader => {
      state.opened = true
      return {
        read: () =>
          i < chunks.length
            ? Promise.resolve(enc.encode(chunks[i++]!))
            : failWith === undefined
              ? Promise.resolve(undefined)
              : Promise.reject(failWith),
        cancel: () => {
          state.cancelled = true
        }
      }
    }
    return { open, state }
  }

  it("a declared content-length over the limit is refused at once, the body never opened", () => {
    const { open, state } = raw(["x"])
    const exit = Effect.runSyncExit(uploadReader("11", 10, open))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/BodyTooLarge/)
    expect(state.opened).toBe(false)
  })

  it("within the limit every chunk passes and the end is said once; past it the read rejects and the body is let go", async () => {
    const ends: Array<number> = []
    const fits = Effect.runSync(uploadReader(undefined, 4, raw(["ab", "cd"]).open, () => ends.push(1)))
    expect(await fits.read()).toEqual(enc.encode("ab"))
    expect(await fits.read()).toEqual(enc.encode("cd"))
    expect(await fits.read()).toBeUndefined()
    expect(ends).toEqual([1])
    const { open, state } = raw(["ab", "cde"])
    const over = Effect.runSync(uploadReader(undefined, 4, open))
    await over.read()
    const error = await over.read().then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).reason).toEqual({ _tag: "BodyTooLarge", limit: 4 })
    expect(state.cancelled).toBe(true)
  })

  it("a body that breaks (the client gone) rejects with UNREADABLE; none at all reads as empty", async () => {
    const broken = Effect.runSync(uploadReader(undefined, 100, raw(["ab"], new Error("ECONNRESET")).open))
    await broken.read()
    await expect(broken.read()).rejects.toBe(UNREADABLE)
    const ends: Array<number> = []
    const none = Effect.runSync(uploadReader("0", 100, undefined, () => ends.push(1)))
    expect(await none.read()).toBeUndefined()
    expect(ends).toEqual([1])
  })
})
