// Each runtime's Dockerfile copies every file its entries load: the owner's entry (main.ts), the
// worker threads' entry (worker.ts), and everything they import, plus the migrations and the spec
// that the gateway reads at run time. No Docker engine runs here, so this is what keeps the images
// from missing a file.
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { ROOT } from "../../contract/gateway.ts"

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|<reference path="([^"]+)"/g

/** Every repository file reachable from `entries` through relative imports. */
const closure = (entries: ReadonlyArray<string>): Set<string> => {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    if (!file.endsWith(".ts")) return
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? ""
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec))
    }
  }
  for (const e of entries) visit(join(ROOT, e))
  return seen
}

/** The repository paths a Dockerfile copies (`COPY src ./src` → `src`). */
const copied = (dockerfile: string): ReadonlyArray<string> =>
  readFileSync(join(ROOT, dockerfile), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("COPY "))
    .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1))

describe.each(["node", "bun", "deno"])("docker/Dockerfile.%s", (runtime) => {
  it("copies every file the owner's and the workers' entries load, the migrations and the spec", () => {
    const paths = copied(`docker/Dockerfile.${runtime}`)
    const files = closure([`runtimes/${runtime}/main.ts`, `runtimes/${runtime}/worker.ts`])
    expect(files.size).toBeGreaterThan(50)
    const missing = [...files]
      .map((f) => relative(ROOT, f))
      .filter((f) => !paths.some((p) => f === p || f.startsWith(`${p}/`)))
    expect(missing).toEqual([])
    for (const needed of ["migrations", "spec", "package.json"]) expect(paths, needed).toContain(needed)
    expect(existsSync(join(ROOT, "migrations"))).toBe(true)
  })
})
