/**
 * Client authentication on the proxy endpoints: `Authorization: Bearer <key>` is the master key
 * (compared in constant time) or a virtual key, found by its SHA-256 in a Map built once per config
 * snapshot. Per request: one constant-time compare, and for other tokens one hash, one lookup and
 * one clock read. No allocation beyond the hash string; the principal objects are prebuilt.
 */
import * as Redacted from "effect/Redacted"
import type { ResolvedKey, ResolvedTenancy } from "../config/Config.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { hashKey } from "./KeyMaterial.ts"

export type Principal = { readonly _tag: "Master" } | { readonly _tag: "VirtualKey"; readonly key: ResolvedKey }

export const MASTER: Principal = { _tag: "Master" }

/** Whether `principal` may use the requested public model name (the master key may use every model). */
export const mayUse = (principal: Principal, model: string): boolean =>
  principal._tag === "Master" || principal.key.allows(model)

/**
 * Whether a configured model name appears in `principal`'s `GET /v1/models`: an exact name when
 * the key allows it, a pattern name (`claude-*`) only for keys allowing every model or listing that
 * very pattern.
 */
export const mayList = (principal: Principal, configuredName: string, exactName: boolean): boolean => {
  if (principal._tag === "Master") return true
  const models = principal.key.models
  if (models === undefined) return true
  return exactName ? principal.key.allows(configuredName) : models.includes(configuredName)
}

/** Compares two strings in time independent of where they differ. */
export const constantTimeEqual = (a: string, b: string): boolean => {
  let diff = a.length ^ b.length
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0)
  return diff === 0
}

/** The bearer token of an Authorization header value, if well-formed. */
export const bearerToken = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m?.[1]
}

/** One accepted hash: the key's principal, and until when (epoch ms) this hash is accepted. */
interface Credential {
  readonly principal: Principal
  readonly enabled: boolean
  readonly validUntilMs: number
  /** The 401 message once `validUntilMs` passed. */
  readonly expired: string
}

const MISSING = "You didn't provide an API key. Send it in the Authorization header as `Bearer YOUR_KEY`."
const INCORRECT = "Incorrect API key provided."
const DISABLED = "This API key has been disabled."
const EXPIRED = "This API key has expired."
const ROTATED = "This API key was rotated and its grace period has ended; use the new key."

const unauthorized = (message: string): GatewayError => gatewayError({ _tag: "Unauthorized", message })

/**
 * The authenticator of one config snapshot. Unknown, disabled and expired keys (and a rotated key's
 * old hash after its grace period) are 401 `invalid_api_key`; no message echoes the key.
 */
export const makeAuthenticator = (
  masterKey: Redacted.Redacted<string>,
  tenancy?: ResolvedTenancy,
  now: () => number = Date.now
) => {
  const master = Redacted.value(masterKey)
  const credentials = new Map<string, Credential>()
  for (const [hash, key] of tenancy?.keysByHash ?? []) {
    const principal: Principal = { _tag: "VirtualKey", key }
    const previous = hash !== key.hash
    const validUntilMs = previous ? (key.previousExpiresAtMs ?? 0) : key.expiresAtMs
    credentials.set(hash, {
      principal,
      enabled: key.enabled,
      validUntilMs,
      expired: previous && validUntilMs < key.expiresAtMs ? ROTATED : EXPIRED
    })
  }
  const hasKeys = credentials.size > 0
  return (authorization: string | undefined): Principal | GatewayError => {
    const token = bearerToken(authorization)
    if (token === undefined) return unauthorized(MISSING)
    if (constantTimeEqual(token, master)) return MASTER
    if (!hasKeys) return unauthorized(INCORRECT)
    const credential = credentials.get(hashKey(token))
    if (credential === undefined) return unauthorized(INCORRECT)
    if (!credential.enabled) return unauthorized(DISABLED)
    if (now() >= credential.validUntilMs) return unauthorized(credential.expired)
    return credential.principal
  }
}
