/**
 * GENERATED FILE, DO NOT EDIT. Produced by scripts/gen.ts from the `version` of package.json.
 * Change the version there, then run `npm run gen`; `node scripts/gen.ts --check` fails when this file is stale.
 */

/** The gateway's version (`llmgate --version`, the startup banner, GET /health). */
export const VERSION = "0.1.0"
