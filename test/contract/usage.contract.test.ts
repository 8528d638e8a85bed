// Usage records for every proxied request (issue 12, item 3), read from the gateway's own store:
// file mode writes them to SQLite beside the config (`<config>.usage.sqlite`), Postgres mode to
// the catalog database's `usage` table (read here with the same column names, booleans as 0/1). Each request sends
// its own `x-request-id`, the record's key. The flush interval is shortened so records land soon;
// the test polls the database (a deadline, not a timing assertion).
import { DatabaseSync } from "node:sqlite"
import { countTokens } from "gpt-tokenizer/encoding/cl100k_base"
import { computeChatCompletionTokenCount } from "gpt-tokenizer/functionCalling"
import postgres from "postgres"
import { describe, expect, it } from "vitest"
import { chunkText, streamUsage, upstreamChatReply } from "./upstream/handlers.ts"
import {
  chunksOf,
  marker,
  MODELS,
  runtime,
  sleep,
  SSEReader,
  TENANCY,
  useContract,
  VIRTUAL_KEYS,
  workers,
  type ChatChunk
} from "./harness.ts"

interface Row {
  id: string
  request_id: string
  key_id: string | null
  project_id: string | null
  user_id: string | null
  endpoint: string
  model: string
  provider: string | null
  upstream_model: string | null
  input_tokens: number
  cache_read_tokens: number
  output_tokens: number
  reasoning_tokens: number
  estimated: number
  status: number
  outcome: string
  attempts: number
  latency_ms: number
  ttft_ms: number | null
  stream: number
}

