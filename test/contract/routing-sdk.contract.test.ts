// The "done when": a client using the official OpenAI SDK (its own retries off) sees no
// error while one of two upstream providers is killed and restarted mid-load. Every request and
// every stream that had not yet received content when the provider died is served by the other one;
// only a stream already relaying the dead provider's content can end (with the terminal error event,
// by design: its content cannot be replayed from another provider).
import OpenAI from "openai"
import { describe, expect, it } from "vitest"
import { MASTER_KEY, runtime } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"

describe(`[${runtime}] routing: OpenAI SDK under load while an upstream dies and comes back`, () => {
  const ctx = useRouting({
    upstreams: ["x", "y"],
    config: ({ url }) => ({
      providers: [
        provider("p-x", url("x"), { breaker: { min_requests: 4, window: "10s", cooldown: "500ms" } }),
        provider("p-y", url("y"))
      ],
      models: [
        {
          name: "sdk-load",
          strategy: "round_robin",
          targets: [
            { provider: "p-x", model: "load" },
            { provider: "p-y", model: "load" }
          ],
          retry: { attempts: 2, backoff: "50ms", max_backoff: "500ms" }
        }
      ]
    })
  })

  it("no request fails while upstream x is killed and restarted", async () => {
    const sdk = new OpenAI({ baseURL: `${ctx.gateway.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 10_000 })
    const errors: Array<string> = []
    /** Streams that were relaying content from x when it was killed: the only ones allowed to end in error. */
    let killedAt = Number.POSITIVE_INFINITY
    const servedBy: Array<string> = []
    let running = true
    let streamsCut = 0
    const worker = async (id: number) => {
      let n = 0
      while (running) {
        try {
          if ((id + n) % 2 === 0) {
            const { data, response } = await sdk.chat.completions
              .create({ model: "sdk-load", messages: [{ role: "user", content: `w${id}-${n}` }] })
              .withResponse()
            expect(data.choices[0]?.message.content).toBeTruthy()
            servedBy.push(response.headers.get("x-llmgate-provider") ?? "?")
          } else {
            const startedAt = Date.now()
            let text = ""
            try {
              const stream = await sdk.chat.completions.create({
                model: "sdk-load",
                stream: true,
                messages: [{ role: "user", content: `s${id}-${n}` }]
              })
              for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ""
              expect(text.length).toBeGreaterThan(0)
            } catch (e) {
              const cutMidContent = startedAt < killedAt && text.length > 0
              if (!cutMidContent) throw e
              streamsCut++
            }
          }
        } catch (e) {
          errors.push(`${(id + n) % 2 === 0 ? "json" : "stream"}: ${e instanceof Error ? e.message : String(e)}`)
        }
        n++
      }
    }
    const workers = Array.from({ length: 6 }, (_, i) => worker(i))
    const x = ctx.up("x")
    await new Promise((r) => setTimeout(r, 600))
    killedAt = Date.now()
    await x.kill()
    await new Promise((r) => setTimeout(r, 1200))
    await x.restart()
    // Let the breaker's cooldown pass and x take traffic again.
    const deadline = Date.now() + 8_000
    const before = servedBy.length
    while (Date.now() < deadline && !servedBy.slice(before).includes("p-x"))
      await new Promise((r) => setTimeout(r, 100))
    running = false
    await Promise.all(workers)
    expect(errors, errors.join("\n")).toEqual([])
    expect(servedBy.length).toBeGreaterThan(20)
    expect(streamsCut).toBeLessThanOrEqual(6) // at most the streams in flight at the kill
    expect(servedBy.slice(before)).toContain("p-x")
    expect(servedBy).toContain("p-y")
    // The gateway drains and exits promptly once the load is over.
    const t0 = Date.now()
    const exit = await ctx.gateway.stop("SIGTERM", 8_000)
    expect({ exit, promptly: Date.now() - t0 < 3_000 }).toEqual({ exit: { code: 0, signal: null }, promptly: true })
  }, 30_000)
})
