/**
 * `${VAR}` and `${VAR:-default}` interpolation over a parsed YAML value. It runs on string scalars
 * after parsing, so an environment value can never change the document's structure. `$${` writes a
 * literal `${`. A variable that is unset and has no default is an error naming the field.
 */
import type { ConfigIssue } from "./ConfigError.ts"
import { formatPath } from "../domain/SchemaIssues.ts"

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

export type Env = Readonly<Record<string, string | undefined>>

export const interpolate = (value: unknown, env: Env, issues: Array<ConfigIssue>, path: Array<PropertyKey> = []): unknown => {
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
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, issues, [...path, i]))
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, issues, [...path, k])
    return out
  }
  return value
}