describe(`[${runtime}] usage records`, () => {
  const ctx = useContract({ configure: (c) => ({ ...c, usage: { enabled: true, flush_interval: "100ms" } }) })

  /** The rows of `requestId` in SQLite (file mode); none while the file is missing. */
  const sqliteRows = (requestId: string): ReadonlyArray<Row> => {
    try {
      const db = new DatabaseSync(`${ctx.gateway.configPath}.usage.sqlite`, { readOnly: true })
      try {
        return db.prepare("select * from usage where request_id = ?").all(requestId) as unknown as ReadonlyArray<Row>
      } finally {
        db.close()
      }
    } catch {
      return [] // Not created yet.
    }
  }

  /** The rows of `requestId` in Postgres, as SQLite shows them: counts as numbers, booleans as 0/1. */
  const postgresRows = async (url: string, requestId: string): Promise<ReadonlyArray<Row>> => {
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const rows = await sql<Array<Record<string, unknown>>>`select * from usage where request_id = ${requestId}`
      const asSqlite = (v: unknown): unknown =>
        typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v
      return rows.map(
        (row) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [k, k === "request_id" || k === "id" ? v : asSqlite(v)])
          ) as unknown as Row
      )
    } finally {
      await sql.end({ timeout: 5 })
    }
  }

  /** The records of `requestId` once the owner has written at least `count` of them. */
  const recordsOf = async (requestId: string, count: number): Promise<ReadonlyArray<Row>> => {
    const url = ctx.databaseUrl
    const deadline = Date.now() + 10_000
    for (;;) {
      const rows = url === undefined ? sqliteRows(requestId) : await postgresRows(url, requestId)
      if (rows.length >= count) return rows
      if (Date.now() > deadline)
        throw new Error(`${rows.length} usage records for ${requestId} within 10 s, not ${count}`)
      await sleep(100)
    }
  }

  /** The record of `requestId`, once the owner has written it. */
  const recordOf = async (requestId: string): Promise<Row> => {
    const [row] = await recordsOf(requestId, 1)
    if (row === undefined) throw new Error(`no usage record for ${requestId}`)
    return row
  }
  const headers = (id: string) => ({ "x-request-id": id })

  it("requests that repeat one x-request-id are each recorded (a client's fixed id hides no usage)", async () => {
    const id = marker("usage-same-id")
    for (let i = 0; i < 3; i++) {
      const r = await ctx.post(
        "/v1/chat/completions",
        { model: MODELS.chat.name, messages: [{ role: "user", content: id }] },
        { key: VIRTUAL_KEYS.open.key, headers: headers(id) }
      )
      expect(r.status, r.text).toBe(200)
    }
    const rows = await recordsOf(id, 3)
    expect(rows).toHaveLength(3)
    expect(new Set(rows.map((row) => row.id)).size).toBe(3)
    // The same count once more after another flush: nothing was written twice.
    await sleep(300)
    expect(await recordsOf(id, 3)).toHaveLength(3)
  })

  it("a JSON answer: the upstream's reported usage, the key's tenancy, the models and the provider", async () => {
    const id = marker("usage-json")
    const r = await ctx.post(
      "/v1/chat/completions",
      { model: MODELS.chat.name, messages: [{ role: "user", content: id }] },
      { key: VIRTUAL_KEYS.open.key, headers: headers(id) }
    )
    expect(r.status, r.text).toBe(200)
    const reported = upstreamChatReply(MODELS.chat.upstream).usage
    expect(await recordOf(id)).toMatchObject({
      key_id: "key_open",
      project_id: TENANCY.project,
      user_id: TENANCY.admin,
      endpoint: "chat",
      model: MODELS.chat.name,
      provider: MODELS.chat.provider,
      upstream_model: MODELS.chat.upstream,
      input_tokens: reported.prompt_tokens,
      output_tokens: reported.completion_tokens,
      estimated: 0,
      status: 200,
      outcome: "ok",
      attempts: 1,
      ttft_ms: null,
      stream: 0
    })
  })

  it("/v1/messages and a translated /v1/responses are recorded as the API the client called, though chat serves them", async () => {
    const messagesId = marker("usage-messages")
    const m = await ctx.post(
      "/v1/messages",
      { model: MODELS.chat.name, max_tokens: 16, messages: [{ role: "user", content: messagesId }] },
      { key: VIRTUAL_KEYS.open.key, headers: headers(messagesId) }
    )
    expect(m.status, m.text).toBe(200)
    expect(m.json<{ type: string }>().type).toBe("message")
    // Chat served it upstream.
    expect(ctx.recorder.find((x) => x.rawBody.includes(messagesId))[0]?.path).toMatch(/\/chat\/completions$/)
    const reported = upstreamChatReply(MODELS.chat.upstream).usage
    expect(await recordOf(messagesId)).toMatchObject({
      endpoint: "messages",
      model: MODELS.chat.name,
      provider: MODELS.chat.provider,
      input_tokens: reported.prompt_tokens,
      output_tokens: reported.completion_tokens,
      status: 200,
      outcome: "ok"
    })

    // A mock-kind model: translated over chat, not passed through.
    const responsesId = marker("usage-responses")
    const r = await ctx.post(
      "/v1/responses",
      { model: MODELS.mockChat.name, input: responsesId },
      { key: VIRTUAL_KEYS.open.key, headers: headers(responsesId) }
    )
    expect(r.status, r.text).toBe(200)
    expect(r.json<{ object: string }>().object).toBe("response")
    expect(await recordOf(responsesId)).toMatchObject({
      endpoint: "responses",
      model: MODELS.mockChat.name,
      provider: MODELS.mockChat.provider,
      status: 200,
      outcome: "ok"
    })
  })

  it("a stream without include_usage: the client gets no usage chunk; the record has the upstream's usage", async () => {
    const id = marker("usage-stream")
    const res = await ctx.postStream(
      "/v1/chat/completions",
      { model: MODELS.streamFast.name, stream: true, messages: [{ role: "user", content: id }] },
      { headers: headers(id) }
    )
    expect(res.status).toBe(200)
    const reader = new SSEReader(res)
    const events = await reader.all()
    ctx.noteBody(reader.raw)
    expect(events.at(-1)?.data).toBe("[DONE]")
    const chunks = chunksOf<ChatChunk>(events)
    expect(chunks.filter((c) => c.usage !== undefined && c.usage !== null)).toEqual([])
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true)
    // The gateway asked the upstream for the usage.
    const [rec] = ctx.recorder.find((x) => x.rawBody.includes(id))
    expect(rec?.body).toMatchObject({ stream_options: { include_usage: true } })
    const row = await recordOf(id)
    expect(row).toMatchObject({
      key_id: null,
      project_id: null,
      upstream_model: MODELS.streamFast.upstream,
      input_tokens: streamUsage(10).prompt_tokens,
      output_tokens: streamUsage(10).completion_tokens,
      estimated: 0,
      status: 200,
      outcome: "ok",
      stream: 1
    })
    expect(row.ttft_ms).not.toBeNull()
    expect(row.latency_ms).toBeGreaterThanOrEqual(row.ttft_ms ?? Infinity)
  })

  it("a stream with include_usage: the client gets the usage chunk", async () => {
    const id = marker("usage-asked")
    const res = await ctx.postStream(
      "/v1/chat/completions",
      {
        model: MODELS.chat.name,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: id }]
      },
      { headers: headers(id) }
    )
    const reader = new SSEReader(res)
    const events = await reader.all()
    ctx.noteBody(reader.raw)
    const last = chunksOf<ChatChunk>(events).at(-1)
    expect(last?.choices).toEqual([])
    expect(last?.usage).toEqual(streamUsage(3))
    expect(await recordOf(id)).toMatchObject({ output_tokens: 3, estimated: 0, outcome: "ok" })
  })

  it("a stream the client cancels midway: recorded as cancelled, with estimated tokens", async () => {
    const id = marker("usage-cancel")
    const ac = new AbortController()
    const res = await ctx.postStream(
      "/v1/chat/completions",
      { model: MODELS.slowStream.name, stream: true, messages: [{ role: "user", content: id }] },
      { headers: headers(id), signal: ac.signal }
    )
    expect(res.status).toBe(200)
    const reader = new SSEReader(res)
    for (let i = 0; i < 4; i++) await reader.next()
    ac.abort()
    const row = await recordOf(id)
    expect(row).toMatchObject({ outcome: "cancelled", estimated: 1, stream: 1, status: 200 })
    expect(row.output_tokens).toBeGreaterThan(0)
    expect(row.input_tokens).toBeGreaterThan(0)
  })

  // Estimated records are counted again with the BPE tokenizer, in the owner's tokenizer thread,
  // before they are written: the counts are gpt-tokenizer's own (the upstream models here are not
  // GPT-4o-family names, so cl100k_base), not the request path's one token per 4 characters.
  describe(`estimates counted with the BPE tokenizer (${workers} workers)`, () => {
    /** A prompt whose BPE count is far from its characters / 4 (short words: about 1 token per 6 characters). */
    const prompt = (id: string) => `${id} ${"hello world ".repeat(60)}`
    /** The prompt tokens of one user message by OpenAI's chat rule, as gpt-tokenizer counts them. */
    const promptBpe = (content: string) =>
      computeChatCompletionTokenCount({ messages: [{ role: "user", content }] }, (t) => countTokens(t))

    it("a JSON answer without usage", async () => {
      const id = marker("usage-bpe-json")
      const content = prompt(id)
      const r = await ctx.post(
        "/v1/chat/completions",
        { model: MODELS.noUsage.name, messages: [{ role: "user", content }] },
        { key: VIRTUAL_KEYS.open.key, headers: headers(id) }
      )
      expect(r.status, r.text).toBe(200)
      expect(r.json<{ usage?: unknown }>().usage).toBeUndefined()
      const row = await recordOf(id)
      const answer = upstreamChatReply(MODELS.noUsage.upstream).choices[0]!.message.content
      expect(row).toMatchObject({
        estimated: 1,
        outcome: "ok",
        input_tokens: promptBpe(content),
        output_tokens: countTokens(answer)
      })
      // Not the character estimate.
      expect(row.input_tokens).toBeLessThan(Math.ceil(content.length / 4) - 20)
    })

    it("a stream cancelled midway", async () => {
      const id = marker("usage-bpe-cancel")
      const content = prompt(id)
      const ac = new AbortController()
      const res = await ctx.postStream(
        "/v1/chat/completions",
        { model: MODELS.slowStream.name, stream: true, messages: [{ role: "user", content }] },
        { headers: headers(id), signal: ac.signal }
      )
      expect(res.status).toBe(200)
      const reader = new SSEReader(res)
      const read = 6
      for (let i = 0; i < read; i++) await reader.next()
      ac.abort()
      const row = await recordOf(id)
      expect(row).toMatchObject({ outcome: "cancelled", estimated: 1, stream: 1, input_tokens: promptBpe(content) })
      // The gateway saw at least what the client read and at most what the upstream sent.
      const sent = ctx.recorder.streams.find((s) => s.request.rawBody.includes(id))?.chunksSent ?? 0
      const generated = (k: number) => Array.from({ length: k }, (_, i) => chunkText(i)).join("")
      const candidates = Array.from({ length: sent - read + 1 }, (_, j) => countTokens(generated(read + j)))
      expect(candidates).toContain(row.output_tokens)
      expect(row.output_tokens).not.toBe(Math.ceil(generated(read).length / 4))
    })
  })

  it("an upstream 500: recorded with its status, outcome error and no usage", async () => {
    const id = marker("usage-500")
    const r = await ctx.post(
      "/v1/chat/completions",
      { model: MODELS.fail500.name, messages: [{ role: "user", content: id }] },
      { headers: headers(id) }
    )
    expect(r.status).toBe(500)
    expect(await recordOf(id)).toMatchObject({
      status: 500,
      outcome: "error",
      provider: MODELS.fail500.provider,
      upstream_model: MODELS.fail500.upstream,
      input_tokens: 0,
      output_tokens: 0,
      estimated: 0,
      stream: 0
    })
    expect((await recordOf(id)).attempts).toBeGreaterThanOrEqual(1)
  })
})
