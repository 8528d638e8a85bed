import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseArgs } from "../../../src/cli/Cli.ts"

const ok = (argv: ReadonlyArray<string>) => {
  const r = parseArgs(argv)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}
const fails = (argv: ReadonlyArray<string>) => {
  const r = parseArgs(argv)
  if (Result.isSuccess(r)) throw new Error("expected a usage error")
  return r.failure.message
}

describe("parseArgs", () => {
  it("reads flags in both spellings", () => {
    expect(ok(["--config", "a.yaml", "--port=4100", "--host", "0.0.0.0", "--debug", "--workers", "3"])).toEqual({
      command: { _tag: "Serve" },
      config: "a.yaml",
      host: "0.0.0.0",
      port: 4100,
      workers: 3,
      debug: true,
      help: false,
      version: false
    })
    expect(ok([])).toEqual({
      command: { _tag: "Serve" },
      config: undefined,
      databaseUrl: undefined,
      host: undefined,
      port: undefined,
      workers: undefined,
      debug: false,
      help: false,
      version: false
    })
    expect(ok(["--workers=auto"]).workers).toBe("auto")
  })
  it("rejects unknown arguments, missing values and bad ports", () => {
    expect(fails(["--cfg", "x"])).toBe('unknown argument "--cfg"')
    expect(fails(["--config"])).toBe("--config needs a value")
    expect(fails(["--port", "http"])).toMatch(/^--port: expected a port number/)
    expect(fails(["--port", "70000"])).toMatch(/^--port: expected a port number/)
    expect(fails(["--workers", "0"])).toMatch(/^--workers: expected "auto" or a number/)
    expect(fails(["--workers", "many"])).toMatch(/^--workers: expected "auto" or a number/)
  })
  it("reads the migrate and import subcommands and --database-url", () => {
    expect(ok(["migrate"]).command).toEqual({ _tag: "Migrate" })
    expect(ok(["migrate", "--database-url", "postgres://h/db"])).toMatchObject({
      command: { _tag: "Migrate" },
      databaseUrl: "postgres://h/db"
    })
    expect(ok(["import", "seed.yaml"]).command).toEqual({ _tag: "Import", file: "seed.yaml" })
    expect(ok(["--database-url=postgres://h/db", "import", "seed.yaml"])).toMatchObject({
      command: { _tag: "Import", file: "seed.yaml" },
      databaseUrl: "postgres://h/db"
    })
    expect(ok(["--database-url", "postgres://h/db"])).toMatchObject({
      command: { _tag: "Serve" },
      databaseUrl: "postgres://h/db"
    })
  })
  it("rejects a missing FILE, extra arguments and unknown commands", () => {
    expect(fails(["import"])).toBe("import needs a FILE")
    expect(fails(["import", "a.yaml", "b.yaml"])).toBe('unknown argument "b.yaml"')
    expect(fails(["migrate", "now"])).toBe('unknown argument "now"')
    expect(fails(["serve"])).toBe('unknown argument "serve"')
    expect(fails(["--database-url"])).toBe("--database-url needs a value")
  })
})
