/**
 * The secret fields of a config, in one place: where `${VAR}` references may stand (interpolate.ts),
 * what the admin API masks and refuses to take back masked (FileAdminStore, PostgresAdminStore,
 * EffectiveConfig), and what Postgres stores sealed (store/postgres/ProviderSecrets.ts).
 *
 * Secret fields: `master_key`, `store.postgres.url`, `limits.redis.url`, `tracing.otlp.headers` values, `tracing.langfuse.secret_key`, and per provider `api_key`, `auth.token`,
 * `auth.password`, `auth.value`, a `proxy` URL that carries credentials (`http://user:pass@host`),
 * and its header values. Header values are secrets unless the header
 * is one known to carry none (`SAFE_HEADERS`: versions, content types, client names): a header name
 * cannot tell a credential apart reliably (`x-api-key`, `api-key`, `ocp-apim-subscription-key`,
 * `cf-aig-authorization`, `x-goog-user-project`, a vendor's own), so an unknown one is treated as
 * one. References may stand in every header value, the known-safe ones included.
 */
import { isObject } from "effect/Predicate"

export type FieldPath = ReadonlyArray<string | number>

/** Provider fields holding a secret, as paths into a provider entry. */
export const PROVIDER_SECRET_FIELDS: ReadonlyArray<FieldPath> = [
  ["api_key"],
  ["auth", "token"],
  ["auth", "password"],
  ["auth", "value"]
]

/** Headers whose values are shown in clear and stored unsealed: they carry no credential. */
export const SAFE_HEADERS: ReadonlySet<string> = new Set([
  "accept",
  "accept-language",
  "anthropic-beta",
  "anthropic-version",
  "cache-control",
  "content-type",
  "http-referer",
  "openai-beta",
  "openai-organization",
  "openai-project",
  "referer",
  "user-agent",
  "x-title"
])

/** Whether a provider header's value is treated as a secret (masked, sealed): every header but the known-safe ones. */
export const isSecretHeader = (name: string): boolean => !SAFE_HEADERS.has(name.toLowerCase())

/** The secret fields as the docs and messages name them. */
export const SECRET_FIELDS_TEXT =
  "master_key, store.postgres.url, limits.redis.url, tracing.otlp.headers values, tracing.langfuse.secret_key, providers[].api_key, providers[].auth.token, providers[].auth.password, providers[].auth.value, " +
  "providers[].proxy, providers[].headers values"

/** Whether a proxy URL carries credentials (`scheme://user[:password]@host`): then it is a secret. */
export const proxyHasCredentials = (url: string): boolean => /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*@/i.test(url)

/** Whether `path` (into the config document) is a secret field, where `${VAR}` may stand. */
export const isSecretPath = (path: ReadonlyArray<PropertyKey>): boolean => {
  const [a, b, c, d, e] = path
  switch (path.length) {
    case 1:
      return a === "master_key"
    case 3:
      return (
        (a === "store" && b === "postgres" && c === "url") ||
        (a === "limits" && b === "redis" && c === "url") ||
        (a === "tracing" && b === "langfuse" && c === "secret_key") ||
        (a === "providers" && typeof b === "number" && (c === "api_key" || c === "proxy"))
      )
    case 4:
      if (a === "tracing" && b === "otlp" && c === "headers") return typeof d === "string"
      if (a !== "providers" || typeof b !== "number") return false
      // `headers: { X-Key: v }`, or `auth: { token | password | value }`
      return (
        (c === "headers" && typeof d === "string") ||
        (c === "auth" && (d === "token" || d === "password" || d === "value"))
      )
    case 5:
      // `headers: [{ op, key, value }]`
      return a === "providers" && typeof b === "number" && c === "headers" && typeof d === "number" && e === "value"
    default:
      return false
  }
}

/** The value at `path` in `value`, or undefined. */
export const valueAt = (value: unknown, path: FieldPath): unknown => {
  let at: unknown = value
  for (const key of path) {
    if (typeof key === "number") at = Array.isArray(at) ? at[key] : undefined
    else at = isObject(at) ? at[key] : undefined
  }
  return at
}

/** A copy of `value` with the value at `path` replaced (or removed, for undefined); containers on the way are copied. */
export const withValueAt = (value: unknown, path: FieldPath, next: unknown): unknown => {
  const [key, ...rest] = path
  if (key === undefined) return next
  if (typeof key === "number") {
    if (!Array.isArray(value)) return value
    const copy = [...value]
    copy[key] = withValueAt(value[key], rest, next)
    return copy
  }
  if (!isObject(value)) return value
  const copy: Record<string, unknown> = { ...value }
  if (rest.length === 0 && next === undefined) delete copy[key]
  else copy[key] = withValueAt(value[key], rest, next)
  return copy
}

/** Which header values `providerSecretPaths` lists: only the secret ones, or every one. */
export type HeaderSelection = "secret" | "all"

/**
 * The paths of a provider entry's secret values that are strings: the fixed fields, then the
 * header values (`["headers", name]` for the mapping form, `["headers", i, "value"]` for the list).
 */
export const providerSecretPaths = (entry: unknown, headers: HeaderSelection = "secret"): ReadonlyArray<FieldPath> => {
  const paths: Array<FieldPath> = PROVIDER_SECRET_FIELDS.filter((p) => typeof valueAt(entry, p) === "string")
  // A proxy is a secret when its URL carries credentials; "all" lists it in any case (a sealed one shows none).
  const proxy = isObject(entry) ? entry["proxy"] : undefined
  if (typeof proxy === "string" && (headers === "all" || proxyHasCredentials(proxy))) paths.push(["proxy"])
  const list = isObject(entry) ? entry["headers"] : undefined
  if (Array.isArray(list)) {
    list.forEach((h, i) => {
      if (
        isObject(h) &&
        typeof h["value"] === "string" &&
        (headers === "all" || typeof h["key"] !== "string" || isSecretHeader(h["key"]))
      ) {
        paths.push(["headers", i, "value"])
      }
    })
  } else if (isObject(list)) {
    for (const [name, value] of Object.entries(list)) {
      if (typeof value === "string" && (headers === "all" || isSecretHeader(name))) paths.push(["headers", name])
    }
  }
  return paths
}

/** `["headers", 0, "value"]` → `headers[0].value`, `["auth", "token"]` → `auth.token`. */
export const formatFieldPath = (path: FieldPath): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("")
