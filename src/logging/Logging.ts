/**
 * The gateway's log lines, the same in the owner and every worker: text (`[time] LEVEL (#fiber):
 * message`, as Effect's default logger writes it) or one JSON object per line (`logging.format:
 * json`, Effect's structured form: message, level, timestamp, cause, annotations), at the least
 * level `logging.level` (or `--debug`). Every line is redacted after it is formatted, so nothing
 * escapes it, error causes included: `Authorization`-style credentials, `sk-…` keys, and the
 * secret values of the config the process started with (master key, provider credentials and
 * secret headers) become `[redacted]`.
 *
 * With debug on, the owner writes one line per request from its usage record (`request`, with
 * the request id, key id and prefix, project, user, model, provider, status, attempts, tokens,
 * cost, latency and overhead as annotations): cluster/Owner.ts.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Formatter from "effect/Formatter"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import type { ResolvedConfig } from "../config/Config.ts"
import { isSecretHeader } from "../config/SecretFields.ts"
import type { RecountableRecord } from "../usage/Recount.ts"

export type LogFormat = "text" | "json"

/** What replaces a secret in a log line. */
export const REDACTED = "[redacted]"

/** Secrets shorter than this are not looked for (they would match ordinary words). */
const MIN_SECRET_LENGTH = 8

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // A scheme and its credential: `Bearer abc…`, `Basic dXNl…`.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // A credential header written as `name: value` or `"name":"value"`.
  [
    /((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key)("?\s*[:=]\s*"?)(?!Bearer\b|Basic\b)[^\s",}]+/gi,
    `$1$2${REDACTED}`
  ],
  // API keys in the `sk-` family (OpenAI, Anthropic, llmgate's virtual keys); a 12-character
  // visible prefix (`sk-lg-abc123`) is left readable.
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${REDACTED}`]
]

/** Redacts `text`: every known secret value, then the credential patterns. */
export const makeRedactor = (secrets: ReadonlyArray<string>): ((text: string) => string) => {
  const known = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
  const exact = known.length === 0 ? undefined : new RegExp(known.join("|"), "g")
  return (text) => {
    let out = exact === undefined ? text : text.replace(exact, REDACTED)
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement)
    return out
  }
}

/** The secret values of a config: the master key, provider credentials and secret header values. */
export const configSecrets = (config: ResolvedConfig): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (config.masterKey !== undefined) out.push(Redacted.value(config.masterKey))
  for (const p of config.providers.values()) {
    if (p.auth !== undefined) {
      const value = Redacted.value(p.auth.value)
      out.push(value, value.replace(/^(Bearer|Basic)\s+/i, ""))
    }
    for (const h of p.headerOps) if (h.op !== "remove" && isSecretHeader(h.key)) out.push(h.value)
  }
  for (const v of Object.values(config.tracing.headers ?? {})) out.push(Redacted.value(v))
  if (config.tracing.langfuse?.secretKey !== undefined) out.push(Redacted.value(config.tracing.langfuse.secretKey))
  return out
}

const two = (n: number) => String(n).padStart(2, "0")
const time = (d: Date) =>
  `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`

/** Effect's default text line, as a string: `[12:00:00.000] INFO (#3): message {annotations}`. */
const formatText = Logger.make<unknown, string>(({ cause, date, fiber, logLevel, message }) => {
  const parts = (Array.isArray(message) ? message : [message]).map((m) =>
    typeof m === "string" ? m : Formatter.format(m)
  )
  if (cause.reasons.length > 0) parts.push(Cause.pretty(cause))
  const annotations = fiber.getRef(References.CurrentLogAnnotations)
  if (Object.keys(annotations).length > 0) parts.push(Formatter.format(annotations))
  return `[${time(date)}] ${logLevel.toUpperCase()} (#${fiber.id}): ${parts.join(" ")}`
})

/** The logger of `format`, redacting with `redact`, writing one line to the console per entry. */
export const makeLogger = (format: LogFormat, redact: (text: string) => string): Logger.Logger<unknown, void> =>
  Logger.withConsoleLog(Logger.map(format === "json" ? Logger.formatJson : formatText, redact))

/** The least level logged: `--debug` forces Debug. */
export const minimumLevel = (level: ResolvedConfig["logging"]["level"], debug: boolean): LogLevel.LogLevel =>
  debug ? "Debug" : level === "debug" ? "Debug" : level === "warning" ? "Warn" : level === "error" ? "Error" : "Info"

/** The context that installs the logger and the level (the owner's and each worker's). */
export const loggingContext = (
  format: LogFormat,
  level: LogLevel.LogLevel,
  secrets: ReadonlyArray<string>
): Context.Context<never> =>
  Context.make(References.MinimumLogLevel, level).pipe(
    Context.add(Logger.CurrentLoggers, new Set([makeLogger(format, makeRedactor(secrets))]))
  )

/** The fields of a request's log line (debug), from its usage record; `prefixOf` finds a key's visible prefix. */
export const requestFields = (
  r: RecountableRecord,
  prefixOf: (keyId: string) => string | undefined
): Record<string, unknown> => ({
  request_id: r.request_id,
  key_id: r.key_id,
  key_prefix: r.key_id === null ? null : (prefixOf(r.key_id) ?? null),
  project_id: r.project_id,
  user_id: r.user_id,
  endpoint: r.endpoint,
  model: r.model,
  provider: r.provider,
  upstream_model: r.upstream_model,
  status: r.status,
  outcome: r.outcome,
  attempts: r.attempts,
  stream: r.stream,
  input_tokens: r.tokens.input,
  cache_read_tokens: r.tokens.cache_read,
  cache_write_tokens: r.tokens.cache_write,
  reasoning_tokens: r.tokens.reasoning,
  output_tokens: r.tokens.output,
  estimated: r.estimated,
  cost_usd: r.cost_usd,
  latency_ms: r.latency_ms,
  ttft_ms: r.ttft_ms,
  overhead_ms: r.observed?.overheadMs ?? null,
  upstream_ms: r.observed?.upstreamMs ?? null
})
