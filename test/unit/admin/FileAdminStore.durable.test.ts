// Durable writes of the file AdminStore (issue 10, items 4 and 6): a process killed at every step of a
// write leaves the config file old or new, never partial, and once the next write ran the audit log
// has exactly one line per write that landed; a full disk (a FileSystem refusing writes) fails the
// write with a 503 naming the problem, changes nothing, leaves no lock, and the next write works once
// there is space; the lock is never held by two writers (a dead holder's lock taken over at once,
// racing takers, a holder whose lock was taken over).
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as PlatformError from "effect/PlatformError"
import * as Result from "effect/Result"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import type { AdminStoreShape } from "../../../src/admin/AdminStore.ts"
import * as FileAdminStore from "../../../src/admin/FileAdminStore.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { errorBody, type GatewayError } from "../../../src/domain/GatewayError.ts"
import { type Change, enospc, withHook } from "../../support/faultFileSystem.ts"

const MASTER = { id: "master" } as const
const CONFIG = `# durable-write test config
providers: [{ name: mock, kind: mock }]
models: [{ name: m, targets: [{ provider: mock }] }]
projects:
  - id: prj_a
    name: A
`
/** An audit line from before the test, kept as it is. */
const EARLIER_AUDIT = `{"at":"2026-01-01T00:00:00.000Z","actor":"master","action":"create","resource":"project","resource_id":"prj_a","detail":{}}\n`

const nodeFs = Effect.runSync(Effect.service(FileSystem.FileSystem).pipe(Effect.provide(NodeFileSystem.layer)))

/** Lock takeovers by process id need a host and a liveness check; this one's are real. */
const HOST = "crash-test"
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return e instanceof Error && "code" in e && e.code === "EPERM"
  }
}

const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-durable-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "gateway.yaml")
  writeFileSync(path, CONFIG)
  writeFileSync(`${path}.audit.jsonl`, EARLIER_AUDIT)
  return { dir, path }
}

interface StoreOptions {
  readonly fs?: FileSystem.FileSystem
  readonly lockStaleMs?: number
  readonly lockTimeoutMs?: number
  readonly process?: FileAdminStore.ProcessInfo
  readonly onReload?: () => void
}

const storeOn = (path: string, o: StoreOptions = {}): AdminStoreShape =>
  FileAdminStore.make(o.fs ?? nodeFs, {
    path,
    env: {},
    reload: Effect.sync(() => o.onReload?.()),
    ...(o.lockStaleMs === undefined ? {} : { lockStaleMs: o.lockStaleMs }),
    ...(o.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: o.lockTimeoutMs }),
    process: o.process ?? { pid: process.pid, host: HOST, alive }
  })

const run = <A>(effect: Effect.Effect<A, GatewayError>): Promise<A> => Effect.runPromise(effect)
const failure = async (effect: Effect.Effect<unknown, GatewayError>) =>
  (await Effect.runPromise(Effect.flip(effect))).reason

const projects = (text: string): ReadonlyArray<{ readonly id: string; readonly name: string }> => {
  const r = parseConfig(text, {}, "test")
  if (Result.isFailure(r)) throw new Error(`the config file is not valid:\n${r.failure.message}\n${text}`)
  return [...r.success.tenancy.projects.values()].map((p) => ({ id: p.id, name: p.name }))
}

const auditLines = (path: string): ReadonlyArray<Record<string, unknown>> =>
  readFileSync(`${path}.audit.jsonl`, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)

/** Files beside the config other than itself and its audit log (temp files, journal, lock, claims). */
const leftovers = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).filter((f) => f !== "gateway.yaml" && f !== "gateway.yaml.audit.jsonl")

const CHILD = new URL("./crashWrite.child.ts", import.meta.url).pathname
/** Node's on-disk compile cache halves each child's start. */
const COMPILE_CACHE = join(tmpdir(), "llmgate-test-compile-cache")

/** Runs the child's write, killed before its `n`th change to the disk (0: never); how it ended and its log. */
const crashAt = (path: string, n: number) =>
  new Promise<{ readonly signal: NodeJS.Signals | null; readonly code: number | null; readonly log: string }>(
    (resolve) => {
      const child = spawn(process.execPath, [CHILD, path], {
        env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE, LLMGATE_TEST_CRASH_AT: String(n) }
      })
      let log = ""
      child.stdout.on("data", (d: Buffer) => (log += d.toString()))
      child.stderr.on("data", (d: Buffer) => (log += d.toString()))
      child.on("exit", (code, signal) => resolve({ signal, code, log }))
    }
  )

