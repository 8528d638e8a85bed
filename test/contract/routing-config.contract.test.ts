// Which model serves a request, and what the upstream request looks like: model-name patterns (exact
// beats glob beats /regex/, config order within a kind), `routes` pinning a path to a model, header
// operations (insert / replace / remove) and the `auth` kinds, as the upstream recorder sees them.
import { describe, expect, it } from "vitest"
import { expectOpenAIError, itLeaksNoSecrets, marker, MASTER_KEY, PROVIDER_KEY, runtime } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { bodyField, withMarker, type RecordedRequest } from "./upstream/recorder.ts"

const BASIC_USER = "alice"
const BASIC_PASSWORD = "s3cr:et-pässword"

describe(`[${runtime}] routing: model patterns, routes, upstream headers and auth`, () => {
  const ctx = useRouting({
    upstreams: ["x", "y", "z", "h"],
    config: ({ url }) => ({
      providers: [
        provider("p-x", url("x")),
        provider("p-y", url("y")),
        provider("p-z", url("z")),
        provider("p-bearer", url("h"), { auth: { type: "bearer", token: PROVIDER_KEY } }),
        provider("p-basic", url("h"), { auth: { type: "basic", username: BASIC_USER, password: BASIC_PASSWORD } }),
        provider("p-header", url("h"), { auth: { type: "header", name: "X-Api-Key", value: "hk-contract-123" } }),
        provider("p-none", url("h"), { auth: { type: "none" } }),
        provider("p-apikey", url("h"), { api_key: "ak-contract-456" }),
        provider("p-ops", url("h"), {
          auth: { type: "bearer", token: "tok-ops" },
          headers: [
            { op: "insert", key: "X-Team", value: "alpha" },
            { op: "insert", key: "X-Team", value: "beta" }, // present by now: ignored
            { op: "replace", key: "X-Env", value: "prod" },
            { op: "replace", key: "X-Env", value: "staging" }, // replace: last one wins
            { op: "insert", key: "X-Gone", value: "1" },
            { op: "remove", key: "X-Gone" },
            { op: "insert", key: "Authorization", value: "Bearer hijacked" }, // the credential is present: ignored
            { op: "insert", key: "Content-Type", value: "text/plain" } // the gateway's own header is present: ignored
          ]
        }),
        provider("p-ops-replace", url("h"), {
          auth: { type: "bearer", token: "tok-replaced" },
          headers: [{ op: "replace", key: "Authorization", value: "Token custom-scheme" }]
        }),
        provider("p-map", url("h"), { headers: { "X-Map-One": "m1", "X-Map-Two": "m2" } })
      ],
      models: [
        // a regex listed first still loses to globs; the first glob in config order wins; exact beats all
        { name: "/^claude-3-.*$/", targets: [{ provider: "p-z", model: "regex-fixed" }] },
        { name: "claude-*", targets: [{ provider: "p-y" }] },
        { name: "claude-3-*", targets: [{ provider: "p-x", model: "second-glob" }] },
        { name: "claude-3-opus", targets: [{ provider: "p-x", model: "exact-opus" }] },
        { name: "/^gpt-\\d+(\\.\\d+)?$/", targets: [{ provider: "p-z" }] },
        { name: "embed-default", targets: [{ provider: "p-x", model: "emb-x" }] },
        { name: "text-pinned", targets: [{ provider: "p-z", model: "text-z" }] },
        { name: "chat-plain", targets: [{ provider: "p-y", model: "plain" }] },
        { name: "auth-bearer", targets: [{ provider: "p-bearer", model: "hb" }] },
        { name: "auth-basic", targets: [{ provider: "p-basic", model: "hb" }] },
        { name: "auth-header", targets: [{ provider: "p-header", model: "hh" }] },
        { name: "auth-none", targets: [{ provider: "p-none", model: "hn" }] },
        { name: "auth-apikey", targets: [{ provider: "p-apikey", model: "ha" }] },
        { name: "hdr-ops", targets: [{ provider: "p-ops", model: "ho" }] },
        { name: "hdr-ops-replace", targets: [{ provider: "p-ops-replace", model: "hr" }] },
        { name: "hdr-map", targets: [{ provider: "p-map", model: "hm" }] }
      ],
      routes: [
        { path: "/v1/embeddings", model: "embed-default" },
        { path: "/v1/comp*", model: "text-pinned" }
      ]
    })
  })

  const upstreamOf = (m: string): RecordedRequest => {
    const [rec] = ctx.recorder.find(withMarker(m))
    if (rec === undefined) throw new Error(`no upstream request with marker ${m}`)
    return rec
  }

  describe("model-name patterns", () => {
    it("pattern targets without a fixed model appear in /health/detailed only once they served", async () => {
      const before = await ctx.detailed()
      expect(before.models.find((m) => m.name === "claude-*")?.targets).toEqual([])
      const s = await ctx.chat("claude-instant-1")
      expect(s.res.status, s.res.text).toBe(200)
      const after = await ctx.detailed()
      expect(after.models.find((m) => m.name === "claude-*")?.targets).toEqual([
        expect.objectContaining({ provider: "p-y", model: "claude-instant-1", state: "closed", samples: 1 })
      ])
    })

    it("an exact name beats every glob and regex that also matches it, wherever it is listed", async () => {
      const s = await ctx.chat("claude-3-opus")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-x")
      expect(bodyField(upstreamOf(s.marker), "model")).toBe("exact-opus")
    })

    it("a glob beats a /regex/ listed before it; among globs the first in config order wins", async () => {
      // claude-3-haiku matches /^claude-3-.*$/ (1st), claude-* (2nd) and claude-3-* (3rd)
      const s = await ctx.chat("claude-3-haiku")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-y")
      // a pattern target without `model` sends the requested name upstream
      expect(bodyField(upstreamOf(s.marker), "model")).toBe("claude-3-haiku")
    })

    it("a /regex/ name serves what no exact name or glob matches, sending the requested name upstream", async () => {
      const s = await ctx.chat("gpt-5")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-z")
      expect(bodyField(upstreamOf(s.marker), "model")).toBe("gpt-5")
      const s2 = await ctx.chat("gpt-4.1")
      expect(s2.provider).toBe("p-z")
      expect(bodyField(upstreamOf(s2.marker), "model")).toBe("gpt-4.1")
    })

    it("a name no pattern matches (globs and regexes are anchored) → 404 model_not_found", async () => {
      for (const name of ["llama-3", "xclaude-3", "gpt-5-mini"]) {
        const s = await ctx.chat(name)
        const body = expectOpenAIError(s.res, 404, { code: "model_not_found" })
        expect(body.error.message).toContain(name)
        expect(s.hits()).toEqual([])
      }
    })
  })

  describe("routes pin a path to a model", () => {
    it("/v1/embeddings is served by the pinned model whatever the body's model says", async () => {
      for (const model of ["claude-3-opus", "no-such-model"]) {
        const m = marker("emb")
        const r = await ctx.post("/v1/embeddings", { model, input: [m] })
        expect(r.status, r.text).toBe(200)
        expect(r.headers.get("x-llmgate-provider")).toBe("p-x")
        const rec = upstreamOf(m)
        expect(rec.path).toBe("/v1/embeddings")
        expect(bodyField(rec, "model")).toBe("emb-x")
      }
    })

    it("a glob path (/v1/comp*) pins /v1/completions but not /v1/chat/completions", async () => {
      const m = marker("cmpl")
      const r = await ctx.post("/v1/completions", { model: "chat-plain", prompt: m })
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("x-llmgate-provider")).toBe("p-z")
      expect(bodyField(upstreamOf(m), "model")).toBe("text-z")
      const s = await ctx.chat("chat-plain")
      expect(s.provider).toBe("p-y")
      expect(bodyField(upstreamOf(s.marker), "model")).toBe("plain")
    })
  })

  describe("upstream credentials (auth kinds)", () => {
    const headersFor = async (model: string): Promise<Readonly<Record<string, string>>> => {
      const s = await ctx.chat(model)
      expect(s.res.status, s.res.text).toBe(200)
      const h = upstreamOf(s.marker).headers
      expect(JSON.stringify(h), "the client's key never goes upstream").not.toContain(MASTER_KEY)
      return h
    }

    it("bearer → Authorization: Bearer <token>", async () => {
      expect((await headersFor("auth-bearer")).authorization).toBe(`Bearer ${PROVIDER_KEY}`)
    })

    it("basic → Authorization: Basic base64(username:password), UTF-8", async () => {
      const expected = `Basic ${Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`, "utf8").toString("base64")}`
      expect((await headersFor("auth-basic")).authorization).toBe(expected)
    })

    it("header → the named header carries the value, and no Authorization is sent", async () => {
      const h = await headersFor("auth-header")
      expect(h["x-api-key"]).toBe("hk-contract-123")
      expect(h.authorization).toBeUndefined()
    })

    it("none → no credential at all", async () => {
      const h = await headersFor("auth-none")
      expect(h.authorization).toBeUndefined()
      expect(h["x-api-key"]).toBeUndefined()
    })

    it("api_key is shorthand for bearer", async () => {
      expect((await headersFor("auth-apikey")).authorization).toBe("Bearer ak-contract-456")
    })
  })

  describe("header operations", () => {
    it("insert only if absent, replace sets (last wins), remove deletes; the credential and the gateway's own headers are not overridden by insert", async () => {
      const s = await ctx.chat("hdr-ops")
      expect(s.res.status, s.res.text).toBe(200)
      const h = upstreamOf(s.marker).headers
      expect(h["x-team"]).toBe("alpha")
      expect(h["x-env"]).toBe("staging")
      expect(h["x-gone"]).toBeUndefined()
      expect(h.authorization).toBe("Bearer tok-ops")
      expect(h["content-type"]).toMatch(/^application\/json/)
    })

    it("replace can override the credential header", async () => {
      const s = await ctx.chat("hdr-ops-replace")
      expect(s.res.status, s.res.text).toBe(200)
      expect(upstreamOf(s.marker).headers.authorization).toBe("Token custom-scheme")
    })

    it("a headers map sets each header (= replace)", async () => {
      const s = await ctx.chat("hdr-map")
      expect(s.res.status, s.res.text).toBe(200)
      const h = upstreamOf(s.marker).headers
      expect(h["x-map-one"]).toBe("m1")
      expect(h["x-map-two"]).toBe("m2")
      expect(h.authorization).toBeUndefined()
    })
  })

  itLeaksNoSecrets(ctx)
})
