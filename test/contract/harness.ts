// The contract-suite harness: one config that covers every topic suite, an in-process fake upstream
// (MSW handlers over a real port), the gateway spawned under the vitest project's runtime, and small
// HTTP/SSE helpers. Each *.contract.test.ts calls `useContract()` at top level: it starts the upstream +
// gateway in beforeAll and stops both in afterAll. The runtime comes from the project's `provide`, and
// so does the store: with `store: "postgres"` (contract-node-pg) the same config is imported into a
// fresh database with `llmgate import` and the gateway runs in Postgres mode.
import { spawn } from "node:child_process"
import { type IncomingHttpHeaders, request as httpRequest } from "node:http"
import { afterAll, beforeAll, expect, inject, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { FILE_SETTINGS } from "../../src/store/postgres/Catalog.ts"
import { createTestDatabase } from "../support/postgres.ts"
import {
  cleanupTempDirs,
  freePort,
  launchGateway,
  ROOT,
  runtimeCommand,
  writeConfig,
  type GatewayProcess,
  type Runtime
} from "./gateway.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"
import type { Recorder } from "./upstream/recorder.ts"

declare module "vitest" {
  interface ProvidedContext {
    runtime: "node" | "bun" | "deno"
    /** Where the gateway's config lives: the YAML file, or Postgres (imported with `llmgate import`). */
    store: "file" | "postgres"
    /** How many worker threads the gateway runs with (LLMGATE_WORKERS). */
    workers: number
  }
}

export type { GatewayProcess, Runtime } from "./gateway.ts"

export const runtime: Runtime = inject("runtime")
export const store: "file" | "postgres" = inject("store") ?? "file"
/** Worker threads of every gateway the suite starts (a test may ask for another count). */
export const workers: number = inject("workers") ?? 2
/** The sealing key of the Postgres-backed projects (the catalog's provider secrets are encrypted under it). */
export const ENCRYPTION_KEY = "4c6c6d676174652d636f6e74726163742d6b65792d30313233343536373839cd"

// Distinctive secrets: any occurrence in a body or a log line is a leak.
export const MASTER_KEY = "sk-llmgate-MASTER-c0ntract-5e1f0c9d2b7a"
export const PROVIDER_KEY = "upk-PROVIDER-c0ntract-93ab71c4d6e2"

/**
 * Virtual keys of the contract config (fresh per test file: only this process knows the plaintext,
 * the config holds prefix + hash). Every suite's leak check covers them.
 */
export const VIRTUAL_KEYS = {
  /** Allowed every model (no `models`). */
  open: generateKey(),
  /** Allowed only `LIMITED_MODELS`. */
  limited: generateKey(),
  /** `models: []`: allowed nothing. */
  none: generateKey(),
  disabled: generateKey(),
  expired: generateKey(),
  /** A rotated key: `rotated` is current, `rotatedOld` still works for a day (grace period). */
  rotated: generateKey(),
  rotatedOld: generateKey(),
  /** A key rotated long ago: `staleOld`'s grace period has ended. */
  stale: generateKey(),
  staleOld: generateKey()
} as const
export const TENANCY = {
  project: "prj_contract",
  otherProject: "prj_other",
  admin: "usr_admin",
  member: "usr_member"
} as const
/** The names and patterns the `limited` key may use: mock-chat, mock-fine (glob) and text-model (regex). */
export const LIMITED_MODELS: ReadonlyArray<string> = ["mock-chat", "mock-f*", "/^text-/"]
export const SECRETS: ReadonlyArray<string> = [
  MASTER_KEY,
  PROVIDER_KEY,
  ...Object.values(VIRTUAL_KEYS).map((k) => k.key)
]
const GRACE_END = new Date(Date.now() + 86_400_000).toISOString()
export const WRONG_KEY = "sk-not-the-right-key-000"
export const EXTRA_HEADER = { name: "X-Extra", value: "contract-extra-1" } as const
export const BODY_LIMIT_BYTES = 64 * 1024

/** Public model name → the provider and upstream model id it routes to. One table for every suite. */
export const MODELS = {
  chat: { name: "gpt-4o-mini", provider: "up-a", upstream: "upstream-model-id" },
  defaultUpstream: { name: "passthrough-default", provider: "up-a", upstream: "passthrough-default" },
  noKey: { name: "nokey-chat", provider: "up-nokey", upstream: "upstream-nokey-id" },
  streamFast: { name: "stream-fast", provider: "up-a", upstream: "chunks-10-50" },
  slowStream: { name: "slow-stream", provider: "up-a", upstream: "chunks-400-25" },
  shutdownStream: { name: "shutdown-stream", provider: "up-a", upstream: "chunks-12-100" },
  fail500: { name: "fail-500", provider: "up-a", upstream: "fail-500" },
  noUsage: { name: "no-usage", provider: "up-a", upstream: "no-usage" },
  bad400: { name: "bad-request-400", provider: "up-a", upstream: "bad-request-400" },
  rateLimited: { name: "rate-limited", provider: "up-a", upstream: "rate-limited-429" },
  hang: { name: "hang", provider: "up-slow", upstream: "hang" },
  unreachable: { name: "unreachable", provider: "up-down", upstream: "upstream-model-id" },
  text: { name: "text-model", provider: "up-a", upstream: "upstream-completion-id" },
  embed: { name: "embed-model", provider: "up-a", upstream: "upstream-embed-id" },
  mockChat: { name: "mock-chat", provider: "mock", upstream: "mock-chat" },
  mockAlias: { name: "mock-alias", provider: "mock", upstream: "mock-upstream-x" },
  mockBroken: { name: "mock-broken", provider: "mock-broken", upstream: "mock-broken" },
  mockFine: { name: "mock-fine", provider: "mock-fine", upstream: "mock-fine" }
} as const
export type ModelKey = keyof typeof MODELS
export const MODEL_NAMES: ReadonlyArray<string> = Object.values(MODELS).map((m) => m.name)
/** The mock provider's stream settings written into the config. */
export const MOCK_CHUNKS = 4
export const MOCK_CHUNK_INTERVAL_MS = 20
/** A second mock provider that splits its answer into more chunks than it has words. */
export const MOCK_FINE_CHUNKS = 12

export interface ConfigInput {
  readonly gatewayPort: number
  readonly upstreamBaseUrl: string
  readonly closedPort: number
}

/** The one gateway config every suite runs against. */
export const contractConfig = (p: ConfigInput) => ({
  server: { host: "127.0.0.1", port: p.gatewayPort, body_limit: "64KiB" },
  master_key: MASTER_KEY,
  providers: [
    {
      name: "up-a",
      kind: "openai",
      base_url: p.upstreamBaseUrl,
      api_key: PROVIDER_KEY,
      headers: { [EXTRA_HEADER.name]: EXTRA_HEADER.value },
      timeout: { request: "10s", idle: "5s" }
    },
    { name: "up-nokey", kind: "openai", base_url: p.upstreamBaseUrl },
    { name: "up-slow", kind: "openai", base_url: p.upstreamBaseUrl, api_key: PROVIDER_KEY, timeout: { request: "1s" } },
    { name: "up-down", kind: "openai", base_url: `http://127.0.0.1:${p.closedPort}/v1`, api_key: PROVIDER_KEY },
    {
      name: "mock",
      kind: "mock",
      mock: { latency: "0ms", chunks: MOCK_CHUNKS, chunk_interval: `${MOCK_CHUNK_INTERVAL_MS}ms`, failure_rate: 0 }
    },
    { name: "mock-broken", kind: "mock", mock: { failure_rate: 1 } },
    { name: "mock-fine", kind: "mock", mock: { chunks: MOCK_FINE_CHUNKS, chunk_interval: "5ms" } }
  ],
  models: Object.values(MODELS).map((m) => ({
    name: m.name,
    // passthrough-default and mock-chat omit `model`: it must default to the public name
    targets: [m.upstream === m.name ? { provider: m.provider } : { provider: m.provider, model: m.upstream }]
  })),
  projects: [
    { id: TENANCY.project, name: "Contract", limits: { requests_per_minute: 10_000 }, metadata: { suite: "contract" } },
    { id: TENANCY.otherProject, name: "Other" }
  ],
  users: [
    {
      id: TENANCY.admin,
      name: "Contract Admin",
      email: "admin@contract.test",
      role: "admin",
      projects: [TENANCY.project, TENANCY.otherProject]
    },
    { id: TENANCY.member, name: "Contract Member", role: "member", projects: [TENANCY.project] }
  ],
  keys: [
    virtualKey("open", { user_id: TENANCY.admin, created_at: "2026-01-01T00:00:00Z" }),
    virtualKey("limited", {
      user_id: TENANCY.member,
      models: LIMITED_MODELS,
      budget: { amount_usd: 10, period: "monthly" }
    }),
    virtualKey("none", { project_id: TENANCY.otherProject, models: [] }),
    virtualKey("disabled", { enabled: false }),
    virtualKey("expired", { expires_at: "2020-01-01T00:00:00Z" }),
    virtualKey("rotated", {
      previous_hash: VIRTUAL_KEYS.rotatedOld.hash,
      previous_expires_at: GRACE_END,
      expires_at: null
    }),
    virtualKey("stale", { previous_hash: VIRTUAL_KEYS.staleOld.hash, previous_expires_at: "2020-01-01T00:00:00Z" })
  ]
})

function virtualKey(name: keyof typeof VIRTUAL_KEYS, fields: Record<string, unknown>) {
  const k = VIRTUAL_KEYS[name]
  return { id: `key_${name}`, name, prefix: k.prefix, hash: k.hash, project_id: TENANCY.project, ...fields }
}

// ---------------------------------------------------------------------------------------------------
// Response shapes (validated with toMatchObject in the suites; these types only give property access)

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}
export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}
export interface ChatCompletion {
  id: string
  object: string
  model: string
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>
  usage: Usage
}
export interface ChatChunk {
  id: string
  object: string
  model: string
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>
  usage?: Usage | null
}
export interface TextCompletion {
  object: string
  model: string
  choices: Array<{ index: number; text: string; finish_reason: string }>
  usage: Usage
}
export interface EmbeddingList {
  object: string
  model: string
  data: Array<{ object: string; index: number; embedding: Array<number> }>
  usage: { prompt_tokens: number; total_tokens: number }
}
export interface ModelObject {
  id: string
  object: string
  created: number
  owned_by: string
}
export interface ModelList {
  object: string
  data: Array<ModelObject>
}
export interface Health {
  status: string
  version: string
  runtime: { name: string; version: string }
  models: number
  worker: { id: number; count: number }
  config_version: number
  workers: Array<{ id: number; config_version: number }>
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers

export interface Res {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  json<T = unknown>(): T
}

/** The usage of an answer: a JSON body's, or a streamed answer's last usage chunk. */
export const usageOf = (r: Res): Usage => {
  if (!r.text.startsWith("data:")) return r.json<{ usage: Usage }>().usage
  const line = r.text
    .split("\n")
    .filter((l) => l.startsWith("data: {") && l.includes('"usage":{'))
    .at(-1)
  if (line === undefined) throw new Error(`no usage chunk in ${r.text.slice(0, 300)}`)
  return (JSON.parse(line.slice("data: ".length)) as { usage: Usage }).usage
}

export interface RequestOptions {
  /** Bearer key to send; `null` sends no Authorization header. Defaults to the master key. */
  readonly key?: string | null
  readonly headers?: Readonly<Record<string, string>>
  readonly signal?: AbortSignal
}

const headersFor = (opts: RequestOptions, json: boolean): Record<string, string> => {
  const key = opts.key === undefined ? MASTER_KEY : opts.key
  return {
    ...(json ? { "content-type": "application/json" } : {}),
    ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    ...(opts.headers ?? {})
  }
}

const parseJson = <T>(text: string, status: number): T => {
  try {
    return JSON.parse(text) as T
  } catch {
    throw new Error(`expected a JSON body (status ${status}), got: ${text.slice(0, 500)}`)
  }
}

// ---------------------------------------------------------------------------------------------------
// SSE reader that keeps the arrival time of every network read

export interface SSEEvent {
  /** The joined `data:` lines of the event. */
  readonly data: string
  /** ms since the reader was created, when the read completing this event arrived. */
  readonly at: number
  /** Index of the network read that completed this event. */
  readonly read: number
}

export class SSEReader {
  readonly reads: Array<number> = []
  raw = ""
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly decoder = new TextDecoder()
  private readonly t0 = performance.now()
  private buffer = ""
  private readonly queue: Array<SSEEvent> = []
  private ended = false

