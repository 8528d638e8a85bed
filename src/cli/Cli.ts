/**
 * Command-line options shared by every runtime entry: `--config PATH`, `--host`, `--port`,
 * `--database-url`, `--debug`, `--help`, `--version` (also written `--flag=value`), and the
 * subcommands `migrate`, `import FILE`, `keys create --project P [--models LIST] [--name N]
 * [--user U] [--expires DATE]`, `usage [--key K] [--since 24h] …` and `providers detect --base-url URL
 * [--kind K] …`. Pure: argv in, options or a usage error out.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { DurationInput, durationMillis } from "../domain/units.ts"
import { DEFAULT_PROBE, DEFAULT_TIMEOUT_MS, MAX_PROBE, MAX_TIMEOUT_MS } from "../providers/Detect.ts"

/** The provider kinds `providers detect` can probe (every kind with an upstream). */
export const DETECT_KINDS = ["openai", "azure", "anthropic"] as const
export type DetectKind = (typeof DETECT_KINDS)[number]

/** What to do: serve (no subcommand), apply the migrations, or seed the Postgres catalog from a file. */
export type Command =
  | { readonly _tag: "Serve" }
  | { readonly _tag: "Migrate" }
  | { readonly _tag: "Import"; readonly file: string }
  | {
      readonly _tag: "KeysCreate"
      /** The project's id (or name). */
      readonly project: string
      /** Allowed models (exact, glob or `/regex/`); undefined: every model. */
      readonly models: ReadonlyArray<string> | undefined
      readonly name: string | undefined
      readonly user: string | undefined
      /** When the key stops working (a timestamp or date). */
      readonly expires: string | undefined
    }
  | {
      readonly _tag: "Usage"
      /** The report's query parameters, as `GET /admin/v1/usage` names them (`from` already resolved from `--since`). */
      readonly query: Readonly<Record<string, string>>
      /** The running gateway's URL; undefined: from the config's host and port. */
      readonly url: string | undefined
      /** The admin key; undefined: LLMGATE_MASTER_KEY, else the config's master_key. */
      readonly masterKey: string | undefined
      /** Print the report as JSON rather than a table. */
      readonly json: boolean
    }
  | {
      readonly _tag: "ProvidersDetect"
      readonly kind: DetectKind
      /** The upstream's base URL; undefined only for `anthropic` (Anthropic's API). */
      readonly baseUrl: string | undefined
      readonly apiKey: string | undefined
      /** `azure`: the `api-version` of every call. */
      readonly apiVersion: string | undefined
      /** The provider's name in the output (default: the kind). */
      readonly name: string
      /** How many models to probe (default 3, or every model named with `models`). */
      readonly probe: number
      /** The models to probe instead of listing them. */
      readonly models: ReadonlyArray<string> | undefined
      readonly timeoutMs: number
      readonly output: "table" | "yaml" | "json"
    }

export interface CliOptions {
  readonly command: Command
  readonly config: string | undefined
  /** Postgres config store URL (beats DATABASE_URL and the file's store.postgres.url). */
  readonly databaseUrl: string | undefined
  readonly host: string | undefined
  readonly port: number | undefined
  /** Worker threads: a count, or "auto" (one per CPU). */
  readonly workers: number | "auto" | undefined
  readonly debug: boolean
  readonly help: boolean
  readonly version: boolean
}

export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

