/**
 * Provider credentials at rest in Postgres: the secret fields of a provider's spec (`api_key`,
 * `auth.token`, `auth.password`, `auth.value`; header values are not secret) are stored sealed with
 * the SecretBox under `LLMGATE_ENCRYPTION_KEY`, each bound to `provider:<name>:<field path>`, and
 * opened on load. Without the key, Postgres mode is refused unless `LLMGATE_ALLOW_PLAINTEXT_SECRETS=1`
 * says to store them as plaintext. Messages name the field, never a value.
 */
import * as Effect from "effect/Effect"
import type { ConfigIssue } from "../../config/ConfigError.ts"
import type { Env } from "../../config/interpolate.ts"
import { ENCRYPTION_KEY_VARIABLE, isSealed, makeSecretBox, type SecretBox, SecretBoxError } from "../../crypto/SecretBox.ts"

export const PLAINTEXT_VARIABLE = "LLMGATE_ALLOW_PLAINTEXT_SECRETS"

/** The secret fields of a provider spec, as paths into it. */
export const SECRET_FIELDS: ReadonlyArray<ReadonlyArray<string>> = [["api_key"], ["auth", "token"], ["auth", "password"], ["auth", "value"]]

/** The SecretBox context of one provider field: `provider:openai:auth.token`. */
export const secretContext = (provider: string, path: ReadonlyArray<string>): string => `provider:${provider}:${path.join(".")}`

export interface ProviderSecrets {
  /** `sealed`: under LLMGATE_ENCRYPTION_KEY; `plaintext`: stored as written (explicitly allowed). */
  readonly mode: "sealed" | "plaintext"
  /** The spec with every secret field sealed (unchanged in plaintext mode). */
  readonly seal: (provider: string, spec: Record<string, unknown>) => Effect.Effect<Record<string, unknown>, SecretBoxError>
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

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** Applies `f` to every string secret field present in `spec`, returning a copy. */
const mapSecrets = <E>(
  spec: Record<string, unknown>,
  f: (value: string, path: ReadonlyArray<string>) => Effect.Effect<string | undefined, E>
): Effect.Effect<Record<string, unknown>, E> =>
  Effect.gen(function*() {
    const out: Record<string, unknown> = { ...spec }
    if (isRecord(out["auth"])) out["auth"] = { ...out["auth"] }
    for (const path of SECRET_FIELDS) {
      const parent = path.length === 1 ? out : out[path[0] ?? ""]
      const key = path[path.length - 1] ?? ""
      if (!isRecord(parent)) continue
      const value = parent[key]
      if (typeof value !== "string") continue
      const next = yield* f(value, path)
      if (next === undefined) delete parent[key]
      else parent[key] = next
    }
    return out
  })

const fromBox = (box: SecretBox): ProviderSecrets => ({
  mode: "sealed",
  seal: (provider, spec) =>
    mapSecrets(spec, (value, path) => isSealed(value) ? Effect.succeed(value) : box.seal(value, secretContext(provider, path))),
  open: (provider, spec, at, issues) =>
    mapSecrets(spec, (value, path) => {
      const where = `${at}.${path.join(".")}`
      if (!isSealed(value)) {
        issues.push({
          path: where,
          message: `stored in plaintext while ${ENCRYPTION_KEY_VARIABLE} is set; write it through \`llmgate import\` or the admin API, which seal it`
        })
        return Effect.succeed(undefined)
      }
      return box.open(value, secretContext(provider, path)).pipe(
        Effect.catch((e) => Effect.sync(() => {
          issues.push({ path: where, message: e.message })
          return undefined
        }))
      )
    })
})

const plaintext: ProviderSecrets = {
  mode: "plaintext",
  seal: (_, spec) => Effect.succeed(spec),
  open: (_, spec, at, issues) =>
    mapSecrets(spec, (value, path) => {
      if (!isSealed(value)) return Effect.succeed(value)
      issues.push({ path: `${at}.${path.join(".")}`, message: `encrypted, but ${ENCRYPTION_KEY_VARIABLE} is not set` })
      return Effect.succeed(undefined)
    })
}

/** Why Postgres mode refuses to start without a key. */
export const MISSING_KEY_MESSAGE =
  `Postgres mode stores provider credentials encrypted and needs ${ENCRYPTION_KEY_VARIABLE} ` +
  "(32 random bytes as hex or base64; generate one with `openssl rand -base64 32`). " +
  `To store them unencrypted instead, set ${PLAINTEXT_VARIABLE}=1.`

/** The plaintext-mode warning printed at startup and by `llmgate import`. */
export const PLAINTEXT_WARNING =
  `${PLAINTEXT_VARIABLE}=1 and no ${ENCRYPTION_KEY_VARIABLE}: provider credentials are stored in Postgres unencrypted`

/**
 * The secrets codec for this environment: sealed under `LLMGATE_ENCRYPTION_KEY` when it is set (an
 * invalid key fails), plaintext when only `LLMGATE_ALLOW_PLAINTEXT_SECRETS=1` is, otherwise refused.
 */
export const makeProviderSecrets = Effect.fn("ProviderSecrets.make")(function*(env: Env) {
  const key = env[ENCRYPTION_KEY_VARIABLE]
  if (key !== undefined && key !== "") return fromBox(yield* makeSecretBox(key))
  if (env[PLAINTEXT_VARIABLE] === "1") return plaintext
  return yield* new SecretBoxError({ reason: "InvalidKey", message: MISSING_KEY_MESSAGE })
})
