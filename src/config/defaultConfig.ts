/**
 * The embedded default config used when no file is given: mock models that need no account, plus
 * OpenAI's models when OPENAI_API_KEY is set in the environment (listed under `env:`, as a
 * reference outside `LLMGATE_*` must be; `OPENAI_BASE_URL` is not a secret field, so its value is
 * written in as a literal instead of referenced).
 */
import { type Env, escapeLiteral } from "./interpolate.ts"

const MOCK = `server: { host: 127.0.0.1, port: 4000 }
master_key: \${LLMGATE_MASTER_KEY:-}
# No file to keep usage records beside: they would only pile up in memory.
usage: { enabled: false }
providers:
  - name: mock
    kind: mock
    mock: { latency: 0ms, chunks: 8, chunk_interval: 30ms }
`

const openaiProvider = (env: Env): string => `  - name: openai
    kind: openai
    base_url: ${JSON.stringify(escapeLiteral(env["OPENAI_BASE_URL"] || "https://api.openai.com/v1"))}
    api_key: \${OPENAI_API_KEY}
`

const MOCK_MODELS = `  - name: mock-chat
    targets: [{ provider: mock }]
  - name: mock-embed
    targets: [{ provider: mock }]
`

const OPENAI_MODELS = [
  "gpt-4o-mini",
  "gpt-4o",
  "gpt-4.1-mini",
  "gpt-4.1",
  "text-embedding-3-small",
  "text-embedding-3-large"
]
  .map((m) => `  - name: ${m}\n    targets: [{ provider: openai }]\n`)
  .join("")

export const defaultConfigText = (env: Env): string => {
  const openai = (env["OPENAI_API_KEY"] ?? "") !== ""
  return (
    (openai ? "env: [OPENAI_API_KEY]\n" : "") +
    MOCK +
    (openai ? openaiProvider(env) : "") +
    "models:\n" +
    MOCK_MODELS +
    (openai ? OPENAI_MODELS : "")
  )
}