  constructor(res: Response) {
    if (res.body === null) throw new Error("SSE response has no body")
    this.reader = res.body.getReader()
  }

  private parse(readIndex: number, at: number): void {
    this.buffer = this.buffer.replace(/\r\n/g, "\n")
    for (;;) {
      const end = this.buffer.indexOf("\n\n")
      if (end < 0) return
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
      if (data.length > 0) this.queue.push({ data: data.join("\n"), at, read: readIndex })
    }
  }

  /** The next SSE event with data (comments/keep-alives skipped), or undefined at the end of the stream. */
  async next(): Promise<SSEEvent | undefined> {
    for (;;) {
      const queued = this.queue.shift()
      if (queued) return queued
      if (this.ended) return undefined
      const { done, value } = await this.reader.read()
      if (done) {
        this.ended = true
        this.buffer += this.decoder.decode()
        if (this.buffer.trim().length > 0) this.buffer += "\n\n"
        this.parse(this.reads.length, performance.now() - this.t0)
        continue
      }
      const at = performance.now() - this.t0
      this.reads.push(at)
      const chunk = this.decoder.decode(value, { stream: true })
      this.raw += chunk
      this.buffer += chunk
      this.parse(this.reads.length - 1, at)
    }
  }

  async all(): Promise<Array<SSEEvent>> {
    const out: Array<SSEEvent> = []
    for (let e = await this.next(); e !== undefined; e = await this.next()) out.push(e)
    return out
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {})
  }
}

