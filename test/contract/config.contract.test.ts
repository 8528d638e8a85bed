// Config loading at startup: bad configs exit non-zero with one stderr line per problem (and no secrets);
// LLMGATE_CONFIG and ${ENV} / ${ENV:-default} interpolation work in the secret fields, for LLMGATE_* and the
// variables the file lists under `env:`, and nowhere else.
import { afterAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, runUntilExit } from "./gateway.ts"
import { findLeaks, MASTER_KEY, PROVIDER_KEY, runtime } from "./harness.ts"

const validBase = (port: number) => ({
  server: { host: "127.0.0.1", port },
  master_key: MASTER_KEY,
  providers: [{ name: "mock", kind: "mock" }],
  models: [{ name: "m", targets: [{ provider: "mock" }] }]
})

const expectRefused = (r: Awaited<ReturnType<typeof runUntilExit>>) => {
  expect(r.timedOut, `the gateway kept running with a bad config; stdout: ${r.stdout}`).toBe(false)
  expect(r.exit.code, `stderr: ${r.stderr}`).not.toBe(0)
  expect(r.exit.code).not.toBeNull()
  expect(r.stdout).not.toContain("llmgate listening on")
  expect(findLeaks(r.stdout + r.stderr), "secrets in output").toEqual([])
}

describe(`[${runtime}] config errors and loading`, () => {
  afterAll(() => cleanupTempDirs())

  it("a typo'd provider field (base_ulr) → non-zero exit, `providers[0].base_ulr: unknown field`", async () => {
    const port = await freePort()
    const r = await runUntilExit({
      runtime,
      port,
      config: {
        ...validBase(port),
        providers: [{ name: "up", kind: "openai", base_ulr: "http://127.0.0.1:1/v1", api_key: PROVIDER_KEY }],
        models: [{ name: "m", targets: [{ provider: "up" }] }]
      }
    })
    expectRefused(r)
    expect(r.stderr).toContain("providers[0].base_ulr: unknown field")
  })

  it('an unknown provider reference → non-zero exit, `models[0].targets[0].provider: unknown provider "x"`', async () => {
    const port = await freePort()
    const r = await runUntilExit({
      runtime,
      port,
      config: { ...validBase(port), models: [{ name: "m", targets: [{ provider: "x" }] }] }
    })
    expectRefused(r)
    expect(r.stderr).toContain('models[0].targets[0].provider: unknown provider "x"')
  })

  it("several problems of one kind → one stderr line for each", async () => {
    const port = await freePort()
    const fields = await runUntilExit({
      runtime,
      port,
      config: {
        ...validBase(port),
        providers: [
          { name: "mock", kind: "mock", colour: "blue" },
          { name: "up", kind: "openai", base_url: "http://127.0.0.1:1/v1", base_ulr: "typo" }
        ]
      }
    })
    expectRefused(fields)
    const fieldLines = fields.stderr.split("\n")
    expect(fieldLines.filter((l) => l.includes("providers[0].colour: unknown field"))).toHaveLength(1)
    expect(fieldLines.filter((l) => l.includes("providers[1].base_ulr: unknown field"))).toHaveLength(1)

    const refs = await runUntilExit({
      runtime,
      port,
      config: {
        ...validBase(port),
        models: [
          { name: "m", targets: [{ provider: "mock" }] },
          { name: "n", targets: [{ provider: "x" }, { provider: "y" }] }
        ]
      }
    })
    expectRefused(refs)
    const refLines = refs.stderr.split("\n")
    expect(refLines.filter((l) => l.includes('models[1].targets[0].provider: unknown provider "x"'))).toHaveLength(1)
    expect(refLines.filter((l) => l.includes('models[1].targets[1].provider: unknown provider "y"'))).toHaveLength(1)
  })

  it("an unknown field and an unknown provider together → a line for each", async () => {
    const port = await freePort()
    const r = await runUntilExit({
      runtime,
      port,
      config: {
        ...validBase(port),
        providers: [
          { name: "mock", kind: "mock" },
          { name: "up", kind: "openai", base_url: "http://127.0.0.1:1/v1", base_ulr: "typo" }
        ],
        models: [
          { name: "m", targets: [{ provider: "mock" }] },
          { name: "n", targets: [{ provider: "x" }] }
        ]
      }
    })
    expectRefused(r)
    const lines = r.stderr.split("\n")
    expect(lines.filter((l) => l.includes("providers[1].base_ulr: unknown field"))).toHaveLength(1)
    expect(lines.filter((l) => l.includes('models[1].targets[0].provider: unknown provider "x"'))).toHaveLength(1)
  })

  it("invalid YAML → non-zero exit", async () => {
    const port = await freePort()
    const r = await runUntilExit({
      runtime,
      port,
      config: `master_key: ${MASTER_KEY}\nproviders: [ {name: mock, kind: mock\nmodels: : :\n`
    })
    expectRefused(r)
    expect(r.stderr.trim().length).toBeGreaterThan(0)
  })

  it("a missing config file → non-zero exit", async () => {
    const port = await freePort()
    const r = await runUntilExit({
      runtime,
      port,
      config: undefined,
      configPath: "/nonexistent/llmgate-contract/config.yaml"
    })
    expectRefused(r)
    expect(r.stderr.trim().length).toBeGreaterThan(0)
  })

  it("LLMGATE_CONFIG is used when --config is absent, with ${ENV} (listed under env:) and ${ENV:-default} in secret fields", async () => {
    const port = await freePort()
    const gw = await launchGateway({
      runtime,
      port,
      configViaEnv: true,
      env: { CONTRACT_MASTER: MASTER_KEY },
      config: {
        env: ["CONTRACT_MASTER"],
        server: { host: "127.0.0.1", port },
        master_key: "${CONTRACT_MASTER}",
        // user-agent is shown in clear by GET /admin/v1/config (a header known to carry no credential)
        providers: [
          {
            name: "mock",
            kind: "mock",
            headers: { "User-Agent": "${LLMGATE_CONTRACT_UNSET_VAR:-interpolated-default}" }
          }
        ],
        models: [{ name: "m", targets: [{ provider: "mock" }] }]
      }
    })
    try {
      const r = await fetch(`${gw.baseUrl}/admin/v1/config`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })
      expect(r.status).toBe(200)
      const body = (await r.json()) as { providers: Array<{ headers: Array<{ key: string; value: string }> }> }
      expect(body.providers[0]?.headers).toEqual([{ op: "replace", key: "user-agent", value: "interpolated-default" }])
      const literal = await fetch(`${gw.baseUrl}/v1/models`, {
        headers: { authorization: "Bearer ${CONTRACT_MASTER}" }
      })
      expect(literal.status).toBe(401)
      await literal.body?.cancel()
    } finally {
      await gw.stop("SIGTERM", 10_000)
    }
    expect(findLeaks(gw.stdout() + gw.stderr())).toEqual([])
  })

  it("a ${VAR} outside the secret fields, or of a variable neither LLMGATE_* nor listed, refuses the start naming the field", async () => {
    const port = await freePort()
    const r = await runUntilExit({
      runtime,
      port,
      env: { LLMGATE_CONTRACT_SECRET: MASTER_KEY, CONTRACT_NOT_LISTED: PROVIDER_KEY },
      config: {
        ...validBase(port),
        providers: [
          { name: "mock", kind: "mock" },
          { name: "up", kind: "openai", base_url: "http://127.0.0.1:1/v1", api_key: "${CONTRACT_NOT_LISTED}" }
        ],
        models: [{ name: "${LLMGATE_CONTRACT_SECRET}", targets: [{ provider: "mock" }] }]
      }
    })
    expectRefused(r)
    expect(r.stderr).toContain(
      "models[0].name: ${LLMGATE_CONTRACT_SECRET}: environment variables can be read only in secret fields"
    )
    expect(r.stderr).toContain("providers[1].api_key: environment variable CONTRACT_NOT_LISTED is not allowed")
    expect(r.stderr).toContain("env: [CONTRACT_NOT_LISTED]")
  })
})
