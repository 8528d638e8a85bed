// src/generated/version.ts is the core's one VERSION (src/ reads nothing outside src/, so not
// package.json): it must say what package.json says. `npm run gen` rewrites it.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { VERSION } from "../../../src/generated/version.ts"

describe("VERSION", () => {
  it("is package.json's version (run `npm run gen` when this fails)", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      readonly version: string
    }
    expect(VERSION).toBe(pkg.version)
  })
})
