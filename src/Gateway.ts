/**
 * The composition root of the core. `boot` turns argv and the environment into a running app:
 * CLI options, config (file or embedded default), master key, state, and the HTTP app. It needs
 * only abstract platform services (FileSystem, HttpClient); each runtime entry provides them and
 * serves the app its own way.
 */
import { Effect, FileSystem, Layer, References, Redacted, Result, Schema, type Scope } from "effect"
import type { HttpServerRequest, HttpServerResponse } from "effect/http"
import type { UpstreamClients } from "./providers/UpstreamClients.ts"
import { parseArgs, USAGE, UsageError, type CliOptions } from "./cli/Cli.ts"
import type { ResolvedConfig } from "./config/Config.ts"
import { ConfigError } from "./config/ConfigError.ts"
import { defaultConfigText } from "./config/defaultConfig.ts"
import type { Env } from "./config/interpolate.ts"
import { parseConfig } from "./config/loadConfig.ts"
import { GatewayState, RuntimeInfo } from "./GatewayState.ts"
import { makeApp } from "./http/App.ts"
import { VERSION } from "./http/Health.ts"

/** Startup ended before serving: `--help`/`--version` (exit 0) or a startup failure (exit non-zero). */
export class StartupExit extends Schema.TaggedError<StartupExit>()("StartupExit", {
  code: Schema.Number,
  output: Schema.String
}) {}

export interface BootOptions {
  readonly argv: ReadonlyArray<string>
  readonly env: Env
  readonly runtime: { readonly name: "node" | "bun" | "deno"; readonly version: string }
}

export interface Booted {
  readonly app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
  readonly config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }
  readonly state: GatewayState["Service"]
  readonly options: CliOptions
  /** Set when no master key was configured and one was generated for this run. */
  readonly generatedKey: string | undefined
  /** The lines printed once the server listens. */
  readonly banner: (port: number) => string
}

const generateKey = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  return "sk-lg-" + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

const loadConfig = Effect.fnUntraced(function*(options: CliOptions, env: Env) {
  const path = options.config ?? (env["LLMGATE_CONFIG"] || undefined)
  let text: string
  if (path === undefined) text = defaultConfigText(env)
  else {
    const fs = yield* FileSystem.FileSystem
    text = yield* fs.readFileString(path).pipe(
      Effect.mapError((e) => new ConfigError({ source: path, issues: [{ path: "", message: `cannot read the config file: ${e.message}` }] }))
    )
  }
  return yield* Result.match(parseConfig(text, env, path ?? "embedded default"), {
    onSuccess: Effect.succeed,
    onFailure: Effect.fail
  })
})

export const boot = Effect.fnUntraced(function*(options: BootOptions) {
  const cli = yield* Result.match(parseArgs(options.argv), {
    onSuccess: Effect.succeed,
    onFailure: (e: UsageError) => Effect.fail(new StartupExit({ code: 2, output: `llmgate: ${e.message}\n\n${USAGE}` }))
  })
  if (cli.help) return yield* new StartupExit({ code: 0, output: USAGE })
  if (cli.version) return yield* new StartupExit({ code: 0, output: VERSION })

  const loaded = yield* loadConfig(cli, options.env).pipe(
    Effect.mapError((e) => new StartupExit({ code: 1, output: `llmgate: invalid config (${e.source}):\n${e.message}` }))
  )
  const host = cli.host ?? (options.env["LLMGATE_HOST"] || loaded.server.host)
  const envPort = options.env["LLMGATE_PORT"]
  const port = cli.port ?? (envPort ? Number(envPort) : loaded.server.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return yield* new StartupExit({ code: 2, output: `llmgate: LLMGATE_PORT: expected a port number, got "${envPort}"` })
  }
  const generatedKey = loaded.masterKey === undefined ? generateKey() : undefined
  const config = {
    ...loaded,
    server: { ...loaded.server, host, port },
    masterKey: loaded.masterKey ?? Redacted.make(generatedKey ?? "")
  }

  const context = yield* Layer.build(
    Layer.mergeAll(GatewayState.layer(config), Layer.succeed(RuntimeInfo, RuntimeInfo.of(options.runtime)))
  )
  const app = yield* Effect.provide(makeApp, context)
  const state = yield* Effect.provide(Effect.service(GatewayState), context)

  const banner = (actualPort: number): string => {
    const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    const base = `http://${shown}:${actualPort}`
    const key = generatedKey ?? "$LLMGATE_MASTER_KEY"
    const firstChat = config.modelNames.find((m) => !m.includes("embed")) ?? config.modelNames[0] ?? "MODEL"
    return [
      `llmgate ${VERSION} on ${options.runtime.name} ${options.runtime.version}`,
      `llmgate listening on http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`,
      `  OpenAI base URL: ${base}/v1`,
      `  API reference:   ${base}/docs   (spec: ${base}/openapi.json)`,
      `  models:          ${config.modelNames.join(", ")}`,
      ...(generatedKey === undefined ? [] : [`  master key (generated for this run, shown once): ${generatedKey}`]),
      `  try:`,
      `    curl ${base}/v1/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
      `      -d '{"model":"${firstChat}","messages":[{"role":"user","content":"Hello!"}]}'`
    ].join("\n")
  }
  return { app, config, state, options: cli, generatedKey, banner } satisfies Booted
})

/** Log level from `--debug`. */
export const withLogLevel = (debug: boolean) =>
  Layer.succeed(References.MinimumLogLevel, debug ? "Debug" : "Info")

export type BootRequirements = FileSystem.FileSystem | UpstreamClients | Scope.Scope