/** Parses every event but the final [DONE] as JSON. */
export const chunksOf = <T = ChatChunk>(events: ReadonlyArray<SSEEvent>): Array<T> =>
  events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data) as T)

export const contentOf = (chunks: ReadonlyArray<ChatChunk>): string =>
  chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")

// ---------------------------------------------------------------------------------------------------
// Assertions

/** Asserts the status and the exact OpenAI error shape; returns the parsed body. */
export const expectOpenAIError = (
  res: Res,
  status: number,
  expected: { code?: string | null; type?: string; param?: string | null } = {}
): OpenAIErrorBody => {
  expect(res.status, `status (body: ${res.text.slice(0, 300)})`).toBe(status)
  expect(res.headers.get("content-type") ?? "").toMatch(/application\/json/)
  const body = res.json<OpenAIErrorBody>()
  expect(body).toEqual({
    error: {
      message: expect.any(String),
      type: expect.any(String),
      param: body.error?.param === null ? null : expect.any(String),
      code: body.error?.code === null ? null : expect.any(String)
    }
  })
  expect(body.error.message.length).toBeGreaterThan(0)
  if (expected.code !== undefined) expect(body.error.code).toBe(expected.code)
  if (expected.type !== undefined) expect(body.error.type).toBe(expected.type)
  if (expected.param !== undefined) expect(body.error.param).toBe(expected.param)
  return body
}

