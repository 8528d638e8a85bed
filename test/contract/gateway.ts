// Spawns the gateway as a child process under one runtime (commands from INTERFACE.md, binaries from
// node_modules/.bin resolved to absolute paths), waits for readiness, captures stdout/stderr, and stops
// it with a signal. Every child is also killed when the worker process exits, so nothing leaks.
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { inject } from "vitest"
import { stringify } from "yaml"
import { DENO_RUN_FLAGS } from "../../runtimes/deno/flags.ts"

export type Runtime = "node" | "bun" | "deno"

export const ROOT = resolve(import.meta.dirname, "../..")
const bin = (name: string): string => join(ROOT, "node_modules", ".bin", name)

export const runtimeCommand = (runtime: Runtime, args: ReadonlyArray<string>): [string, Array<string>] => {
  switch (runtime) {
    case "node":
      return [bin("node"), [join(ROOT, "runtimes/node/main.ts"), ...args]]
    case "bun":
      return [bin("bun"), [join(ROOT, "runtimes/bun/main.ts"), ...args]]
    case "deno":
      return [bin("deno"), ["run", ...DENO_RUN_FLAGS, join(ROOT, "runtimes/deno/main.ts"), ...args]]
  }
}

export { freePort } from "../support/ports.ts"

const live = new Set<ChildProcess>()
let exitHookInstalled = false
const track = (child: ChildProcess) => {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL")
    })
  }
  live.add(child)
  child.once("exit", () => live.delete(child))
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface GatewayProcess {
  readonly runtime: Runtime
  readonly port: number
  readonly baseUrl: string
  readonly configPath: string
  readonly pid: number | undefined
  stdout(): string
  stderr(): string
  readonly exited: Promise<Exit>
  hasExited(): boolean
  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`); returns the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>
}

export interface LaunchOptions {
  readonly runtime: Runtime
  /** Config as an object (serialised to YAML) or raw YAML text. */
  readonly config: unknown
  /** Use this path instead of writing `config` to a temp file (e.g. a path that does not exist). */
  readonly configPath?: string
  /** Port to pass with --port (also written to server.port by the caller if wanted). */
  readonly port: number
  /** Pass the config path via the LLMGATE_CONFIG env var instead of --config. */
  readonly configViaEnv?: boolean
  readonly debug?: boolean
  readonly env?: Readonly<Record<string, string>>
  readonly extraArgs?: ReadonlyArray<string>
  /** Worker threads (LLMGATE_WORKERS); default: the vitest project's `workers`. */
  readonly workers?: number
}

const tempDirs = new Set<string>()
export const writeConfig = (config: unknown): string => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-contract-"))
  tempDirs.add(dir)
  const path = join(dir, "config.yaml")
  writeFileSync(path, typeof config === "string" ? config : stringify(config))
  return path
}
export const cleanupTempDirs = (): void => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
  tempDirs.clear()
}

/** Spawns the gateway and returns at once (no readiness wait): used for the config-error tests too. */
export const spawnGateway = (opts: LaunchOptions): GatewayProcess => {
  const configPath = opts.configPath ?? writeConfig(opts.config)
  const args = [
    ...(opts.configViaEnv ? [] : ["--config", configPath]),
    "--host",
    "127.0.0.1",
    "--port",
    String(opts.port),
    ...(opts.debug ? ["--debug"] : []),
    ...(opts.extraArgs ?? [])
  ]
  const [cmd, argv] = runtimeCommand(opts.runtime, args)
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v
  // never let a developer's environment pick the config
  delete env.LLMGATE_CONFIG
  // As many workers as the project runs (two: the default mode on a machine with two cores).
  const workers = String(opts.workers ?? inject("workers") ?? 2)
  Object.assign(
    env,
    { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", LLMGATE_WORKERS: workers },
    opts.env ?? {}
  )
  if (opts.configViaEnv) env.LLMGATE_CONFIG = configPath
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] })
  track(child)
  let out = ""
  let err = ""
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d))
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d))
  let done = false
  const exited = new Promise<Exit>((ok) => {
    child.once("error", (e) => {
      err += `\n[harness] spawn error: ${String(e)}`
      done = true
      ok({ code: null, signal: null })
    })
    // "close" (not "exit") so that stdout/stderr are fully drained when this resolves
    child.once("close", (code, signal) => {
      done = true
      ok({ code, signal })
    })
  })
  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<Exit> => {
    if (done) return exited
    child.kill(signal)
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    const r = await exited
    clearTimeout(timer)
    return r
  }
  return {
    runtime: opts.runtime,
    port: opts.port,
    baseUrl: `http://127.0.0.1:${opts.port}`,
    configPath,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => done,
    stop
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Polls GET /health/readiness (500 ms per try) until 200 and the owner has printed its banner
 * (printed once every worker listens); fails fast if the process exits.
 */
export const waitReady = async (gw: GatewayProcess, timeoutMs = 30_000): Promise<void> => {
  const end = Date.now() + timeoutMs
  let last = "no attempt"
  while (Date.now() < end) {
    if (gw.hasExited()) {
      const e = await gw.exited
      throw new Error(
        `gateway (${gw.runtime}) exited before ready: code=${e.code} signal=${e.signal}\nstdout:\n${gw.stdout()}\nstderr:\n${gw.stderr()}`
      )
    }
    try {
      const r = await fetch(`${gw.baseUrl}/health/readiness`, { signal: AbortSignal.timeout(500) })
      await r.body?.cancel()
      if (r.status === 200 && gw.stdout().includes("llmgate listening on")) return
      last = r.status === 200 ? "ready, but not every worker listens yet" : `status ${r.status}`
    } catch (e) {
      last = String(e)
    }
    await sleep(100)
  }
  throw new Error(
    `gateway (${gw.runtime}) not ready after ${timeoutMs} ms (last: ${last})\nstdout:\n${gw.stdout()}\nstderr:\n${gw.stderr()}`
  )
}

/** Spawn + wait for readiness; kills the child if it never becomes ready. */
export const launchGateway = async (opts: LaunchOptions): Promise<GatewayProcess> => {
  const gw = spawnGateway(opts)
  try {
    await waitReady(gw)
    return gw
  } catch (e) {
    await gw.stop("SIGKILL", 2_000)
    throw e
  }
}

/** Spawns a gateway expected to refuse its config and exit; kills it (and fails) if it keeps running. */
export const runUntilExit = async (
  opts: LaunchOptions,
  timeoutMs = 20_000
): Promise<{ exit: Exit; stdout: string; stderr: string; timedOut: boolean }> => {
  const gw = spawnGateway(opts)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void gw.stop("SIGKILL", 1_000)
  }, timeoutMs)
  const exit = await gw.exited
  clearTimeout(timer)
  return { exit, stdout: gw.stdout(), stderr: gw.stderr(), timedOut }
}
