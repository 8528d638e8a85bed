/**
 * Client authentication on the proxy endpoints: `Authorization: Bearer <key>` checked against the
 * master key in constant time. Virtual keys (tenancy issue) extend `authenticate` with an O(1)
 * in-memory lookup by key hash.
 */
import * as Redacted from "effect/Redacted"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"

export type Principal = { readonly _tag: "Master" }

const MASTER: Principal = { _tag: "Master" }

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

export const makeAuthenticator = (masterKey: Redacted.Redacted<string>) => {
  const master = Redacted.value(masterKey)
  return (authorization: string | undefined): Principal | GatewayError => {
    const token = bearerToken(authorization)
    if (token === undefined) {
      return gatewayError({
        _tag: "Unauthorized",
        message: "You didn't provide an API key. Send it in the Authorization header as `Bearer YOUR_KEY`."
      })
    }
    if (!constantTimeEqual(token, master)) {
      return gatewayError({ _tag: "Unauthorized", message: "Incorrect API key provided." })
    }
    return MASTER
  }
}
