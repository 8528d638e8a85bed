/**
 * Child processes for the bench: spawned pinned with `taskset`, each in its own process group (so a
 * multi-process gateway is stopped whole), tracked so they are killed on exit, failure or a signal,
 * and registered with an orphan guard (guard.ts) that kills them even if the bench itself is killed.
 * Also reads /proc for a process tree's CPU time (utime+stime, clock ticks) and RSS.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"

export const ROOT = resolve(import.meta.dirname, "../../..")
export const bin = (name: string): string => join(ROOT, "node_modules", ".bin", name)

const clockTicks = (): number => {
  const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" })
  const n = Number(out.stdout.trim())
  return Number.isFinite(n) && n > 0 ? n : 100
}
export const CLK_TCK = clockTicks()

export const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))

/** Pins this process (every thread, and so the threads and children it creates later) to `cpus`. */
export const pinSelf = (cpus: string): boolean =>
  spawnSync("taskset", ["-a", "-p", "-c", cpus, String(process.pid)], { stdio: "ignore" }).status === 0

// ---- tracking and cleanup --------------------------------------------------------------------

const live = new Map<number, ChildProcess>()
let guard: ChildProcess | undefined

const tellGuard = (line: string): void => {
  if (guard?.stdin && !guard.stdin.destroyed) guard.stdin.write(`${line}\n`)
}

export const startGuard = (tempDir: string): void => {
  guard = spawn(process.execPath, [join(import.meta.dirname, "..", "guard.ts"), "--rm", tempDir], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"]
  })
  guard.on("error", () => {
    guard = undefined
  })
}

const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // gone
    }
  }
}

/** Kills every tracked child group now (synchronous: safe in an exit handler). */
export const killAllSync = (): void => {
  for (const pid of live.keys()) killGroup(pid, "SIGKILL")
  live.clear()
  guard?.stdin?.end()
}

// ---- spawning ----------------------------------------------------------------------------------

export interface Child {
  readonly name: string
  readonly pid: number
  /** performance.now() just before spawn. */
  readonly spawnedAt: number
  readonly exited: Promise<number | null>
  hasExited(): boolean
  /** The last few KB of stdout and stderr, for diagnostics. */
  output(): string
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process exited. */
  stop(graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  readonly name: string
  /** taskset CPU list, e.g. "1" or "0,1". */
  readonly cpus: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
  /** Receives everything the child writes (stdout and stderr, UTF-8), e.g. to follow its GC trace. */
  readonly onOutput?: (text: string) => void
}

export const spawnChild = (options: SpawnOptions): Child => {
  const spawnedAt = performance.now()
  const proc = spawn("taskset", ["-c", options.cpus, options.command, ...options.args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env }
  })
  const pid = proc.pid
  if (pid === undefined) throw new Error(`${options.name}: spawn failed`)
  live.set(pid, proc)
  tellGuard(`+${pid}`)
  let log = ""
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString("utf8")
    log = (log + text).slice(-4096)
    options.onOutput?.(text)
  }
  proc.stdout?.on("data", keep)
  proc.stderr?.on("data", keep)
  let done = false
  const exited = new Promise<number | null>((ok) => {
    proc.once("exit", (code) => {
      done = true
      live.delete(pid)
      tellGuard(`-${pid}`)
      ok(code)
    })
    proc.once("error", (e) => {
      keep(Buffer.from(String(e)))
      done = true
      live.delete(pid)
      ok(null)
    })
  })
  return {
    name: options.name,
    pid,
    spawnedAt,
    exited,
    hasExited: () => done,
    output: () => log,
    stop: async (graceMs = 3000) => {
      if (done) return
      killGroup(pid, "SIGTERM")
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs)
      await exited
      clearTimeout(timer)
      killGroup(pid, "SIGKILL") // workers left behind, if any
    }
  }
}

// ---- /proc ---------------------------------------------------------------------------------------

interface Stat {
  readonly ppid: number
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number
}

const readStat = (pid: number): Stat | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
    const n = (i: number): number => Number(fields[i] ?? 0)
    // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    return { ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) }
  } catch {
    return undefined
  }
}

/** `root` and its descendants (a multi-worker gateway is a tree). */
export const treePids = (root: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    const stat = readStat(pid)
    if (stat === undefined) continue
    const list = children.get(stat.ppid)
    if (list) list.push(pid)
    else children.set(stat.ppid, [pid])
  }
  const out: Array<number> = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.pop() as number
    out.push(pid)
    for (const c of children.get(pid) ?? []) queue.push(c)
  }
  return out
}

/** CPU time (user + system, reaped children included) of a process tree, in ms. */
export const treeCpuMs = (pids: ReadonlyArray<number>): number => {
  let ticks = 0
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0
  return (ticks * 1000) / CLK_TCK
}

const rssBytes = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** Resident memory of a process tree, in bytes. */
export const treeRss = (pids: ReadonlyArray<number>): number => pids.reduce((sum, pid) => sum + rssBytes(pid), 0)

/** The CPUs a process may run on (taskset -p), for the report. */
export const affinity = (pid: number): string => {
  const out = spawnSync("taskset", ["-c", "-p", String(pid)], { encoding: "utf8" })
  return out.stdout.split(":").pop()?.trim() ?? "?"
}

/** CPU time spent in user and system mode on the whole machine since boot (/proc/stat), in ms. */
export const machineBusyMs = (): number => {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? ""
    const [, user = 0, nice = 0, system = 0] = line.trim().split(/\s+/).map(Number)
    return ((user + nice + system) * 1000) / CLK_TCK
  } catch {
    return Number.NaN
  }
}

/** The number of OS threads of a process (/proc/<pid>/status), NaN when it cannot be read. */
export const threadCount = (pid: number): number => {
  try {
    const m = /Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m ? Number(m[1]) : Number.NaN
  } catch {
    return Number.NaN
  }
}
