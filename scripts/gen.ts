// Code generation: spec/openapi.yaml -> src/generated/openapi.ts (openapi-typescript types) and
// src/generated/openapi.json (the spec as JSON, served at GET /openapi.json); package.json's
// `version` -> src/generated/version.ts (the core's one VERSION: src/ reads nothing outside src/).
//   node scripts/gen.ts           write the generated files
//   node scripts/gen.ts --check   regenerate in memory; exit 1 naming each file that is stale
// `generate` and `check` are exported for the staleness unit test.
import { readFile, mkdir, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import openapiTS, { astToString } from "openapi-typescript"
import { parse } from "yaml"

export interface GeneratedFile {
  /** Path relative to the project root, with `/` separators. */
  readonly path: string
  readonly content: string
}

const projectRoot = fileURLToPath(new URL("..", import.meta.url))

export const SPEC_PATH = "spec/openapi.yaml"
export const TYPES_PATH = "src/generated/openapi.ts"
export const JSON_PATH = "src/generated/openapi.json"
export const PACKAGE_PATH = "package.json"
export const VERSION_PATH = "src/generated/version.ts"

const header = (producedBy: string, change: string): string => `/**
 * GENERATED FILE, DO NOT EDIT. Produced by scripts/gen.ts${producedBy}.
 * ${change}, then run \`npm run gen\`; \`node scripts/gen.ts --check\` fails when this file is stale.
 */

`

/** Renders every generated file from the spec and package.json, in memory. */
export const generate = async (root: string = projectRoot): Promise<ReadonlyArray<GeneratedFile>> => {
  const specFile = join(root, SPEC_PATH)
  const source = await readFile(specFile, "utf8")
  const ast = await openapiTS(pathToFileURL(specFile), {
    // openapi-typescript 7 otherwise turns every field with a `default` into a required one.
    defaultNonNullable: false,
    silent: true
  })
  const types = header(` (openapi-typescript) from ${SPEC_PATH}`, "Change the spec") + astToString(ast)
  // JSON has no comments: the file is the plain spec so it can be served as it is.
  const json = `${JSON.stringify(parse(source), null, 2)}\n`
  const { version } = JSON.parse(await readFile(join(root, PACKAGE_PATH), "utf8")) as { readonly version: string }
  const versionModule =
    header(` from the \`version\` of ${PACKAGE_PATH}`, "Change the version there") +
    `/** The gateway's version (\`llmgate --version\`, the startup banner, GET /health). */\nexport const VERSION = ${JSON.stringify(version)}\n`
  return [
    { path: TYPES_PATH, content: types },
    { path: JSON_PATH, content: json },
    { path: VERSION_PATH, content: versionModule }
  ]
}

const readIfExists = async (file: string): Promise<string | undefined> => {
  try {
    return await readFile(file, "utf8")
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined
    throw error
  }
}

/** Returns the generated files (relative paths) whose content on disk differs from a fresh generation. */
export const check = async (root: string = projectRoot): Promise<ReadonlyArray<string>> => {
  const stale: Array<string> = []
  for (const file of await generate(root)) {
    const current = await readIfExists(join(root, file.path))
    if (current !== file.content) stale.push(file.path)
  }
  return stale
}

/** Writes the generated files; returns their relative paths. */
export const write = async (root: string = projectRoot): Promise<ReadonlyArray<string>> => {
  const files = await generate(root)
  for (const file of files) {
    const target = join(root, file.path)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, file.content)
  }
  return files.map((file) => file.path)
}

const main = async (args: ReadonlyArray<string>): Promise<number> => {
  if (args.includes("--check")) {
    const stale = await check()
    for (const path of stale) {
      console.error(`${path} is stale: it does not match ${SPEC_PATH}. Run \`npm run gen\` and commit the result.`)
    }
    if (stale.length === 0) console.log("generated files are up to date")
    return stale.length === 0 ? 0 : 1
  }
  for (const path of await write()) console.log(`wrote ${path}`)
  return 0
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      // Parser errors carry the whole document; their message alone says what and where.
      console.error(error instanceof Error ? `${error.name}: ${error.message}` : error)
      process.exitCode = 2
    }
  )
}
