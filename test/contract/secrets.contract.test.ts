// Secrets never leak: with --debug logging on, drive the gateway through every success and error path,
// then stop it and check that no response body, header or log line holds the master key or the
// provider api_key.
import { describe, expect, it } from "vitest"
import { findLeaks, MODELS, runtime, SSEReader, useContract, WRONG_KEY, type Res } from "./harness.ts"

const user = (content: string) => [{ role: "user", content }]

describe(`[${runtime}] secrets never leak (--debug)`, () => {
  const ctx = useContract({ debug: true })
  const headerDump: Array<string> = []
  const keep = (r: Res): Res => {
    for (const [k, v] of r.headers) headerDump.push(`${k}: ${v}`)
    return r
  }

  it("exercises success and error paths", async () => {
    const statuses: Array<number> = []
    const calls: Array<() => Promise<Res>> = [
      () => ctx.get("/health"),
      () => ctx.get("/openapi.json"),
      () => ctx.get("/v1/models"),
      () => ctx.post("/v1/chat/completions", { model: MODELS.chat.name, messages: user("ok") }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.noKey.name, messages: user("ok") }),
      () => ctx.post("/v1/completions", { model: MODELS.text.name, prompt: "ok" }),
      () => ctx.post("/v1/embeddings", { model: MODELS.embed.name, input: "ok" }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages: user("ok") }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.chat.name, messages: user("x") }, { key: null }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.chat.name, messages: user("x") }, { key: WRONG_KEY }),
      () => ctx.post("/v1/chat/completions", "{broken"),
      () => ctx.post("/v1/chat/completions", { model: MODELS.chat.name }),
      () => ctx.post("/v1/chat/completions", { model: "unknown-model", messages: user("x") }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages: user("z".repeat(80 * 1024)) }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.unreachable.name, messages: user("x") }),
      () => ctx.post("/v1/embeddings", { model: MODELS.unreachable.name, input: "x" }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.hang.name, messages: user("x") }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.fail500.name, messages: user("x") }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.bad400.name, messages: user("x") }),
      () => ctx.post("/v1/chat/completions", { model: MODELS.mockBroken.name, messages: user("x") }),
      () => ctx.get("/no/such/route")
    ]
    for (const call of calls) statuses.push(keep(await call()).status)
    const res = await ctx.postStream("/v1/chat/completions", {
      model: MODELS.streamFast.name,
      messages: user("s"),
      stream: true
    })
    for (const [k, v] of res.headers) headerDump.push(`${k}: ${v}`)
    const reader = new SSEReader(res)
    await reader.all()
    ctx.noteBody(reader.raw)
    // the exercise really hit the error paths (otherwise the leak check below proves little)
    expect(statuses).toEqual(expect.arrayContaining([200, 400, 401, 404, 413, 500, 502, 504]))
  })

  it("no response body or header contains a secret", () => {
    expect(ctx.bodies.length).toBeGreaterThan(20)
    expect(findLeaks(ctx.bodies.join("\n"))).toEqual([])
    expect(findLeaks(headerDump.join("\n"))).toEqual([])
  })

  it("after shutdown, no stdout/stderr line contains a secret", async () => {
    // (the exit code is the shutdown suite's business; here only the complete logs matter)
    await ctx.gateway.stop("SIGTERM", 15_000)
    const logs = `${ctx.gateway.stdout()}\n${ctx.gateway.stderr()}`
    expect(logs.length, "debug mode should log something").toBeGreaterThan(0)
    expect(findLeaks(ctx.gateway.stdout()), "stdout").toEqual([])
    expect(findLeaks(ctx.gateway.stderr()), "stderr").toEqual([])
  })
})
