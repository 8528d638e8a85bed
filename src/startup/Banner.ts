/**
 * What the owner prints once every worker listens: the URLs, the models, where the config comes
 * from, how many workers serve, the master key when it was generated for this run (shown once),
 * and a ready-to-paste curl.
 */
import { VERSION } from "../generated/version.ts"
import type { Prepared } from "./Prepare.ts"

export interface BannerFacts {
  readonly port: number
  readonly modelNames: ReadonlyArray<string>
  /** `file gateway.yaml`, `postgres host:5432/db`; shown for Postgres. */
  readonly source: string
}

const bracketed = (host: string): string => (host.includes(":") ? `[${host}]` : host)

export const banner = (prepared: Prepared, facts: BannerFacts): string => {
  const { host } = prepared.config.server
  const runtime = prepared.options.runtime
  // A wildcard address is reached through the loopback address.
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : bracketed(host)
  const base = `http://${shown}:${facts.port}`
  const key = prepared.generatedKey ?? "$LLMGATE_MASTER_KEY"
  const firstChat = facts.modelNames.find((m) => !m.includes("embed")) ?? facts.modelNames[0] ?? "MODEL"
  return [
    `llmgate ${VERSION} on ${runtime.name} ${runtime.version}`,
    `llmgate listening on http://${bracketed(host)}:${facts.port}`,
    `  OpenAI base URL: ${base}/v1`,
    `  API reference:   ${base}/docs   (spec: ${base}/openapi.json)`,
    `  models:          ${facts.modelNames.join(", ")}`,
    ...(prepared.store._tag === "File" ? [] : [`  config:          ${facts.source} (hot reload)`]),
    `  workers:         ${prepared.workers} ${prepared.workers === 1 ? "thread" : "threads sharing the port"}${
      prepared.workersNote === undefined ? "" : ` (${prepared.workersNote})`
    }`,
    ...(prepared.generatedKey === undefined
      ? []
      : [`  master key (generated for this run, shown once): ${prepared.generatedKey}`]),
    `  try:`,
    `    curl ${base}/v1/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `      -d '{"model":"${firstChat}","messages":[{"role":"user","content":"Hello!"}]}'`
  ].join("\n")
}
