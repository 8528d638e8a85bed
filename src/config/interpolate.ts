/**
 * `${VAR}` and `${VAR:-default}` interpolation over a parsed YAML value. It runs on string scalars
 * after parsing, so an environment value can never change the document's structure. `$${` writes a
 * literal `${`. A variable that is unset and has no default is an error naming the field.
 *
 * References are shielded before parsing (replaced by plain tokens and restored after), so they may
 * stand anywhere a value can, including unquoted inside a flow mapping:
 * `auth: { type: bearer, token: ${KEY_A} }`, where `{` and `}` would otherwise end the mapping.
 */
import type { ConfigIssue } from "./ConfigError.ts"
import { formatPath } from "../domain/SchemaIssues.ts"

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

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
  return { text: shielded, restore: (s) => s.includes("llmgateref") ? s.replace(token, (_, i: string) => refs[Number(i)] ?? "") : s }
}

const identity = (s: string): string => s

export const interpolate = (
  raw: unknown,
  env: Env,
  issues: Array<ConfigIssue>,
  restore: (s: string) => string = identity,
  path: Array<PropertyKey> = []
): unknown => {
  const value = typeof raw === "string" ? restore(raw) : raw
  if (typeof value === "string") {
    if (!value.includes("${")) return value
    return value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$${") return "${"
      const key = name ?? ""
      const found = env[key]
      if (found !== undefined && (found !== "" || fallback === undefined)) return found
      if (fallback !== undefined) return fallback
      issues.push({ path: formatPath(path), message: `environment variable ${key} is not set (write \${${key}:-} to allow it to be empty)` })
      return ""
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, issues, restore, [...path, i]))
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const key = restore(k)
      out[key] = interpolate(v, env, issues, restore, [...path, key])
    }
    return out
  }
  return value
}
