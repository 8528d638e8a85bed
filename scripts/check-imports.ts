/**
 * src/ touches no runtime global (`process`, `Bun`, `Deno`): the core speaks Web standards and
 * Effect's abstract services only. tsconfig.src.json compiles src/ without any runtime's types as
 * well; this also catches what a local `declare` would hide from the compiler. The direction of
 * imports (no Node/Bun module, platform package, runtime or package barrel in src/, the layers of
 * src/, runtimes apart) is dependency-cruiser's: `npm run check:deps`, .dependency-cruiser.cjs.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname

const files = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : []
  })

const FORBIDDEN_GLOBAL = /(?<![.\w])(process|Bun|Deno)\s*\./

const problems: Array<string> = []
for (const file of files(join(root, "src"))) {
  const text = readFileSync(file, "utf8")
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "")
  const g = FORBIDDEN_GLOBAL.exec(code)
  if (g) problems.push(`${relative(root, file)}: uses the runtime global "${g[1]}"`)
}
if (problems.length > 0) {
  console.error(`Runtime globals in src/:\n${problems.join("\n")}`)
  process.exit(1)
}
console.log("imports: src/ uses no runtime global")
