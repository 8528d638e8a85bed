/**
 * Import direction, checked by `npm run check:deps` (dependency-cruiser, part of `npm test`).
 *
 * The core (`src/`) is layered: each folder (or top-level module) of src/ sits in one layer below
 * and may import its own modules and those of LOWER layers only, never a sibling in its own layer
 * nor anything above. So imports point one way and folders cannot import each other in a circle.
 * Type-only imports count: a type pulled from above is as much a tangle as a value.
 *
 * The runtimes (`runtimes/*`) import only the core's entries (src/index.ts, launch.ts, worker.ts,
 * web.ts, tokenizer.ts), never each other; the core imports no runtime, no Node/Bun/Deno module, no platform
 * package, and nothing outside src/ (its version comes from src/generated/version.ts).
 *
 * Effect is imported by module subpath, never through a barrel. Not here: runtime globals
 * (`process`, `Bun`, `Deno`) in src/, which scripts/check-imports.ts finds, and tsconfig.src.json,
 * which compiles src/ with no runtime's types at all.
 */

/**
 * The provider kinds' config rules (providers/Kinds.ts, providers/KindRules.ts, providers/<kind>/Kind.ts):
 * config loading applies them, so they sit below config although they live in providers/.
 */
const KIND_RULES = {
  name: "provider-kinds",
  path: "^src/providers/(Kinds|KindRules)\\.ts$|^src/providers/[^/]+/Kind\\.ts$"
}

/**
 * Bottom to top. A unit is a folder of src/ or a module directly in src/ (`name.ts`), or a named
 * set of modules ({ name, path }).
 */
const LAYERS = [
  ["generated"], //                               openapi-typescript output, the version: imports nothing
  ["domain"], //                                  GatewayError, StoreError, shared value types
  [KIND_RULES], //                                each provider kind's config fields, checks and defaults
  ["config", "streaming", "crypto", "state"], //  config schema and loading; SSE and streams; SHA-256 and sealing; shared slots
  ["auth", "limits", "providers", "store", "api", "usage"],
  ["routing", "messages", "responses"], //        messages, responses: Anthropic-shaped and Responses clients translated to and from chat
  ["admin", "GatewayState.ts", "metrics", "tracing", "logging"], // metrics: the owner's exposition, a worker's own counts; tracing: OTLP export
  ["http", "cli"],
  ["startup"],
  ["cluster"],
  ["index.ts", "launch.ts", "worker.ts", "web.ts", "tokenizer.ts"] // the entries the runtimes import
]

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
/** The paths of a unit, as a regular expression. */
const unitPath = (unit) =>
  typeof unit === "object"
    ? unit.path
    : unit.endsWith(".ts")
      ? `^src/${escapeRegExp(unit)}$`
      : `^src/${escapeRegExp(unit)}/`
const unitName = (unit) => (typeof unit === "object" ? unit.name : unit)
const ENTRIES = LAYERS[LAYERS.length - 1]

const layerRules = LAYERS.flatMap((layer, rank) => {
  const below = LAYERS.slice(0, rank).flat()
  return layer.map((unit) => ({
    name: `layer-${unitName(unit).replace(/\.ts$/, "")}`,
    comment: `src/${unitName(unit)} may import ${below.length === 0 ? "nothing of src/" : `only itself and the layers below it: ${below.map(unitName).join(", ")}`}`,
    severity: "error",
    from: { path: unitPath(unit) },
    to: { path: "^src/", pathNot: [unitPath(unit), ...below.map(unitPath)] }
  }))
})

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no module imports itself through others (folders are kept acyclic by the layer rules)",
      severity: "error",
      from: {},
      to: { circular: true }
    },
    {
      name: "src-in-layers",
      comment:
        "every folder and top-level module of src/ that imports anything has a layer in LAYERS (one that is imported is caught by its importer's layer rule)",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.flat().map(unitPath) },
      to: {}
    },
    ...layerRules,
    {
      name: "core-no-runtime-module",
      comment:
        "src/ speaks Web standards and Effect's abstract services: no Node or Bun built-in (node:*, fs, http, bun:*, …)",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["core"] }
    },
    {
      name: "core-no-platform-package",
      comment: "src/ imports no runtime's platform package (@effect/platform-node, -bun, …): runtimes/ provides them",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "(^|/)node_modules/@effect/platform-" }
    },
    {
      name: "no-dev-dependency",
      comment:
        "what the gateway runs imports production dependencies only (a devDependency such as `bun`, `vitest` or `@types/*` is not installed in the images)",
      severity: "error",
      from: { path: "^(src|runtimes)/" },
      to: { dependencyTypes: ["npm-dev"] }
    },
    {
      name: "core-stays-in-src",
      comment:
        "src/ imports nothing of ours outside src/: no runtime, no ../../package.json (the version is src/generated/version.ts)",
      severity: "error",
      from: { path: "^src/" },
      to: { pathNot: ["^src/", "(^|/)node_modules/"], dependencyTypesNot: ["core"], couldNotResolve: false }
    },
    {
      name: "resolvable",
      comment:
        "every import resolves (so `deno`, a package that is not installed, or a typo, cannot slip past the rules above)",
      severity: "error",
      from: {},
      to: { couldNotResolve: true }
    },
    {
      name: "no-barrel",
      comment:
        "src/ and runtimes/ import Effect modules by subpath (effect/Effect), never a barrel (effect, effect/http, @effect/platform-node, …): the barrels cost ≈250 ms of startup and ≈25 MB of idle memory",
      severity: "error",
      from: { path: "^(src|runtimes)/" },
      // effect → dist/index.js, effect/http → dist/http/index.js, @effect/platform-node → dist/index.js
      to: {
        path: [
          "(^|/)node_modules/effect/dist/index\\.js$",
          "(^|/)node_modules/effect/dist/[^/]+/index\\.js$",
          "(^|/)node_modules/@effect/[^/]+/dist/index\\.js$"
        ]
      }
    },
    {
      name: "runtimes-use-core-entries",
      comment: `runtimes/ import the core only through its entries: ${ENTRIES.map((e) => `src/${e}`).join(", ")}`,
      severity: "error",
      from: { path: "^runtimes/" },
      to: { path: "^src/", pathNot: ENTRIES.map(unitPath) }
    },
    {
      name: "runtimes-apart",
      comment: "a runtime imports no other runtime's folder (runtimes/common/ is shared)",
      severity: "error",
      from: { path: "^runtimes/([^/]+)/" },
      to: { path: "^runtimes/", pathNot: ["^runtimes/$1/", "^runtimes/common/"] }
    }
  ],
  options: {
    // Type-only imports are dependencies too (they shape the layers as much as values do).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "(^|/)node_modules/" },
    // Resolve packages through their `exports` (effect/Effect → effect/dist/Effect.js).
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"]
    }
  }
}
