/**
 * Provider credentials at rest in Postgres: the secret fields of a provider's spec (`api_key`,
 * `auth.token`, `auth.password`, `auth.value`, and the values of its headers but the known-safe ones,
 * config/SecretFields.ts) are stored sealed with the SecretBox under `LLMGATE_ENCRYPTION_KEY`, each
 * bound to `provider:<name>:<field path>` (`headers.x-api-key`, `headers[0].value`), and opened on
 * load. Header values stored in plaintext before headers were sealed still load; the provider's
 * next write seals them. Without the key, Postgres mode is refused unless
 * `LLMGATE_ALLOW_PLAINTEXT_SECRETS=1` says to store them as plaintext. Messages name the field,
 * never a value.
 */
import * as Effect from "effect/Effect"
import type { ConfigIssue } from "../../config/ConfigError.ts"
import type { Env } from "../../config/interpolate.ts"
import {
  type FieldPath,
  formatFieldPath,
  providerSecretPaths,
  proxyHasCredentials,
  valueAt,
  withValueAt
} from "../../config/SecretFields.ts"
import {
  ENCRYPTION_KEY_VARIABLE,
  isSealed,
  makeSecretBox,
  type SecretBox,
  SecretBoxError
} from "../../crypto/SecretBox.ts"

export const PLAINTEXT_VARIABLE = "LLMGATE_ALLOW_PLAINTEXT_SECRETS"

/** The SecretBox context of one provider field: `provider:openai:auth.token`, `provider:openai:headers.x-api-key`. */
export const secretContext = (provider: string, path: FieldPath): string =>
  `provider:${provider}:${formatFieldPath(path)}`

export interface ProviderSecrets {
  /** `sealed`: under LLMGATE_ENCRYPTION_KEY; `plaintext`: stored as written (explicitly allowed). */
  readonly mode: "sealed" | "plaintext"
  /** The spec with every secret field sealed (unchanged in plaintext mode). */
  readonly seal: (
    provider: string,
    spec: Record<string, unknown>
  ) => Effect.Effect<Record<string, unknown>, SecretBoxError>
  /**
   * The spec with every secret field opened. A field that does not open (another key, tampered, stored
   * in plaintext while a key is set, sealed while none is) is left out and reported in `issues` at `at`.
   */
  readonly open: (
    provider: string,
    spec: Record<string, unknown>,
    at: string,
    issues: Array<ConfigIssue>
  ) => Effect.Effect<Record<string, unknown>>
}

/** Whether a path is a header value (sealed since headers are; plaintext ones from before still load). */
const isHeader = (path: FieldPath): boolean => path[0] === "headers"
/** A proxy without credentials, which is not sealed (and so not a secret stored in plaintext). */
const isPlainProxy = (path: FieldPath, value: string): boolean => path[0] === "proxy" && !proxyHasCredentials(value)

/** Applies `f` to the string values at `paths` of `spec`, returning a copy (undefined removes the field). */
const mapSecrets = <E>(
  spec: Record<string, unknown>,
  paths: ReadonlyArray<FieldPath>,
  f: (value: string, path: FieldPath) => Effect.Effect<string | undefined, E>
): Effect.Effect<Record<string, unknown>, E> =>
  Effect.gen(function* () {
    let out: unknown = spec
    for (const path of paths) {
      const value = valueAt(out, path)
      if (typeof value !== "string") continue
      out = withValueAt(out, path, yield* f(value, path))
    }
    return out as Record<string, unknown>
  })

const fromBox = (box: SecretBox): ProviderSecrets => ({
  mode: "sealed",
  seal: (provider, spec) =>
    mapSecrets(spec, providerSecretPaths(spec, "secret"), (value, path) =>
      isSealed(value) ? Effect.succeed(value) : box.seal(value, secretContext(provider, path))
    ),
  open: (provider, spec, at, issues) =>
    mapSecrets(spec, providerSecretPaths(spec, "all"), (value, path) => {
      const where = `${at}.${formatFieldPath(path)}`
      if (!isSealed(value)) {
        if (isHeader(path) || isPlainProxy(path, value)) return Effect.succeed(value)
        issues.push({
          path: where,
          message: `stored in plaintext while ${ENCRYPTION_KEY_VARIABLE} is set; write it through \`llmgate import\` or the admin API, which seal it`
        })
        return Effect.succeed(undefined)
      }
      return box.open(value, secretContext(provider, path)).pipe(
        Effect.catch((e) =>
          Effect.sync(() => {
            issues.push({ path: where, message: e.message })
            return undefined
          })
        )
      )
    })
})

const plaintext: ProviderSecrets = {
  mode: "plaintext",
  seal: (_, spec) => Effect.succeed(spec),
  open: (_, spec, at, issues) =>
    mapSecrets(spec, providerSecretPaths(spec, "all"), (value, path) => {
      if (!isSealed(value)) return Effect.succeed(value)
      issues.push({
        path: `${at}.${formatFieldPath(path)}`,
        message: `encrypted, but ${ENCRYPTION_KEY_VARIABLE} is not set`
      })
      return Effect.succeed(undefined)
    })
}

/** Why Postgres mode refuses to start without a key. */
export const MISSING_KEY_MESSAGE =
  `Postgres mode stores provider credentials encrypted and needs ${ENCRYPTION_KEY_VARIABLE} ` +
  "(32 random bytes as hex or base64; generate one with `openssl rand -base64 32`). " +
  `To store them unencrypted instead, set ${PLAINTEXT_VARIABLE}=1.`

/** The plaintext-mode warning printed at startup and by `llmgate import`. */
export const PLAINTEXT_WARNING = `${PLAINTEXT_VARIABLE}=1 and no ${ENCRYPTION_KEY_VARIABLE}: provider credentials are stored in Postgres unencrypted`

/**
 * The secrets codec for this environment: sealed under `LLMGATE_ENCRYPTION_KEY` when it is set (an
 * invalid key fails), plaintext when only `LLMGATE_ALLOW_PLAINTEXT_SECRETS=1` is, otherwise refused.
 */
export const makeProviderSecrets = Effect.fn("ProviderSecrets.make")(function* (env: Env) {
  const key = env[ENCRYPTION_KEY_VARIABLE]
  if (key !== undefined && key !== "") return fromBox(yield* makeSecretBox(key))
  if (env[PLAINTEXT_VARIABLE] === "1") return plaintext
  return yield* new SecretBoxError({ reason: "InvalidKey", message: MISSING_KEY_MESSAGE })
})
