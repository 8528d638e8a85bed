/**
 * `llmgate providers detect`: an upstream's models and which of their capabilities answer
 * (providers/Detect.ts), from the command line, before the provider is in any config. The flags
 * become a one-provider config, validated as a config file's provider is (so the base URL, the
 * kind's default URL and how the key is sent are the gateway's own), and the provider is built by
 * the registry over an upstream client on the runtime's `fetch`; then it is detected like a
 * configured one.
 *
 * Printed as a table (model × chat, streaming, tools, embeddings: yes, no, `?` when a probe could
 * not tell, `-` when not probed), or with `--yaml` as a `providers:` entry and `models:` entries
 * ready to paste into the config (the key as a `${LLMGATE_<NAME>_API_KEY}` reference, never
 * itself), or with `--json` as the detection itself (the admin API's answer). An upstream that
 * cannot be reached or refuses the key ends with exit code 1 and says so.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import type { ResolvedProvider } from "../config/Config.ts"
import { decodeConfig } from "../config/loadConfig.ts"
import { isExactName } from "../config/ModelPattern.ts"
import { describe } from "../domain/GatewayError.ts"
import { type Capability, CAPABILITIES, type DetectedModel, type Detection, detect } from "../providers/Detect.ts"
import { makeProviders } from "../providers/Registry.ts"
import { fetchClient, UpstreamClients } from "../providers/UpstreamClients.ts"
import type { Command } from "./Cli.ts"
import type { CommandResult } from "./Commands.ts"

type DetectCommand = Extract<Command, { readonly _tag: "ProvidersDetect" }>

const PREFIX = "llmgate providers detect"

/** The flag each field of the one-provider config came from, for its validation messages. */
const FLAG_OF: Readonly<Record<string, string>> = {
  "providers[0].name": "--name",
  "providers[0].base_url": "--base-url",
  "providers[0].api_version": "--api-version",
  "providers[0].api_key": "--api-key"
}

/** The provider the flags describe, as a config file would have it. */
export const providerEntry = (command: DetectCommand): Record<string, unknown> => ({
  name: command.name,
  kind: command.kind,
  ...(command.baseUrl === undefined ? {} : { base_url: command.baseUrl }),
  ...(command.apiKey === undefined ? {} : { api_key: command.apiKey }),
  ...(command.apiVersion === undefined ? {} : { api_version: command.apiVersion }),
  // Each request's time limit is the detection's own (--timeout); a connection gets as long.
  timeout: { connect: command.timeoutMs }
})

/** What a capability answer looks like in the table. */
const cell = (capabilities: DetectedModel["capabilities"], capability: Capability): string => {
  if (capabilities === null) return "-"
  const answer = capabilities[capability]
  return answer === null ? "?" : answer ? "yes" : "no"
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** The detection as an aligned table with a heading, then what could not be told. */
export const detectionTable = (
  detection: Detection,
  provider: Pick<ResolvedProvider, "kind" | "baseUrl">,
  named: boolean
): string => {
  const head = `${detection.provider} (kind ${provider.kind}) at ${provider.baseUrl}: ${plural(detection.models.length, named ? "model named" : "model listed", named ? "models named" : "models listed")}, ${detection.probed} probed`
  const lines = [head]
  if (detection.models.length > 0) {
    const header = ["model", ...CAPABILITIES]
    const rows = detection.models.map((m) => [m.id, ...CAPABILITIES.map((c) => cell(m.capabilities, c))])
    const all = [header, ...rows]
    const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)))
    const line = (r: ReadonlyArray<string>) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()
    lines.push("", line(header), ...rows.map(line))
    const rest = detection.models.length - detection.probed
    if (rest > 0) lines.push(`(${plural(rest, "model")} not probed: --probe N probes more, --models LIST chosen ones)`)
  }
  if (detection.errors.length > 0) {
    lines.push("", "could not tell:")
    for (const e of detection.errors)
      lines.push(`  ${e.model === null ? e.probe : `${e.model} ${e.probe}`}: ${e.message}`)
  }
  return lines.join("\n")
}