export const findLeaks = (text: string): Array<string> => SECRETS.filter((s) => text.includes(s))

// ---------------------------------------------------------------------------------------------------
// Per-file lifecycle

export interface Contract {
  readonly runtime: Runtime
  readonly base: string
  readonly gateway: GatewayProcess
  readonly upstream: Upstream
  readonly recorder: Recorder
  /** The gateway's database in the Postgres project; undefined in file mode. */
  readonly databaseUrl: string | undefined
  /** Every response body read through the helpers below (for the secret-leak checks). */
  readonly bodies: ReadonlyArray<string>
  /** Fetches and reads the whole body. */
  request(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<Res>
  get(path: string, opts?: RequestOptions): Promise<Res>
  post(path: string, body: unknown, opts?: RequestOptions): Promise<Res>
  /** POSTs and returns the raw streaming Response (body unread). */
  postStream(path: string, body: unknown, opts?: RequestOptions): Promise<Response>
  /** Records text read outside the helpers (e.g. an SSE stream) for the leak checks. */
  noteBody(text: string): void
}

export interface ContractOptions {
  readonly debug?: boolean
  /** Adjust the config before it is written. */
  readonly configure?: (config: ReturnType<typeof contractConfig>) => unknown
}

/** Runs `llmgate ARGS` under the project's runtime to completion. */
export const runCli = (
  args: ReadonlyArray<string>,
  env: Record<string, string>
): Promise<{ code: number | null; out: string }> =>
  new Promise((resolve) => {
    const [cmd, argv] = runtimeCommand(runtime, args)
    const child = spawn(cmd, argv, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d))
    child.once("error", (e) => (out += `\n[harness] spawn error: ${String(e)}`))
    child.once("close", (code) => resolve({ code, out }))
  })

