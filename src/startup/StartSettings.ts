/**
 * What every config snapshot takes from the start rather than from the config: the listen address
 * (flags and environment beat the file; a running server cannot move anyway) and the master key
 * when the config sets none (generated once for the run). Plain data: the owner sends it to every
 * worker, and owner and workers apply it the same way.
 */
import * as Redacted from "effect/Redacted"
import type { ResolvedConfig } from "../config/Config.ts"

export interface StartSettings {
  readonly host: string
  readonly port: number
  /** The master key used when a config sets none. */
  readonly masterKey: string
}

export type StartedConfig = ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }

export const applyStart = (config: ResolvedConfig, start: StartSettings): StartedConfig => ({
  ...config,
  server: { ...config.server, host: start.host, port: start.port },
  masterKey: config.masterKey ?? Redacted.make(start.masterKey)
})