export const USAGE = `Usage: llmgate [options]
       llmgate migrate [--database-url URL]
       llmgate import FILE [--database-url URL]
       llmgate keys create --project P [--models LIST] [--name N] [--user U] [--expires DATE]
       llmgate usage [--key K] [--project P] [--user U] [--model M] [--provider P] [--group-by G]
                     [--since 24h | --from T] [--to T] [--interval I] [--limit N] [--url URL] [--json]
       llmgate providers detect --base-url URL [--api-key K] [--kind openai|azure|anthropic]
                     [--api-version V] [--name N] [--probe N] [--models LIST] [--timeout 10s]
                     [--yaml | --json]

Commands:
  migrate         apply the Postgres schema migrations (migrations/*.sql) and exit
  import FILE     validate FILE, then seed an empty Postgres catalog with its providers, models and
                  routes (secrets encrypted under LLMGATE_ENCRYPTION_KEY) and exit
  keys create     create a virtual key in project P (id or name) and print it once: through Postgres
                  when the gateway uses it (--database-url, DATABASE_URL, store.postgres.url), else
                  into the --config file. --models: allowed models, comma-separated ("gpt-*,/^o1/";
                  default every model); --name (default cli-<time>); --user: a user id of the project;
                  --expires: when the key stops working ("2027-01-01" or an ISO timestamp)
  usage           print the running gateway's usage as a table (GET /admin/v1/usage): one row per
                  bucket and group, with requests, tokens and cost. --key, --project, --user (ids),
                  --model, --provider: only their requests; --group-by key|project|user|model|provider
                  (default model); --since 30m|24h|7d (default 24h) or --from T, and --to T (RFC 3339,
                  a date or epoch seconds); --interval minute|hour|day (default from the span);
                  --limit N groups (default 10, the rest summed as "other"); --url (default
                  LLMGATE_URL, else http://HOST:PORT from --host/--port, the environment and the
                  config); the admin key from --master-key, LLMGATE_MASTER_KEY or the config's
                  master_key; --json prints the report as JSON
  providers detect
                  list an upstream's models and probe which capabilities answer (chat, streaming,
                  tools, embeddings), printed as a table. --kind (default openai); --base-url (not
                  needed for anthropic); --api-key (sent as the kind sends it); --api-version (azure);
                  --probe N: probe the first N models (default ${DEFAULT_PROBE}, at most ${MAX_PROBE}; 0 lists only);
                  --models LIST: probe these models (comma-separated) instead of listing them;
                  --timeout: each request's time limit (default ${DEFAULT_TIMEOUT_MS / 1000}s); --yaml prints a
                  providers: entry named --name (default the kind) and models: entries to paste into
                  the config; --json prints the detection as JSON

Options:
  --config PATH   YAML config file (env LLMGATE_CONFIG; default: the embedded mock config)
  --host HOST     listen address (overrides server.host; env LLMGATE_HOST)
  --port PORT     listen port (overrides server.port; env LLMGATE_PORT)
  --workers N     worker threads sharing the port: a number or "auto" (one per CPU, the default;
                  env LLMGATE_WORKERS)
  --database-url URL
                  take providers, models and routes from Postgres, hot-reloaded (env DATABASE_URL;
                  or store.postgres.url in the config file)
  --debug         log every request and debug details
  --version       print the version and exit
  --help          print this help and exit`

/** The options of each subcommand that has its own. */
const COMMAND_OPTIONS: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["keys create", ["--project", "--models", "--name", "--user", "--expires"]],
  [
    "usage",
    [
      "--key",
      "--project",
      "--user",
      "--model",
      "--provider",
      "--group-by",
      "--since",
      "--from",
      "--to",
      "--interval",
      "--limit",
      "--url",
      "--master-key",
      "--json"
    ]
  ],
  [
    "providers detect",
    [
      "--base-url",
      "--api-key",
      "--kind",
      "--api-version",
      "--name",
      "--probe",
      "--models",
      "--timeout",
      "--yaml",
      "--json"
    ]
  ]
]

/** Options that take no value. */
const FLAGS = new Set(["--json", "--yaml"])

/** Options that take a value: the common ones and every subcommand's but the flags. */
const WITH_VALUE = new Set([
  "--config",
  "--host",
  "--port",
  "--workers",
  "--database-url",
  ...COMMAND_OPTIONS.flatMap(([, options]) => options).filter((o) => !FLAGS.has(o))
])

const SINCE = /^(\d+(?:\.\d+)?)(m|h|d)$/
const SINCE_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `--since 30m|24h|7d` as milliseconds; undefined when invalid. */
export const parseSince = (value: string): number | undefined => {
  const m = SINCE.exec(value)
  const ms = m === null ? Number.NaN : Number(m[1]) * (SINCE_MS[m[2] ?? ""] ?? Number.NaN)
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined
}

