/**
 * `${VAR}` and `${VAR:-default}` interpolation over a parsed YAML value. It runs on string scalars
 * after parsing, so an environment value can never change the document's structure. `$${` writes a
 * literal `${`. A variable that is unset and has no default is an error naming the field.
 *
 * A config is data: references are read only in the secret fields (SecretFields.ts: `master_key`,
 * `store.postgres.url`, a provider's `api_key`, `auth.token`/`password`/`value` and header values)
 * and only from variables named `LLMGATE_*` or listed in the file's top-level `env: [NAME, ...]`.
 * A reference anywhere else, or to another variable, is an error naming the field and saying how to
 * allow it; so a value that reaches the file from elsewhere (the admin API writes every value
 * through `escapeLiteral`) can never read the environment, `LLMGATE_MASTER_KEY` included.
 *
 * References are shielded before parsing (replaced by plain tokens and restored after), so they may
 * stand anywhere a value can, including unquoted inside a flow mapping:
 * `auth: { type: bearer, token: ${KEY_A} }`, where `{` and `}` would otherwise end the mapping.
 */
import type { ConfigIssue } from "./ConfigError.ts"
import { formatPath } from "../domain/SchemaIssues.ts"
import { isSecretPath, SECRET_FIELDS_TEXT } from "./SecretFields.ts"

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** A variable name, as `env:` lists them. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Variables with this prefix may be referenced without being listed in `env:`. */
export const ENV_PREFIX = "LLMGATE_"

export type Env = Readonly<Record<string, string | undefined>>

export interface Shielded {
  readonly text: string
  /** Puts the original references back into a string of the parsed document. */
  readonly restore: (s: string) => string
}

/** Replaces every reference in config text with a YAML-neutral token. */
export const shieldReferences = (text: string): Shielded => {
  const refs: Array<string> = []
  const nonce = Math.random().toString(36).slice(2, 10)
  const shielded = text.replace(PATTERN, (match) => {
    refs.push(match)
    return `llmgateref${nonce}x${refs.length - 1}x`
  })
  if (refs.length === 0) return { text, restore: (s) => s }
  const token = new RegExp(`llmgateref${nonce}x(\\d+)x`, "g")
  return {
    text: shielded,
    restore: (s) => (s.includes("llmgateref") ? s.replace(token, (_, i: string) => refs[Number(i)] ?? "") : s)
  }
}

/**
 * `s` written so that interpolation gives back exactly `s`: every `${` becomes `$${`. (A run of
 * k `$` before `{` becomes k+1, which interpolation turns back into k.)
 */
export const escapeLiteral = (s: string): string => s.replaceAll("${", () => "$${") // a function: `$$` in a replacement string is `$`

/** Whether `s` holds a `${VAR}` reference (an escaped `$${` is none). */
export const hasReference = (s: string): boolean => {
  for (const m of s.matchAll(PATTERN)) if (m[0] !== "$${") return true
  return false
}

/** What a string without references reads as (`$${` → `${`); a string with references is returned as written. */
export const literalValue = (s: string): string =>
  hasReference(s) ? s : s.replace(PATTERN, (m) => (m === "$${" ? "${" : m))

/** The variables the document's top-level `env:` lists (the schema reports malformed entries). */
export const listedVariables = (raw: unknown, restore: (s: string) => string = identity): ReadonlySet<string> => {
  const list =
    raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>)["env"] : undefined
  return new Set(
    Array.isArray(list)
      ? list
          .filter((v): v is string => typeof v === "string")
          .map(restore)
          .filter((v) => VARIABLE_NAME.test(v))
      : []
  )
}

/** Whether a reference may read `name`: `LLMGATE_*`, or listed in `env:`. */
export const variableAllowed = (name: string, listed: ReadonlySet<string>): boolean =>
  name.startsWith(ENV_PREFIX) || listed.has(name)

const identity = (s: string): string => s

/**
 * Fills in the references of a parsed document. `listed` is the document's own `env:` list
 * (`listedVariables`); every problem is added to `issues`, naming the field.
 */
export const interpolate = (
  raw: unknown,
  env: Env,
  issues: Array<ConfigIssue>,
  restore: (s: string) => string = identity,
  listed: ReadonlySet<string> = listedVariables(raw, restore),
  path: Array<PropertyKey> = []
): unknown => {
  const value = typeof raw === "string" ? restore(raw) : raw
  if (typeof value === "string") {
    if (!value.includes("${")) return value
    const secret = isSecretPath(path)
    return value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$${") return "${"
      const key = name ?? ""
      if (!secret) {
        issues.push({
          path: formatPath(path),
          message: `\${${key}}: environment variables can be read only in secret fields (${SECRET_FIELDS_TEXT}); write $\${ for a literal \${`
        })
        return ""
      }
      if (!variableAllowed(key, listed)) {
        issues.push({
          path: formatPath(path),
          message:
            `environment variable ${key} is not allowed: only ${ENV_PREFIX}* variables and those listed in the top-level env are read ` +
            `(add \`env: [${key}]\` to the config to allow it)`
        })
        return ""
      }
      const found = env[key]
      if (found !== undefined && (found !== "" || fallback === undefined)) return found
      if (fallback !== undefined) return fallback
      issues.push({
        path: formatPath(path),
        message: `environment variable ${key} is not set (write \${${key}:-} to allow it to be empty)`
      })
      return ""
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, issues, restore, listed, [...path, i]))
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const key = restore(k)
      out[key] = interpolate(v, env, issues, restore, listed, [...path, key])
    }
    return out
  }
  return value
}
