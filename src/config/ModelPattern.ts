/**
 * Model name patterns, as written in the config: an exact name, a glob (`claude-*`, `gpt-4?`) or a
 * `/regex/flags`. Used by model names (routing) and by virtual keys' allowed-model lists, compiled
 * once per config snapshot.
 */
import type { ModelPattern } from "./Config.ts"

/** Whether a model name is an exact name (not a glob or a `/regex/`). */
export const isExactName = (name: string): boolean => !/^\/.+\/[imsu]*$/.test(name) && !name.includes("*") && !name.includes("?")

/** `*` any run of characters, `?` one character; everything else literal. Anchored. */
export const globToRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)

/** A model name: `/regex/flags`, a glob (has `*` or `?`), or an exact name. Throws on a bad regex. */
export const compilePattern = (name: string): ModelPattern => {
  const regex = /^\/(.+)\/([imsu]*)$/.exec(name)
  if (regex) return { _tag: "Regex", regex: new RegExp(regex[1] ?? "", regex[2]) }
  if (name.includes("*") || name.includes("?")) return { _tag: "Glob", regex: globToRegExp(name) }
  return { _tag: "Exact" }
}
