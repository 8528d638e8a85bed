/**
 * `GET /docs`: the Scalar API reference for the gateway's own spec, fully offline. The standalone
 * bundle of the installed `@scalar/api-reference` package is served by the gateway itself (read
 * once, on first use), and the page is configured to make no request outside the gateway: no
 * remote fonts, no telemetry, no hosted agent or MCP features, no proxy.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { bytes as bytesResponse } from "./respond.ts"

/** Where the bundle lives: the package's exports hide it, so it is addressed by file. */
export const SCALAR_BUNDLE = new URL(
  "../../node_modules/@scalar/api-reference/dist/browser/standalone.js",
  import.meta.url
)

const SCALAR_CONFIG = {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  hideClientButton: true,
  showDeveloperTools: "never",
  proxyUrl: undefined,
  defaultOpenAllTags: true
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmgate API reference</title>
</head>
<body>
<div id="app"></div>
<script src="/docs/scalar.js"></script>
<script>Scalar.createApiReference("#app", ${JSON.stringify(SCALAR_CONFIG)})</script>
</body>
</html>`

export const makeDocsHandlers = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const bundle = yield* Effect.cached(
    fs
      .readFile(decodeURIComponent(SCALAR_BUNDLE.pathname))
      .pipe(
        Effect.mapError(() =>
          gatewayError({ _tag: "Unavailable", message: "The API reference bundle is not installed." })
        )
      )
  )
  const page = bytesResponse(new TextEncoder().encode(PAGE), "text/html; charset=utf-8")
  const cache = { "cache-control": "public, max-age=86400" }
  return {
    page: (): OutgoingResponse => page,
    bundle: (): Effect.Effect<OutgoingResponse, GatewayError> =>
      Effect.map(bundle, (bytes) => bytesResponse(bytes, "text/javascript; charset=utf-8", cache))
  }
})
