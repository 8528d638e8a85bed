// A 20-second smoke of the soak (issue 10, item 7; the real runs are `npm run soak -- --minutes N`):
// the same code (test/soak/soak.ts) against the gateway on this project's runtime, with the mixed
// traffic's cadence compressed (an admin write every second, a reload every 3 s, a file edit every
// 4 s) and samples every 2 s. Twenty seconds are inside the runtimes' heap warm-up, so the memory
// bound here only catches a gross leak; open descriptors, and every request's outcome (no 500 made
// by the gateway, no lost connection, nothing hung), are held as in the long runs.
import { describe, expect, it } from "vitest"
import { report, runSoak } from "../soak/soak.ts"
import { runtime, store } from "./harness.ts"

describe.skipIf(store === "postgres")(
  `[${runtime}] soak smoke (skipped in the Postgres project: file mode only, run in the file projects)`,
  () => {
    it("20 s of mixed traffic: every request ends as expected, memory and descriptors within bounds", async () => {
      const result = await runSoak({
        runtime,
        durationMs: 20_000,
        sampleEveryMs: 2_000,
        warmupMs: 8_000,
        bounds: { rssSlopeMiBPerMin: 1_500, heapSlopeMiBPerMin: 300, fdMargin: 24 },
        clients: 6,
        workers: 2,
        cadence: { adminEveryMs: 1_000, reloadEveryMs: 3_000, editEveryMs: 4_000 },
        requestTimeoutMs: 15_000
      })
      const text = report(result)
      expect(result.tally.unexpected, text).toEqual([])
      const outcomes = [...result.tally.counts.values()].flatMap((m) => [...m.keys()])
      expect(
        outcomes.filter((o) => o.startsWith("500") && o !== "500 provider_error"),
        "500s made by the gateway"
      ).toEqual([])
      expect(
        outcomes.filter((o) => o === "timeout" || o === "socket"),
        "hung or lost requests"
      ).toEqual([])
      for (const kind of ["json", "stream", "cancel", "flaky", "glob", "admin", "reload", "edit"] as const) {
        expect(result.tally.count(kind), `${kind} requests`).toBeGreaterThan(0)
      }
      expect(result.tally.count("cancel", "cancelled"), "streams abandoned mid-way").toBeGreaterThan(0)
      expect(result.failures, text).toEqual([])
      expect(result.pass).toBe(true)
      expect(result.gatewayExit, "the gateway stopped cleanly on SIGTERM").toBe(0)
    }, 60_000)
  }
)