describe("FileAdminStore: durable writes", () => {
  it("killed before each change a write makes to the disk: the file is old or new, never partial; the audit log agrees", async () => {
    // A write left alone: how many changes it makes (the crash points), and that it completes.
    const whole = fresh()
    const completed = await crashAt(whole.path, 0)
    expect(completed.code, completed.log).toBe(0)
    const changes = (JSON.parse(completed.log.trim().split("\n").at(-1) ?? "{}") as { changes: number }).changes
    expect(projects(readFileSync(whole.path, "utf8")).map((p) => p.name)).toEqual(["A", "Crash"])
    expect(auditLines(whole.path).length).toBe(2)
    expect(leftovers(whole.dir)).toEqual([])

    const crashOnce = async (n: number): Promise<string> => {
      const { dir, path } = fresh()
      const ended = await crashAt(path, n)
      expect(ended.signal, ended.log).toBe("SIGKILL")
      const step = ended.log.trim().split("\n").at(-1) ?? ""
      const why = `killed before change ${step}`

      // Right after the crash: the old file or the new one, whole; an audit line only for a write that landed
      // (one that landed may still have it pending in the journal).
      const text = readFileSync(path, "utf8")
      const landed = projects(text).some((p) => p.name === "Crash")
      if (!landed) expect(text, why).toBe(CONFIG)
      const crashLines = auditLines(path).filter((l) => l["resource_id"] !== "prj_a")
      expect(crashLines.length, why).toBeLessThanOrEqual(landed ? 1 : 0)
      if (landed && crashLines.length === 0) expect(existsSync(`${path}.journal`), why).toBe(true)
      expect(readFileSync(`${path}.audit.jsonl`, "utf8").startsWith(EARLIER_AUDIT), why).toBe(true)

      // The next write (here, in this process) takes the dead writer's lock over and completes the audit log.
      const after = await run(storeOn(path, { lockStaleMs: 300 }).create("projects", { name: "After" }, MASTER))
      const now = projects(readFileSync(path, "utf8"))
      expect(
        now.map((p) => p.name),
        why
      ).toEqual(landed ? ["A", "Crash", "After"] : ["A", "After"])
      const crashId = now.find((p) => p.name === "Crash")?.id
      expect(
        auditLines(path).map((l) => l["resource_id"]),
        why
      ).toEqual(["prj_a", ...(crashId === undefined ? [] : [crashId]), after["id"]])
      expect(leftovers(dir), why).toEqual([])
      return step
    }
    const killedAt: Array<string> = []
    const points = Array.from({ length: changes }, (_, i) => i + 1)
    for (let i = 0; i < points.length; i += 3)
      killedAt.push(...(await Promise.all(points.slice(i, i + 3).map(crashOnce))))

    // Every kind of change was a crash point: the lock, the temp file, the journal, the directory's fsync, the rename, the
    // audit line, the release.
    const kinds = killedAt.map((s) =>
      s
        .split(" ")
        .slice(1, 3)
        .join(" ")
        .replace(/\S*\/gateway\.yaml/g, "gateway.yaml")
        .replace(/tmp-\S+/, "tmp-*")
        .replace(/ \S*llmgate-durable-\w+$/, " <dir>")
    )
    for (const expected of [
      "open gateway.yaml.lock",
      "write gateway.yaml.lock",
      "open gateway.yaml.tmp-*",
      "write gateway.yaml.tmp-*",
      "sync gateway.yaml.tmp-*",
      "open gateway.yaml.journal",
      "sync gateway.yaml.journal",
      "sync <dir>",
      "rename gateway.yaml.tmp-*",
      "write gateway.yaml.audit.jsonl",
      "sync gateway.yaml.audit.jsonl",
      "remove gateway.yaml.journal",
      "link gateway.yaml.lock",
      "remove gateway.yaml.lock"
    ])
      expect(kinds, kinds.join("\n")).toContain(expected)
  }, 120_000)

  describe("a full disk (a FileSystem refusing writes)", () => {
    const cases: ReadonlyArray<readonly [string, (c: Change) => boolean]> = [
      ["the lock's content", (c) => c.path.endsWith(".lock")],
      ["the temp file", (c) => c.path.includes(".tmp-")],
      ["the journal", (c) => c.path.endsWith(".journal")],
      ["every write", () => true]
    ]
    for (const [where, refused] of cases) {
      it(`at ${where}: 503 naming the problem, nothing changed, the lock released; the next write works once there is space`, async () => {
        const { dir, path } = fresh()
        let full = true
        let reloads = 0
        const fs = withHook(nodeFs, (c) =>
          full && c.op === "write" && refused(c) ? Effect.fail(enospc(c)) : Effect.void
        )
        const store = storeOn(path, { fs, onReload: () => reloads++ })

        const reason = await failure(store.create("projects", { name: "Full" }, MASTER))
        expect(reason._tag).toBe("Unavailable")
        const { error } = errorBody(reason)
        expect(error).toMatchObject({ type: "api_error", code: "service_unavailable" })
        expect(error.message).toContain("no space left on the device (ENOSPC)")
        expect(error.message).toContain("Nothing was changed")
        expect(readFileSync(path, "utf8")).toBe(CONFIG)
        expect(readFileSync(`${path}.audit.jsonl`, "utf8")).toBe(EARLIER_AUDIT)
        expect(reloads).toBe(0)
        expect(leftovers(dir)).toEqual([])

        full = false
        const created = await run(store.create("projects", { name: "Roomy" }, MASTER))
        expect(projects(readFileSync(path, "utf8")).map((p) => p.name)).toEqual(["A", "Roomy"])
        expect(auditLines(path).map((l) => l["resource_id"])).toEqual(["prj_a", created["id"]])
        expect(reloads).toBe(1)
        expect(leftovers(dir)).toEqual([])
      })
    }

    it("at the audit line, after the file landed: the write answers, its line waits in the journal for the next write", async () => {
      const { dir, path } = fresh()
      let full = true
      const fs = withHook(nodeFs, (c) =>
        full && c.op === "write" && c.path.endsWith(".audit.jsonl") ? Effect.fail(enospc(c)) : Effect.void
      )
      const store = storeOn(path, { fs })
      const first = await run(store.create("projects", { name: "Landed" }, MASTER))
      expect(projects(readFileSync(path, "utf8")).map((p) => p.name)).toEqual(["A", "Landed"])
      expect(existsSync(`${path}.journal`)).toBe(true)
      full = false
      const second = await run(store.create("projects", { name: "Next" }, MASTER))
      expect(auditLines(path).map((l) => l["resource_id"])).toEqual(["prj_a", first["id"], second["id"]])
      expect(leftovers(dir)).toEqual([])
    })
  })

  describe("the lock", () => {
    it("is taken over at once when its holder's process is gone (same host); waited for while it runs, or on another host", async () => {
      const { path } = fresh()
      const lock = `${path}.lock`
      const deadPid = 2 ** 22 + 12_345 // above Linux's pid_max default: no such process
      writeFileSync(lock, JSON.stringify({ token: "t", pid: deadPid, host: HOST, at: new Date().toISOString() }))
      const store = storeOn(path, { lockStaleMs: 60_000, lockTimeoutMs: 300 })
      await run(store.create("projects", { name: "Took over" }, MASTER))
      expect(existsSync(lock)).toBe(false)

      for (const holder of [
        { pid: process.pid, host: HOST },
        { pid: deadPid, host: "another-host" }
      ]) {
        writeFileSync(lock, JSON.stringify({ token: "t2", ...holder, at: new Date().toISOString() }))
        expect(await failure(store.create("projects", { name: "Blocked" }, MASTER))).toMatchObject({
          _tag: "Unavailable"
        })
        rmSync(lock)
      }
      expect(projects(readFileSync(path, "utf8")).map((p) => p.name)).toEqual(["A", "Took over"])
    })

    it("racing takers of one stale lock: one wins at a time, no update is lost", async () => {
      const { dir, path } = fresh()
      writeFileSync(`${path}.lock`, JSON.stringify({ token: "dead", pid: 2 ** 22 + 54_321, host: HOST }))
      const stores = Array.from({ length: 6 }, () => storeOn(path))
      const names = Array.from({ length: 18 }, (_, i) => `P${i}`)
      await run(
        Effect.all(
          names.map((name, i) => stores[i % stores.length]!.create("projects", { name }, MASTER)),
          { concurrency: "unbounded" }
        )
      )
      expect(
        projects(readFileSync(path, "utf8"))
          .map((p) => p.name)
          .sort()
      ).toEqual(["A", ...names].sort())
      expect(auditLines(path).length).toBe(1 + names.length)
      expect(leftovers(dir)).toEqual([])
    })

    it("works on a file system without hard links (no claims there): released after each write, a stale one taken over", async () => {
      const { dir, path } = fresh()
      const fs = withHook(nodeFs, (c) =>
        c.op === "link"
          ? Effect.fail(
              PlatformError.systemError({
                _tag: "PermissionDenied",
                module: "FileSystem",
                method: "link",
                pathOrDescriptor: c.path
              })
            )
          : Effect.void
      )
      const store = storeOn(path, { fs })
      await run(store.create("projects", { name: "One" }, MASTER))
      expect(leftovers(dir)).toEqual([])
      writeFileSync(`${path}.lock`, JSON.stringify({ token: "dead", pid: 2 ** 22 + 777, host: HOST }))
      await run(store.create("projects", { name: "Two" }, MASTER))
      expect(projects(readFileSync(path, "utf8")).map((p) => p.name)).toEqual(["A", "One", "Two"])
      expect(leftovers(dir)).toEqual([])
    })

    it("a writer whose lock was taken over (it stalled past lockStaleMs) fails without writing", async () => {
      const { path } = fresh()
      // While the stalled writer writes its journal, another process takes its lock over and holds it.
      const fs = withHook(nodeFs, (c) =>
        c.op === "open" && c.path.endsWith(".journal")
          ? Effect.sync(() => {
              rmSync(`${path}.lock`)
              writeFileSync(`${path}.lock`, JSON.stringify({ token: "usurper", pid: process.pid, host: HOST }))
            })
          : Effect.void
      )
      const reason = await failure(storeOn(path, { fs }).create("projects", { name: "Stalled" }, MASTER))
      expect(reason).toMatchObject({
        _tag: "Unavailable",
        message: expect.stringContaining("another writer took it over")
      })
      expect(readFileSync(path, "utf8")).toBe(CONFIG)
      expect(readFileSync(`${path}.audit.jsonl`, "utf8")).toBe(EARLIER_AUDIT)
      // Its release leaves the new holder's lock alone.
      expect(JSON.parse(readFileSync(`${path}.lock`, "utf8"))).toMatchObject({ token: "usurper" })
    })
  })
})
