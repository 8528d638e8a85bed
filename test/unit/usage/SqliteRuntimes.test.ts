/**
 * The SQLite usage store over Bun's `bun:sqlite` and over Deno's `node:sqlite` (and Node's, the
 * same script under Node as a control), each in its own process (test/support/usageSqliteCheck.ts):
 * what each stored and answered must equal the reference computed from the records.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { record } from "./usageFixtures.ts"
import { expectedSeries, fixtures, normalize, queries } from "./usageFixtures.ts"
import type { UsageSeriesPoint } from "../../../src/domain/UsageSeries.ts"

const script = new URL("../../support/usageSqliteCheck.ts", import.meta.url).pathname
const bin = (name: string) => new URL(`../../../node_modules/.bin/${name}`, import.meta.url).pathname

const commands: Record<string, (path: string) => { readonly file: string; readonly args: ReadonlyArray<string> }> = {
  "bun (bun:sqlite)": (path) => ({ file: bin("bun"), args: [script, "bun", path] }),
  "deno (node:sqlite)": (path) => ({
    file: bin("deno"),
    args: ["run", "--allow-read", "--allow-write", script, "node", path]
  }),
  "node (node:sqlite)": (path) => ({ file: process.execPath, args: [script, "node", path] })
}

describe("SQLite usage store on each runtime's driver", () => {
  for (const [name, command] of Object.entries(commands)) {
    it(name, (ctx) => {
      const dir = mkdtempSync(join(tmpdir(), "llmgate-usage-rt-"))
      ctx.onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
      const { file, args } = command(join(dir, "usage.sqlite"))
      const output = execFileSync(file, args, {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: "1" }
      })
      const result = JSON.parse(output.trim().split("\n").at(-1) ?? "") as {
        inserted: ReadonlyArray<number>
        series: ReadonlyArray<ReadonlyArray<UsageSeriesPoint>>
        raw: Record<string, number>
        rollup: Record<string, number>
      }
      const records = fixtures()
      expect(result.inserted).toEqual([3, 0, 150, records.length - 150])
      const all = [record(1), record(2), record(3), ...records]
      queries().forEach((query, i) => {
        expect(normalize(result.series[i] ?? []), JSON.stringify(query)).toEqual(expectedSeries(all, query))
      })
      expect(result.raw).toEqual(result.rollup)
      expect(result.raw["requests"]).toBe(all.length)
    }, 90_000)
  }
})
