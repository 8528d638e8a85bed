// Deno's permission flags live in one place (runtimes/deno/flags.ts); everything that starts llmgate
// on Deno must use exactly those: `npm run start:deno`, the Dockerfile, and the contract harness.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { DENO_RUN_FLAGS } from "../../../runtimes/deno/flags.ts"
import { ROOT, runtimeCommand } from "../../contract/gateway.ts"

/** The flags between `run` and the entry in a `deno run … runtimes/deno/main.ts` command line. */
const flagsOf = (words: ReadonlyArray<string>): ReadonlyArray<string> => {
  const run = words.indexOf("run")
  const entry = words.findIndex((w) => w.endsWith("runtimes/deno/main.ts"))
  expect(run, `"run" in ${words.join(" ")}`).toBeGreaterThanOrEqual(0)
  expect(entry, `the entry in ${words.join(" ")}`).toBeGreaterThan(run)
  return words.slice(run + 1, entry)
}

describe("Deno flags", () => {
  it("npm run start:deno passes exactly runtimes/deno/flags.ts", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
    expect(flagsOf(pkg.scripts["start:deno"]!.split(/\s+/))).toEqual(DENO_RUN_FLAGS)
  })

  it("the Deno Dockerfile's CMD passes exactly runtimes/deno/flags.ts", () => {
    const cmd = readFileSync(join(ROOT, "docker/Dockerfile.deno"), "utf8")
      .split("\n")
      .find((l) => l.startsWith("CMD "))
    expect(cmd).toBeDefined()
    expect(flagsOf(JSON.parse(cmd!.slice(4)) as Array<string>)).toEqual(DENO_RUN_FLAGS)
  })

  it("the contract harness starts Deno with exactly runtimes/deno/flags.ts", () => {
    const [, args] = runtimeCommand("deno", ["--port", "1"])
    expect(flagsOf(args)).toEqual(DENO_RUN_FLAGS)
  })

  it("includes what the worker threads need: reusePort (--unstable-net) and nothing to spawn processes", () => {
    expect(DENO_RUN_FLAGS).toContain("--unstable-net")
    expect(DENO_RUN_FLAGS).not.toContain("--allow-run")
    expect(DENO_RUN_FLAGS).not.toContain("--allow-all")
  })
})
