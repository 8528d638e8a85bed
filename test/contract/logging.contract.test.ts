// Structured logs on a gateway of two workers with `logging: { format: json, level: debug }`: every
// line the process writes is one JSON object, each request leaves one `request` line (from its usage
// record) with its request id and what happened to it, and no secret (master key, provider key, a
// key a client sent) appears anywhere in the output.
import { describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { itLeaksNoSecrets, PROVIDER_KEY, runtime, sleep } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { fail } from "./upstream/controlled.ts"

interface Line {
  readonly message: unknown
  readonly level: string
  readonly annotations?: Readonly<Record<string, unknown>>
}

describe(`[${runtime}] logging: JSON lines, one per request, secrets redacted`, () => {
  const ctx = useRouting({
    upstreams: ["a", "bad"],
    config: ({ url }) =>
      ({
        providers: [
          provider("p-a", url("a"), { api_key: PROVIDER_KEY }),
          provider("p-bad", url("bad"), { api_key: PROVIDER_KEY })
        ],
        models: [
          { name: "m-ok", targets: [{ provider: "p-a", model: "ok-m" }] },
          {
            name: "m-fo",
            strategy: "failover",
            targets: [
              { provider: "p-bad", model: "fo-m" },
              { provider: "p-a", model: "fo-m" }
            ],
            retry: { attempts: 1 }
          }
        ],
        logging: { format: "json", level: "debug" }
      }) as { providers: Array<unknown>; models: Array<unknown> }
  })

  const lines = (): Array<Line> =>
    ctx.gateway
      .stdout()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        try {
          return JSON.parse(l) as Line
        } catch {
          throw new Error(`not a JSON line: ${l.slice(0, 200)}`)
        }
      })

  it("each request leaves one JSON `request` line with its id, model, provider, status, attempts, tokens and overhead", async () => {
    ctx.up("bad").mode = fail(500)
    const ok = await ctx.post("/v1/chat/completions", { model: "m-ok", messages: [{ role: "user", content: "log" }] })
    const retried = await ctx.post("/v1/chat/completions", {
      model: "m-fo",
      messages: [{ role: "user", content: "x" }]
    })
    const stranger = generateKey().key
    const refused = await ctx.post(
      "/v1/chat/completions",
      { model: "m-ok", messages: [{ role: "user", content: "x" }] },
      { key: stranger }
    )
    expect([ok.status, retried.status, refused.status]).toEqual([200, 200, 401])
    const wanted = [ok, retried].map((r) => r.headers.get("x-request-id"))
    const deadline = Date.now() + 5_000
    const requestLines = () => lines().filter((l) => l.message === "request")
    while (
      Date.now() < deadline &&
      !wanted.every((id) => requestLines().some((l) => l.annotations?.["request_id"] === id))
    )
      await sleep(50)
    const byId = (id: string | null) => requestLines().filter((l) => l.annotations?.["request_id"] === id)
    expect(byId(wanted[0]!)).toHaveLength(1)
    expect(byId(wanted[0]!)[0]).toMatchObject({
      level: "DEBUG",
      annotations: {
        model: "m-ok",
        provider: "p-a",
        status: 200,
        outcome: "ok",
        attempts: 1,
        input_tokens: 7,
        output_tokens: 3,
        overhead_ms: expect.any(Number),
        latency_ms: expect.any(Number)
      }
    })
    expect(byId(wanted[1]!)[0]?.annotations).toMatchObject({ model: "m-fo", provider: "p-a", attempts: 2 })
    // Every line is JSON (the banner too), and the key the client sent is nowhere.
    expect(lines().some((l) => l.message === "listening")).toBe(true)
    expect(ctx.gateway.stdout() + ctx.gateway.stderr()).not.toContain(stranger)
  })

  itLeaksNoSecrets(ctx)
})