/**
 * Postgres mode: a fresh database, `config` imported into it with the real `llmgate import`, and the
 * gateway started with a YAML holding only `server`/`master_key`/`store`. `onDrop` receives the
 * database's drop as soon as it exists, so afterAll removes it even when a later step fails.
 */
const launchFromPostgres = async (
  config: unknown,
  port: number,
  debug: boolean,
  onDrop: (drop: () => Promise<void>, url: string) => void
): Promise<GatewayProcess> => {
  const db = await createTestDatabase()
  onDrop(db.drop, db.url)
  const env = { LLMGATE_ENCRYPTION_KEY: ENCRYPTION_KEY, DATABASE_URL: db.url }
  const imported = await runCli(["import", writeConfig(config)], env)
  if (imported.code !== 0) throw new Error(`harness: llmgate import failed (exit ${imported.code}):\n${imported.out}`)
  const doc = config as Record<string, unknown>
  const settings = Object.fromEntries(FILE_SETTINGS.filter((k) => doc[k] !== undefined).map((k) => [k, doc[k]]))
  return launchGateway({ runtime, config: settings, port, debug, env })
}

/** Registers beforeAll/afterAll that start the fake upstream and the gateway; returns the lazy context. */
export const useContract = (options: ContractOptions = {}): Contract => {
  let gateway: GatewayProcess | undefined
  let upstream: Upstream | undefined
  let dropDatabase: (() => Promise<void>) | undefined
  let databaseUrl: string | undefined
  const bodies: Array<string> = []
  const need = <A>(a: A | undefined, what: string): A => {
    if (a === undefined) throw new Error(`harness: ${what} not started (beforeAll failed?)`)
    return a
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    const [gatewayPort, closedPort] = [await freePort(), await freePort()]
    const base = contractConfig({ gatewayPort, upstreamBaseUrl: upstream.baseUrl, closedPort })
    const config = options.configure ? options.configure(base) : base
    try {
      gateway =
        store === "postgres"
          ? await launchFromPostgres(config, gatewayPort, options.debug ?? false, (drop, url) => {
              dropDatabase = drop
              databaseUrl = url
            })
          : await launchGateway({ runtime, config, port: gatewayPort, debug: options.debug ?? false })
    } catch (e) {
      await upstream.close()
      upstream = undefined
      throw e
    }
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    await dropDatabase?.()
    cleanupTempDirs()
  })

  return {
    runtime,
    get base() {
      return need(gateway, "gateway").baseUrl
    },
    get gateway() {
      return need(gateway, "gateway")
    },
    get upstream() {
      return need(upstream, "upstream")
    },
    get recorder() {
      return need(upstream, "upstream").recorder
    },
    get databaseUrl() {
      return databaseUrl
    },
    bodies,
    ...httpClient(() => need(gateway, "gateway").baseUrl, bodies)
  }
}

