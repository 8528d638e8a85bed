// `tls.ca_file` is read when a config is loaded: a file that is missing or holds no PEM certificate
// is a config error naming the field, at start (loadConfigFile) and on a reload (ConfigSource.load).
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import { caBundleIssue } from "../../../src/config/CaFiles.ts"
import { ConfigSource, loadConfigFile } from "../../../src/config/ConfigSource.ts"

const CA = resolve(import.meta.dirname, "../../fixtures/tls/ca.pem")

const folder = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-ca-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const configWith = (dir: string, caFiles: ReadonlyArray<string | undefined>): string => {
  const providers = caFiles.map(
    (file, i) =>
      `  - { name: p${i}, kind: openai, base_url: "https://h${i}.example/v1"${file === undefined ? "" : `, tls: { ca_file: "${file}" }`} }`
  )
  const path = join(dir, "config.yaml")
  writeFileSync(path, `providers:\n${providers.join("\n")}\nmodels: [{ name: m, targets: [{ provider: p0 }] }]\n`)
  return path
}

const load = (path: string) =>
  Effect.runPromise(Effect.result(loadConfigFile(path, {}, undefined)).pipe(Effect.provide(NodeFileSystem.layer)))

describe("tls.ca_file at config load", () => {
  it("a readable PEM bundle loads", async () => {
    const dir = folder()
    const r = await load(configWith(dir, [CA]))
    expect(Result.isSuccess(r) && r.success.config.providers.get("p0")?.connection.caFile).toBe(CA)
  })

  it("a missing file and a file without a certificate are errors naming their fields, together", async () => {
    const dir = folder()
    const notPem = join(dir, "not-a-cert.pem")
    writeFileSync(notPem, "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    const missing = join(dir, "missing.pem")
    const r = await load(configWith(dir, [CA, undefined, missing, notPem]))
    if (Result.isSuccess(r)) throw new Error("expected a config error")
    expect(r.failure._tag).toBe("ConfigError")
    const lines = r.failure.message.split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(new RegExp(`^providers\\[2\\]\\.tls\\.ca_file: cannot read "${missing}": `))
    expect(lines[1]).toBe(
      `providers[3].tls.ca_file: "${notPem}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`
    )
  })

  it("a reload that names a missing file fails (the running config is kept)", async () => {
    const dir = folder()
    const path = configWith(dir, [CA])
    const program = Effect.gen(function* () {
      const source = yield* ConfigSource
      const first = yield* Effect.result(source.load)
      writeFileSync(
        path,
        `providers: [{ name: p0, kind: openai, base_url: "https://h/v1", tls: { ca_file: /nonexistent/ca.pem } }]\nmodels: [{ name: m, targets: [{ provider: p0 }] }]\n`
      )
      const second = yield* Effect.result(source.load)
      return { first, second }
    })
    const { first, second } = await Effect.runPromise(
      program.pipe(
        Effect.provide(ConfigSource.layerFile(path, {}, { pollMs: 60_000 })),
        Effect.provide(NodeFileSystem.layer),
        Effect.scoped
      )
    )
    expect(Result.isSuccess(first)).toBe(true)
    if (Result.isSuccess(second)) throw new Error("expected the reload to fail")
    expect(second.failure.message).toMatch(/^providers\[0\]\.tls\.ca_file: cannot read "\/nonexistent\/ca\.pem"/)
  })

  it("caBundleIssue: a bundle needs a whole certificate", () => {
    expect(caBundleIssue("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")).toBeUndefined()
    expect(caBundleIssue("-----BEGIN CERTIFICATE-----\nMIIB")).toBeDefined()
    expect(caBundleIssue("")).toBeDefined()
  })
})
