/**
 * Model name patterns, as written in the config: an exact name, a glob (`claude-*`, `gpt-4?`) or a
 * `/regex/flags`. Used by model names (routing) and virtual keys' allowed-model lists (globs also by
 * route paths), compiled once per config snapshot into matchers whose time is linear in the name
 * they test: the client chooses the name and the admin the pattern, and neither can make one match
 * take quadratic or exponential time.
 *
 * - Globs are matched by hand, not by a RegExp (`.*` backtracks: quadratic with two `*`). The glob
 *   is split on `*` into segments of literal characters and `?` (any one character); the first
 *   segment is anchored at the start, the last at the end, and each middle one is taken at its
 *   leftmost place after the previous one (never worse than a later place: it leaves the most room
 *   to what follows). As with the `^…$` RegExp this replaces (`*` was `.*`, `?` was `.`), neither
 *   matches a line terminator.
 * - `/regex/` names run on RE2 (re2js), which never backtracks; what needs backtracking
 *   (backreferences, lookaround) is refused when the config loads, as is a name longer than
 *   REGEX_LENGTH_LIMIT. Flags: `i`, `m`, `s` as in JavaScript; `u` is accepted and changes nothing
 *   (RE2 always matches code points). As with `RegExp.test` before, a regex matches when it is found
 *   anywhere in the name: `^…$` anchors it.
 */
import * as Result from "effect/Result"
import { RE2JS } from "re2js"
import { type ModelPattern, REGEX_LENGTH_LIMIT } from "./Config.ts"

const _STAR = 42
const QUESTION = 63
const SLASH = 47

const isLineTerminator = (c: number): boolean => c === 10 || c === 13 || c === 0x2028 || c === 0x2029

/** `/body/flags`: the body and the flags, when `name` has that form (the body has no line terminator). */
const regexParts = (name: string): { readonly body: string; readonly flags: string } | undefined => {
  if (name.charCodeAt(0) !== SLASH) return undefined
  const close = name.lastIndexOf("/")
  if (close < 2) return undefined
  for (let i = close + 1; i < name.length; i++) if (!"imsu".includes(name[i]!)) return undefined
  for (let i = 1; i < close; i++) if (isLineTerminator(name.charCodeAt(i))) return undefined
  return { body: name.slice(1, close), flags: name.slice(close + 1) }
}

/** Whether a model name is an exact name (not a glob or a `/regex/`). */
export const isExactName = (name: string): boolean =>
  regexParts(name) === undefined && !name.includes("*") && !name.includes("?")

/** Whether `segment` (literal characters and `?`) matches `name` at `at`; the caller checked that it fits. */
const segmentAt = (name: string, at: number, segment: string): boolean => {
  for (let i = 0; i < segment.length; i++) {
    const s = segment.charCodeAt(i)
    const c = name.charCodeAt(at + i)
    if (s === QUESTION ? isLineTerminator(c) : s !== c) return false
  }
  return true
}

/** The leftmost place from `from` where `segment` matches and ends by `end`; -1 when none. */
const findSegment = (name: string, segment: string, wild: boolean, from: number, end: number): number => {
  const last = end - segment.length
  if (!wild) {
    const found = name.indexOf(segment, from)
    return found !== -1 && found <= last ? found : -1
  }
  for (let at = from; at <= last; at++) if (segmentAt(name, at, segment)) return at
  return -1
}

const hasLineTerminator = (name: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (isLineTerminator(name.charCodeAt(i))) return true
  return false
}

/**
 * A glob as a matcher: `*` any run of characters, `?` any one, everything else literal; anchored at
 * both ends. Time linear in the name for a given glob (each middle segment is searched once, from
 * where the previous one ended).
 */
export const compileGlob = (glob: string): ((name: string) => boolean) => {
  const segments = glob.split("*")
  const first = segments[0]!
  // Segments without `?` are compared natively (startsWith), the others character by character.
  const at = (segment: string) =>
    segment.includes("?")
      ? (name: string, i: number) => segmentAt(name, i, segment)
      : (name: string, i: number) => name.startsWith(segment, i)
  const firstAt = at(first)
  if (segments.length === 1) return (name) => name.length === first.length && firstAt(name, 0)
  const last = segments[segments.length - 1]!
  const lastAt = at(last)
  const middles = segments.slice(1, -1).filter((s) => s.length > 0)
  const wild = middles.map((s) => s.includes("?"))
  const minLength = first.length + last.length + middles.reduce((n, s) => n + s.length, 0)
  return (name) => {
    if (name.length < minLength) return false
    const end = name.length - last.length
    if (!firstAt(name, 0) || !lastAt(name, end)) return false
    let at = first.length
    for (let i = 0; i < middles.length; i++) {
      const segment = middles[i]!
      const found = findSegment(name, segment, wild[i]!, at, end)
      // A line terminator before the leftmost place is before every later place too.
      if (found === -1 || hasLineTerminator(name, at, found)) return false
      at = found + segment.length
    }
    return !hasLineTerminator(name, at, end)
  }
}

const RE2_FLAGS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  u: 0
}

/**
 * A model name: `/regex/flags`, a glob (has `*` or `?`), or an exact name. Fails with the reason
 * for a `/regex/` RE2 refuses (invalid, or needing backtracking) or one longer than REGEX_LENGTH_LIMIT.
 */
export const compilePattern = (name: string): Result.Result<ModelPattern, string> => {
  const regex = regexParts(name)
  if (regex !== undefined) {
    if (name.length > REGEX_LENGTH_LIMIT) {
      return Result.fail(
        `a /regex/ name may have at most ${REGEX_LENGTH_LIMIT} characters (this one has ${name.length})`
      )
    }
    let flags = 0
    for (const f of regex.flags) {
      if (regex.flags.indexOf(f) !== regex.flags.lastIndexOf(f))
        return Result.fail(`invalid regular expression: flag "${f}" given twice`)
      flags |= RE2_FLAGS[f]!
    }
    try {
      const compiled = RE2JS.compile(regex.body, flags)
      return Result.succeed({ _tag: "Regex", matches: (model: string) => compiled.test(model) })
    } catch (e) {
      // RE2's syntax errors name the construct: `(?=`, `\1`, a repeat count over 1000, ...
      const detail = e instanceof Error ? e.message.replace(/^error parsing regexp: /, "") : String(e)
      return Result.fail(`invalid regular expression: ${detail} (RE2 syntax: no backreferences or lookaround)`)
    }
  }
  if (name.includes("*") || name.includes("?")) return Result.succeed({ _tag: "Glob", matches: compileGlob(name) })
  return Result.succeed({ _tag: "Exact" })
}