export type HttpClient = Pick<Contract, "request" | "get" | "post" | "postStream" | "noteBody">

/** The request helpers of a contract context, against the gateway at `baseUrl()`; bodies read are kept in `bodies`. */
export const httpClient = (baseUrl: () => string, bodies: Array<string>): HttpClient => {
  const request = async (method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Res> => {
    const init: RequestInit = { method, headers: headersFor(opts, body !== undefined && typeof body !== "string") }
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body)
    if (opts.signal) init.signal = opts.signal
    const r = await fetch(`${baseUrl()}${path}`, init)
    const text = await r.text()
    bodies.push(text)
    return { status: r.status, headers: r.headers, text, json: <T>() => parseJson<T>(text, r.status) }
  }
  return {
    request,
    get: (path, opts) => request("GET", path, undefined, opts),
    post: (path, body, opts) => request("POST", path, body, opts),
    postStream: async (path, body, opts = {}) => {
      const init: RequestInit = { method: "POST", headers: headersFor(opts, true), body: JSON.stringify(body) }
      if (opts.signal) init.signal = opts.signal
      return fetch(`${baseUrl()}${path}`, init)
    },
    noteBody: (text) => {
      bodies.push(text)
    }
  }
}

/**
 * The gateway is up and every worker alive: none exited (a worker that exited reports config
 * version 0 until its replacement is up, and the owner logs it), and nothing ended in a defect.
 */
export const expectEveryWorkerAlive = async (ctx: Pick<Contract, "gateway" | "get">): Promise<void> => {
  expect(ctx.gateway.hasExited()).toBe(false)
  const r = await ctx.get("/health", { key: null })
  expect(r.status).toBe(200)
  const h = r.json<Health>()
  expect(h.workers).toHaveLength(workers)
  for (const w of h.workers) expect(w.config_version, `worker ${w.id}`).toBeGreaterThan(0)
  const logs = ctx.gateway.stdout() + ctx.gateway.stderr()
  expect(logs).not.toMatch(/worker \d+ (exited|keeps failing)/)
  expect(logs).not.toMatch(/unexpected defect/)
}

/**
 * Adds the closing test of a suite file: nothing the gateway printed so far, and no body the suite read,
 * contains the master key or a provider api_key.
 */
export const itLeaksNoSecrets = (ctx: Pick<Contract, "bodies" | "gateway">): void => {
  it("leaks no secret in any response body or log line so far", () => {
    expect(findLeaks(ctx.bodies.join("\n")), "secrets in response bodies").toEqual([])
    expect(findLeaks(ctx.gateway.stdout()), "secrets in stdout").toEqual([])
    expect(findLeaks(ctx.gateway.stderr()), "secrets in stderr").toEqual([])
  })
}

/** A unique marker to find one request in the upstream recorder. */
let markerSeq = 0
export const marker = (label = "m"): string =>
  `${label}-${process.pid}-${++markerSeq}-${Math.random().toString(36).slice(2, 8)}`

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * One request on a connection of its own, closed after (the kernel spreads new connections over
 * the workers): `body` as JSON, `key` as the bearer (the master key by default; `null`: none).
 */
export const onNewConnection = (
  port: number,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = MASTER_KEY
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          connection: "close"
        }
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") })
        )
      }
    )
    req.on("error", reject)
    req.end(payload)
  })