/** YAML 1.2 words a plain scalar would not be read as a string. */
const NOT_A_STRING =
  /^(?:true|false|null|yes|no|on|off|y|n|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+|\.inf|\.nan)(?:e[-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+)$/i

/** A string as a YAML scalar: plain when it reads back as the same string, else double-quoted (JSON's escapes are YAML's). */
export const yamlScalar = (value: string): string =>
  /^[A-Za-z0-9][A-Za-z0-9._/@+-]*(?::[A-Za-z0-9._/@+-]+)*$/.test(value) && !NOT_A_STRING.test(value)
    ? value
    : JSON.stringify(value)

/** The variable a pasted config reads the key from: `LLMGATE_` + the name, upper-cased, + `_API_KEY`. */
export const keyVariable = (name: string): string =>
  `LLMGATE_${name
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")}_API_KEY`

/** The capabilities a model answered, for a comment. */
const answered = (model: DetectedModel): ReadonlyArray<Capability> =>
  model.capabilities === null ? [] : CAPABILITIES.filter((c) => model.capabilities?.[c] === true)

/**
 * A `providers:` entry and a `models:` entry per usable model, for a config file: every model that
 * answered something or was not probed (each with a comment saying which); a probed model that
 * answered nothing, or whose id is not an exact name, is only named in a comment.
 */
export const detectionYaml = (
  detection: Detection,
  provider: Pick<ResolvedProvider, "name" | "kind" | "baseUrl" | "apiVersion">,
  withKey: boolean
): string => {
  const lines = [
    "providers:",
    `  - name: ${yamlScalar(provider.name)}`,
    `    kind: ${provider.kind}`,
    `    base_url: ${yamlScalar(provider.baseUrl)}`
  ]
  if (provider.apiVersion !== undefined) lines.push(`    api_version: ${yamlScalar(provider.apiVersion)}`)
  if (withKey) lines.push(`    api_key: ${JSON.stringify(`\${${keyVariable(provider.name)}}`)}`)
  const entries: Array<string> = []
  const left: Array<string> = []
  for (const model of detection.models) {
    const can = answered(model)
    if (!isExactName(model.id)) left.push(`  # ${model.id}: not an exact model name, left out`)
    else if (model.capabilities !== null && can.length === 0)
      left.push(`  # ${model.id}: no capability answered yes, left out`)
    else {
      entries.push(
        `  - name: ${yamlScalar(model.id)} # ${model.capabilities === null ? "not probed" : can.join(", ")}`,
        "    targets:",
        `      - provider: ${yamlScalar(provider.name)}`,
        `        model: ${yamlScalar(model.id)}`
      )
    }
  }
  lines.push(entries.length === 0 ? "models: []" : "models:", ...entries, ...left)
  return lines.join("\n")
}

/**
 * The command's upstream client: the runtime's `fetch` (every runtime has one), for its one
 * provider and one run, so there is no pool to keep or retire.
 */
const fetchClients = Layer.sync(UpstreamClients, () => {
  const client = fetchClient(globalThis.fetch)
  return UpstreamClients.of({
    get: () => Effect.succeed(client),
    retain: () => Effect.void,
    decodesBodies: true,
    enforcesConnectTimeout: false
  })
})

/** `llmgate providers detect`: detects the upstream the flags describe and prints what it found. */
export const runDetect = (command: DetectCommand): Effect.Effect<CommandResult> => {
  const decoded = decodeConfig({ providers: [providerEntry(command)], models: [] }, "providers detect")
  if (Result.isFailure(decoded)) {
    const issues = decoded.failure.issues.map((i) => `  ${FLAG_OF[i.path] ?? i.path}: ${i.message}`)
    return Effect.succeed({ code: 2, output: `${PREFIX}: invalid options:\n${issues.join("\n")}` })
  }
  const config = decoded.success
  return Effect.gen(function* () {
    const provider = (yield* makeProviders(config)).get(command.name)
    if (provider === undefined) return { code: 1, output: `${PREFIX}: the provider could not be built` }
    const detection = yield* detect(provider, {
      probe: command.probe,
      models: command.models,
      timeoutMs: command.timeoutMs,
      bounds: config.server.bounds
    })
    const output =
      command.output === "json"
        ? JSON.stringify(detection, null, 2)
        : command.output === "yaml"
          ? detectionYaml(detection, provider.config, command.apiKey !== undefined)
          : detectionTable(detection, provider.config, command.models !== undefined)
    return { code: 0, output } satisfies CommandResult
  }).pipe(
    Effect.provide(fetchClients),
    Effect.catch((error) => {
      const message = describe(error.reason).message
      // Say where, when the message does not.
      const where = message.includes("://") ? "" : ` (--base-url ${config.providers.get(command.name)?.baseUrl ?? ""})`
      return Effect.succeed({ code: 1, output: `${PREFIX}: ${message}${where}` })
    })
  )
}
