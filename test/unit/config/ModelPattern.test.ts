// Model name patterns (issue 10, item 2): globs are matched by a hand-written matcher with exactly
// the semantics of the anchored RegExp they replace (checked against it with fast-check on small
// inputs), in linear time; `/regex/` names run on RE2 with the same search semantics and flags as
// `RegExp.test`, and what RE2 refuses (backreferences, lookaround) or what is too long is refused
// with a reason. The slow cases below would not finish with the old matchers (the suite's timeout
// is what fails them); with the new ones they take microseconds.
import { Result } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { REGEX_LENGTH_LIMIT } from "../../../src/config/Config.ts"
import { compileGlob, compilePattern, isExactName } from "../../../src/config/ModelPattern.ts"

/** The glob matcher this replaced, kept as the reference. */
const oldGlob = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`
  )
const oldIsExact = (name: string): boolean =>
  !/^\/.+\/[imsu]*$/.test(name) && !name.includes("*") && !name.includes("?")

const matcherOf = (name: string): ((model: string) => boolean) => {
  const compiled = compilePattern(name)
  if (Result.isFailure(compiled)) throw new Error(compiled.failure)
  if (compiled.success._tag === "Exact") return (model) => model === name
  return compiled.success.matches
}

const failureOf = (name: string): string => {
  const compiled = compilePattern(name)
  if (Result.isSuccess(compiled)) throw new Error(`expected ${name} to be refused`)
  return compiled.failure
}

// Characters that matter: wildcards, regex syntax the old code escaped, line terminators, a
// surrogate half (the old RegExp had no `u` flag: `?` was one UTF-16 unit).
const CHARS = ["a", "b", "*", "?", ".", "\\", "$", "(", "\n", "\r", "\u2028", "\ud83d", "\ude00", "-"]
const glob = fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((cs) => cs.join(""))
const name = fc.array(fc.constantFrom(...CHARS.filter((c) => c !== "*")), { maxLength: 12 }).map((cs) => cs.join(""))

describe("compileGlob", () => {
  it("agrees with the anchored RegExp it replaces", () => {
    fc.assert(
      fc.property(glob, name, (g, n) => {
        expect(compileGlob(g)(n)).toBe(oldGlob(g).test(n))
      }),
      { numRuns: 5_000, seed: 10_2 }
    )
  })

  it("agrees on names built from the glob itself (mostly matches)", () => {
    const filled = fc.tuple(glob, fc.array(name, { minLength: 8, maxLength: 8 })).map(([g, fills]) => {
      let i = 0
      return [g, g.replace(/\*/g, () => fills[i++ % fills.length]!).replace(/\?/g, "x")] as const
    })
    fc.assert(
      fc.property(filled, ([g, n]) => {
        expect(compileGlob(g)(n)).toBe(oldGlob(g).test(n))
      }),
      { numRuns: 3_000, seed: 10_3 }
    )
  })

  it("examples", () => {
    expect(compileGlob("claude-*")("claude-3-opus")).toBe(true)
    expect(compileGlob("claude-*")("claude-")).toBe(true)
    expect(compileGlob("claude-*")("gpt-claude-")).toBe(false)
    expect(compileGlob("gpt-4?")("gpt-4o")).toBe(true)
    expect(compileGlob("gpt-4?")("gpt-4")).toBe(false)
    expect(compileGlob("*-mini-*")("gpt-4o-mini-2024")).toBe(true)
    expect(compileGlob("a*b*a")("aba")).toBe(true)
    expect(compileGlob("a*ab*ba")("aba")).toBe(false)
    expect(compileGlob("/v1/x/*")("/v1/x/anything/else")).toBe(true)
    expect(compileGlob("gpt-4.1*")("gpt-4x1")).toBe(false)
  })

  it("is linear: many stars against a long name that almost matches", () => {
    // The old `^.*a.*a.*a.*a.*a.*b$` backtracks through every split of 20 000 characters (n^5).
    const long = "a".repeat(20_000)
    expect(compileGlob("*a*a*a*a*a*b")(long)).toBe(false)
    expect(compileGlob("*a*a*a*a*a*b")(`${long}b`)).toBe(true)
    expect(compileGlob("*a?a*?*a??a*c")(long)).toBe(false)
    expect(compileGlob("*")(`${long}\n`)).toBe(false)
  })
})

describe("isExactName", () => {
  it("agrees with the RegExp it replaces", () => {
    const candidate = fc
      .array(fc.constantFrom("/", "a", "i", "m", "s", "u", "x", "*", "\n"), { maxLength: 8 })
      .map((cs) => cs.join(""))
    fc.assert(
      fc.property(candidate, (n) => {
        expect(isExactName(n)).toBe(oldIsExact(n))
      }),
      { numRuns: 3_000, seed: 10_4 }
    )
  })
})

describe("compilePattern: /regex/ names on RE2", () => {
  it("keeps RegExp.test's search semantics and the i, m, s, u flags", () => {
    expect(matcherOf("/gpt/")("my-gpt-x")).toBe(true)
    expect(matcherOf("/^gpt$/")("my-gpt-x")).toBe(false)
    expect(matcherOf("/GPT/i")("my-gpt-x")).toBe(true)
    expect(matcherOf("/GPT/")("my-gpt-x")).toBe(false)
    expect(matcherOf("/^b$/")("a\nb")).toBe(false)
    expect(matcherOf("/^b$/m")("a\nb")).toBe(true)
    expect(matcherOf("/^a.b$/")("a\nb")).toBe(false)
    expect(matcherOf("/^a.b$/s")("a\nb")).toBe(true)
    expect(matcherOf("/^llama-(3|4)$/iu")("LLAMA-4")).toBe(true)
    expect(matcherOf("/^(?<family>llama)-\\d+$/")("llama-70")).toBe(true)
  })

  it("agrees with RegExp.test on backtracking-free patterns", () => {
    const patterns = ["^gpt-4", "mini$", "(a|b)+c", "^[a-z]+-\\d{1,2}$", "o.?1", "\\bx\\b"]
    const names = fc
      .array(fc.constantFrom("g", "p", "t", "-", "4", "a", "b", "c", "o", "1", "x", " "), { maxLength: 10 })
      .map((cs) => cs.join(""))
    fc.assert(
      fc.property(fc.constantFrom(...patterns), fc.constantFrom("", "i"), names, (p, flags, n) => {
        expect(matcherOf(`/${p}/${flags}`)(n)).toBe(new RegExp(p, flags).test(n))
      }),
      { numRuns: 2_000, seed: 10_5 }
    )
  })

  it("runs a pattern that backtracks catastrophically in linear time", () => {
    // With RegExp, `(a+)+$` against 40 a's and a "!" tries 2^40 splits from each start.
    expect(matcherOf("/(a+)+$/")(`${"a".repeat(40)}!`)).toBe(false)
    expect(matcherOf("/(a+)+!$/")(`${"a".repeat(40)}!`)).toBe(true)
    expect(matcherOf("/^(a|aa)*c$/")("a".repeat(10_000))).toBe(false)
  })

  it("refuses what RE2 does not run (backreferences, lookaround), saying why", () => {
    expect(failureOf("/(a)\\1/")).toMatch(/^invalid regular expression: .*\\1/)
    expect(failureOf("/gpt(?=-4)/")).toMatch(/^invalid regular expression: .*\(\?=/)
    expect(failureOf("/(?<!x)gpt/")).toMatch(/^invalid regular expression: /)
    expect(failureOf("/(/")).toMatch(/^invalid regular expression: /)
    expect(failureOf("/x/ii")).toMatch(/flag "i" given twice/)
    // Repeat counts are bounded (compiling cannot blow up either).
    expect(failureOf("/((a{100}){100}){100}/")).toMatch(/^invalid regular expression: /)
  })

  it("refuses a /regex/ name longer than REGEX_LENGTH_LIMIT", () => {
    const longest = `/${"a".repeat(REGEX_LENGTH_LIMIT - 2)}/`
    expect(matcherOf(longest)("a".repeat(REGEX_LENGTH_LIMIT - 2))).toBe(true)
    expect(failureOf(`/${"a".repeat(REGEX_LENGTH_LIMIT - 1)}/`)).toBe(
      `a /regex/ name may have at most ${REGEX_LENGTH_LIMIT} characters (this one has ${REGEX_LENGTH_LIMIT + 1})`
    )
  })

  it("globs and exact names compile as before", () => {
    expect(Result.getOrThrow(compilePattern("claude-*"))._tag).toBe("Glob")
    expect(Result.getOrThrow(compilePattern("gpt-4?"))._tag).toBe("Glob")
    expect(Result.getOrThrow(compilePattern("gpt-4o"))._tag).toBe("Exact")
    expect(Result.getOrThrow(compilePattern("/x"))._tag).toBe("Exact")
  })
})