/** The report's query parameter of each `usage` option. */
const USAGE_QUERY: ReadonlyArray<readonly [string, string]> = [
  ["--key", "key"],
  ["--project", "project"],
  ["--user", "user"],
  ["--model", "model"],
  ["--provider", "provider"],
  ["--group-by", "group_by"],
  ["--from", "from"],
  ["--to", "to"],
  ["--interval", "interval"],
  ["--limit", "limit"]
]

/** `auto` or a whole number from 1 to 256; undefined when invalid. */
export const parseWorkers = (value: string): number | "auto" | undefined => {
  if (value === "auto") return "auto"
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined
}

export const parseArgs = (
  argv: ReadonlyArray<string>,
  now: number = Date.now()
): Result.Result<CliOptions, UsageError> => {
  const values: Record<string, string> = {}
  let debug = false
  let json = false
  let yaml = false
  let help = false
  let version = false
  const positional: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    const eq = arg.indexOf("=")
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    if (WITH_VALUE.has(name)) {
      const value = eq > 0 && name !== arg ? arg.slice(eq + 1) : argv[++i]
      if (value === undefined || value === "") return Result.fail(new UsageError({ message: `${name} needs a value` }))
      values[name] = value
    } else if (arg === "--debug") debug = true
    else if (arg === "--json") json = true
    else if (arg === "--yaml") yaml = true
    else if (arg === "--help" || arg === "-h") help = true
    else if (arg === "--version" || arg === "-v") version = true
    else if (!arg.startsWith("-") && arg !== "") positional.push(arg)
    else return Result.fail(new UsageError({ message: `unknown argument "${arg}"` }))
  }
  let command: Command = { _tag: "Serve" }
  const [name, file, ...rest] = positional
  // An option of another subcommand than the one given.
  const given = name === "keys" ? "keys create" : name === "providers" ? "providers detect" : name
  const flags: Readonly<Record<string, boolean>> = { "--json": json, "--yaml": yaml }
  for (const [owner, options] of COMMAND_OPTIONS) {
    if (owner === given) continue
    const misplaced = options.find((o) => (FLAGS.has(o) ? flags[o] === true : values[o] !== undefined))
    const mine = COMMAND_OPTIONS.find(([c]) => c === given)?.[1] ?? []
    if (misplaced !== undefined && !mine.includes(misplaced))
      return Result.fail(new UsageError({ message: `${misplaced} is an option of ${owner}` }))
  }
  if (name === "keys") {
    if (file !== "create" || rest.length > 0) {
      return Result.fail(
        new UsageError({
          message:
            file === undefined
              ? "keys needs a command: keys create --project P"
              : `unknown argument "${rest[0] ?? file}"`
        })
      )
    }
    const project = values["--project"]
    if (project === undefined)
      return Result.fail(new UsageError({ message: "keys create needs --project P (a project id or name)" }))
    const models = values["--models"]
      ?.split(",")
      .map((m) => m.trim())
      .filter((m) => m !== "")
    command = {
      _tag: "KeysCreate",
      project,
      models,
      name: values["--name"],
      user: values["--user"],
      expires: values["--expires"]
    }
  } else if (name === "providers") {
    if (file !== "detect" || rest.length > 0) {
      return Result.fail(
        new UsageError({
          message:
            file === undefined
              ? "providers needs a command: providers detect --base-url URL"
              : `unknown argument "${rest[0] ?? file}"`
        })
      )
    }
    const detected = detectCommand(values, json, yaml)
    if (detected instanceof UsageError) return Result.fail(detected)
    command = detected
  } else if (name === "usage") {
    if (file !== undefined) return Result.fail(new UsageError({ message: `unknown argument "${file}"` }))
    const query: Record<string, string> = {}
    for (const [option, param] of USAGE_QUERY) {
      const value = values[option]
      if (value !== undefined) query[param] = value
    }
    const since = values["--since"]
    if (since !== undefined) {
      if (values["--from"] !== undefined)
        return Result.fail(new UsageError({ message: "--since and --from both say where the range starts: give one" }))
      const ms = parseSince(since)
      if (ms === undefined)
        return Result.fail(
          new UsageError({ message: `--since: expected a duration such as 30m, 24h or 7d, got "${since}"` })
        )
      query["from"] = new Date(now - ms).toISOString()
    }
    command = { _tag: "Usage", query, url: values["--url"], masterKey: values["--master-key"], json }
  } else if (name === "migrate" && file === undefined) command = { _tag: "Migrate" }
  else if (name === "import" && file !== undefined && rest.length === 0) command = { _tag: "Import", file }
  else if (name === "import" && file === undefined)
    return Result.fail(new UsageError({ message: "import needs a FILE" }))
  else if (name !== undefined) {
    const extra = name === "migrate" || name === "import" ? (rest[0] ?? file) : name
    return Result.fail(new UsageError({ message: `unknown argument "${extra}"` }))
  }
  let port: number | undefined
  if (values["--port"] !== undefined) {
    port = Number(values["--port"])
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return Result.fail(
        new UsageError({ message: `--port: expected a port number from 0 to 65535, got "${values["--port"]}"` })
      )
    }
  }
  let workers: number | "auto" | undefined
  if (values["--workers"] !== undefined) {
    workers = parseWorkers(values["--workers"])
    if (workers === undefined) {
      return Result.fail(
        new UsageError({
          message: `--workers: expected "auto" or a number from 1 to 256, got "${values["--workers"]}"`
        })
      )
    }
  }
  return Result.succeed({
    command,
    config: values["--config"],
    databaseUrl: values["--database-url"],
    host: values["--host"],
    port,
    workers,
    debug,
    help,
    version
  })
}

