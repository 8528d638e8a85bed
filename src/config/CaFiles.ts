/**
 * Providers' `tls.ca_file`, read when a config is loaded (the file, Postgres, a reload) through the
 * FileSystem port: a file that is missing, unreadable or holds no PEM certificate is a ConfigError
 * naming the field (`providers[2].tls.ca_file: …`), so the config is refused (at start) or the
 * running one kept (a reload). The runtimes' upstream clients read the bundle again when they make
 * the provider's connection pool (each thread its own); this is the check that it is there.
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Result from "effect/Result"
import type { ResolvedConfig } from "./Config.ts"
import { ConfigError, type ConfigIssue } from "./ConfigError.ts"

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/

/** The issue a CA bundle's text raises, if any. */
export const caBundleIssue = (text: string): string | undefined =>
  PEM_CERTIFICATE.test(text) ? undefined : "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"

/** Reads every `tls.ca_file` of `config`'s providers; fails with every problem found. */
export const checkCaFiles = (
  fs: FileSystem.FileSystem,
  config: ResolvedConfig,
  source: string
): Effect.Effect<void, ConfigError> =>
  Effect.gen(function* () {
    const issues: Array<ConfigIssue> = []
    let i = 0
    for (const provider of config.providers.values()) {
      const at = `providers[${i++}].tls.ca_file`
      const file = provider.connection.caFile
      if (file === undefined) continue
      const text = yield* Effect.result(fs.readFileString(file))
      if (Result.isFailure(text)) {
        issues.push({ path: at, message: `cannot read "${file}": ${text.failure.message}` })
        continue
      }
      const issue = caBundleIssue(text.success)
      if (issue !== undefined) issues.push({ path: at, message: `"${file}" ${issue}` })
    }
    if (issues.length > 0) return yield* new ConfigError({ source, issues })
  })
