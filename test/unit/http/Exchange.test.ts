// The stall watchdog (server.stall_timeout): it fires once a chunk has waited for the client the
// whole stall time, never while the client keeps taking data, and costs one timer per stream.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { makeStallWatchdog } from "../../../src/http/Exchange.ts"

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
