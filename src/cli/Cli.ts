/**
 * Command-line options shared by every runtime entry: `--config PATH`, `--host`, `--port`,
 * `--debug`, `--help`, `--version` (also written `--flag=value`). Pure: argv in, options or a usage
 * error out.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

export interface CliOptions {
  readonly config: string | undefined
  readonly host: string | undefined
  readonly port: number | undefined
  /** Worker processes: a count, or "auto" (one per CPU). */
  readonly workers: number | "auto" | undefined
  readonly debug: boolean
  readonly help: boolean
  readonly version: boolean
}

export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

export const USAGE = `Usage: llmgate [options]

Options:
  --config PATH   YAML config file (env LLMGATE_CONFIG; default: the embedded mock config)
  --host HOST     listen address (overrides server.host; env LLMGATE_HOST)
  --port PORT     listen port (overrides server.port; env LLMGATE_PORT)
  --workers N     worker processes sharing the port: a number or "auto" (one per CPU, the default;
                  env LLMGATE_WORKERS)
  --debug         log every request and debug details
  --version       print the version and exit
  --help          print this help and exit`

const WITH_VALUE = new Set(["--config", "--host", "--port", "--workers"])

/** `auto` or a whole number from 1 to 256; undefined when invalid. */
export const parseWorkers = (value: string): number | "auto" | undefined => {
  if (value === "auto") return "auto"
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined
}

export const parseArgs = (argv: ReadonlyArray<string>): Result.Result<CliOptions, UsageError> => {
  const values: Record<string, string> = {}
  let debug = false
  let help = false
  let version = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    const eq = arg.indexOf("=")
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    if (WITH_VALUE.has(name)) {
      const value = eq > 0 && name !== arg ? arg.slice(eq + 1) : argv[++i]
      if (value === undefined || value === "") return Result.fail(new UsageError({ message: `${name} needs a value` }))
      values[name] = value
    } else if (arg === "--debug") debug = true
    else if (arg === "--help" || arg === "-h") help = true
    else if (arg === "--version" || arg === "-v") version = true
    else return Result.fail(new UsageError({ message: `unknown argument "${arg}"` }))
  }
  let port: number | undefined
  if (values["--port"] !== undefined) {
    port = Number(values["--port"])
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return Result.fail(new UsageError({ message: `--port: expected a port number from 0 to 65535, got "${values["--port"]}"` }))
    }
  }
  let workers: number | "auto" | undefined
  if (values["--workers"] !== undefined) {
    workers = parseWorkers(values["--workers"])
    if (workers === undefined) {
      return Result.fail(new UsageError({ message: `--workers: expected "auto" or a number from 1 to 256, got "${values["--workers"]}"` }))
    }
  }
  return Result.succeed({ config: values["--config"], host: values["--host"], port, workers, debug, help, version })
}
