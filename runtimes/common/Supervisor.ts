/**
 * The multi-worker supervisor, shared by the three entries (node:child_process and node:process run
 * on Node, Bun and Deno alike). It starts N copies of the entry as workers, each serving the same
 * port with SO_REUSEPORT so the kernel spreads connections; forwards SIGTERM/SIGINT (graceful
 * drain) and SIGHUP (config reload) to every worker; restarts a worker that dies unexpectedly
 * (backing off, and giving up when workers keep dying at startup); and exits once every worker has.
 */
import { type ChildProcess, spawn } from "node:child_process"
import process from "node:process"

export interface SuperviseOptions {
  /** The executable and arguments that start this entry again (argv is appended). */
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly argv: ReadonlyArray<string>
  readonly workers: number
  /** Extra environment for every worker (worker ids are added per worker). */
  readonly env: Readonly<Record<string, string>>
  readonly shutdownTimeoutMs: number
  /** Subscribes to a signal the runtime's own way (Deno's node:process emulation loses handlers after a SIGHUP). */
  readonly onSignal?: (signal: "SIGTERM" | "SIGINT" | "SIGHUP", handler: () => void) => void
}

/** Resolves with the supervisor's exit code. */
export const supervise = (options: SuperviseOptions): Promise<number> =>
  new Promise((resolve) => {
    const children = new Map<number, ChildProcess>()
    const failures = new Map<number, number>()
    let stopping = false
    let exitCode = 0
    const log = (line: string) => process.stderr.write(`llmgate supervisor: ${line}\n`)

    // process.kill(pid), not child.kill(): Deno's ChildProcess sends only the first signal (a SIGTERM
    // after a SIGHUP would be dropped).
    const signal = (child: ChildProcess, name: NodeJS.Signals) => {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, name)
        } catch {
          // exited in the meantime
        }
      }
    }
    const finishIfDone = () => {
      if (stopping && children.size === 0) resolve(exitCode)
    }
    const start = (id: number) => {
      const startedAt = Date.now()
      const child = spawn(options.command, [...options.args, ...options.argv], {
        env: { ...process.env, ...options.env, LLMGATE_WORKER_ID: String(id), LLMGATE_WORKER_COUNT: String(options.workers) },
        stdio: "inherit"
      })
      children.set(id, child)
      child.on("exit", (code, signal) => {
        children.delete(id)
        if (stopping) return finishIfDone()
        const early = Date.now() - startedAt < 5_000
        const n = early ? (failures.get(id) ?? 0) + 1 : 0
        failures.set(id, n)
        if (n >= 5) {
          log(`worker ${id + 1} keeps failing at startup (exit ${code ?? signal}); stopping`)
          exitCode = 1
          stop("SIGTERM")
          return
        }
        const wait = Math.min(5_000, 100 * 2 ** n)
        log(`worker ${id + 1} exited (${code ?? signal}); restarting in ${wait} ms`)
        setTimeout(() => {
          if (!stopping) start(id)
        }, wait)
      })
    }
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      for (const child of children.values()) signal(child, sig)
      // Workers drain for at most shutdown_timeout; past that (plus a margin) they are killed.
      setTimeout(() => {
        for (const child of children.values()) signal(child, "SIGKILL")
      }, options.shutdownTimeoutMs + 5_000).unref()
      finishIfDone()
    }
    const onSignal = options.onSignal ?? ((signal, handler) => process.on(signal, handler))
    onSignal("SIGTERM", () => stop("SIGTERM"))
    onSignal("SIGINT", () => stop("SIGINT"))
    onSignal("SIGHUP", () => {
      for (const child of children.values()) signal(child, "SIGHUP")
    })
    for (let id = 0; id < options.workers; id++) start(id)
  })