/** `providers detect`'s options, checked: a command, or what is wrong with them. */
const detectCommand = (
  values: Readonly<Record<string, string>>,
  json: boolean,
  yaml: boolean
): Extract<Command, { readonly _tag: "ProvidersDetect" }> | UsageError => {
  const fail = (message: string) => new UsageError({ message })
  const kind = values["--kind"] ?? "openai"
  if (!DETECT_KINDS.some((k) => k === kind))
    return fail(`--kind: expected one of ${DETECT_KINDS.join(", ")}, got "${kind}"`)
  const detectKind = kind as DetectKind
  const baseUrl = values["--base-url"]
  if (baseUrl === undefined && detectKind !== "anthropic")
    return fail(`providers detect needs --base-url URL (the ${detectKind} API's base URL)`)
  const apiVersion = values["--api-version"]
  if (detectKind === "azure" && apiVersion === undefined)
    return fail('providers detect --kind azure needs --api-version V (e.g. "2024-10-21")')
  if (detectKind !== "azure" && apiVersion !== undefined) return fail("--api-version is only for --kind azure")
  if (json && yaml) return fail("--json and --yaml both say how to print: give one")
  const models = values["--models"]
    ?.split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "")
  if (models !== undefined && (models.length === 0 || models.length > MAX_PROBE))
    return fail(`--models: expected from 1 to ${MAX_PROBE} model ids, comma-separated`)
  let probe = models?.length ?? DEFAULT_PROBE
  const probeText = values["--probe"]
  if (probeText !== undefined) {
    probe = Number(probeText)
    if (!/^\d+$/.test(probeText) || probe > MAX_PROBE)
      return fail(`--probe: expected a number of models from 0 to ${MAX_PROBE}, got "${probeText}"`)
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS
  const timeoutText = values["--timeout"]
  if (timeoutText !== undefined) {
    const decoded = Schema.decodeUnknownResult(DurationInput)(
      /^\d+$/.test(timeoutText) ? Number(timeoutText) : timeoutText
    )
    timeoutMs = Result.isSuccess(decoded) ? durationMillis(decoded.success) : Number.NaN
    if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS))
      return fail(
        `--timeout: expected a duration from 1ms to ${MAX_TIMEOUT_MS / 1000}s such as "10s" or "500ms", got "${timeoutText}"`
      )
  }
  return {
    _tag: "ProvidersDetect",
    kind: detectKind,
    baseUrl,
    apiKey: values["--api-key"],
    apiVersion,
    name: values["--name"] ?? detectKind,
    probe,
    models,
    timeoutMs,
    output: json ? "json" : yaml ? "yaml" : "table"
  }
}
