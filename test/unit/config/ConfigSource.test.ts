import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import {
  chooseStore,
  ConfigSource,
  DEFAULT_RELOAD_INTERVAL_MS,
  loadConfigFile
} from "../../../src/config/ConfigSource.ts"

const writeFile = (text: string): string => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-source-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "config.yaml")
  writeFileSync(path, text)
  return path
}

const loadFile = (path: string | undefined, env: Record<string, string>, flag?: string) =>
  Effect.runPromise(Effect.result(loadConfigFile(path, env, flag)).pipe(Effect.provide(NodeFileSystem.layer)))

describe("chooseStore", () => {
  const doc = { store: { postgres: { url: "postgres://file/db", reload_interval: "5s" } } }
  it("--database-url beats DATABASE_URL, which beats store.postgres.url; otherwise the file", () => {
    expect(chooseStore(doc, { DATABASE_URL: "postgres://env/db" }, "postgres://flag/db")).toEqual({
      _tag: "Postgres",
      url: "postgres://flag/db",
      from: "--database-url",
      reloadIntervalMs: 5_000
    })
    expect(chooseStore(doc, { DATABASE_URL: "postgres://env/db" }, undefined)).toEqual({
      _tag: "Postgres",
      url: "postgres://env/db",
      from: "DATABASE_URL",
      reloadIntervalMs: 5_000
    })
    expect(chooseStore(doc, {}, undefined)).toEqual({
      _tag: "Postgres",
      url: "postgres://file/db",
      from: "store.postgres.url",
      reloadIntervalMs: 5_000
    })
    expect(chooseStore({}, { DATABASE_URL: "" }, undefined)).toEqual({ _tag: "File" })
    expect(chooseStore({}, { DATABASE_URL: "postgres://env/db" }, undefined)).toMatchObject({
      _tag: "Postgres",
      reloadIntervalMs: DEFAULT_RELOAD_INTERVAL_MS
    })
  })
})

describe("loadConfigFile", () => {
  it("in Postgres mode the file may leave out providers and models; in file mode it may not", async () => {
    const path = writeFile("env: [PG_URL]\nmaster_key: mk\nstore:\n  postgres:\n    url: ${PG_URL}\n")
    const postgres = await loadFile(path, { PG_URL: "postgres://h/db" })
    expect(Result.isSuccess(postgres) && postgres.success.store).toMatchObject({
      _tag: "Postgres",
      url: "postgres://h/db"
    })
    const plain = await loadFile(writeFile("master_key: mk\n"), {})
    expect(Result.isFailure(plain) && plain.failure.message).toContain("providers: required field is missing")
    const viaEnv = await loadFile(writeFile("master_key: mk\n"), { DATABASE_URL: "postgres://h/db" })
    expect(Result.isSuccess(viaEnv) && viaEnv.success.store._tag).toBe("Postgres")
  })

  it("validates the store section like any other (unknown fields, bad durations)", async () => {
    const r = await loadFile(
      writeFile("store:\n  postgres:\n    url: postgres://h/db\n    reload_every: 5s\n    reload_interval: soon\n"),
      {}
    )
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) {
      expect(r.failure.message).toContain("store.postgres.reload_every: unknown field")
      expect(r.failure.message).toContain("store.postgres.reload_interval")
    }
  })
})

describe("ConfigSource.layerFile", () => {
  const A = "providers: [{ name: mock, kind: mock }]\nmodels: [{ name: a, targets: [{ provider: mock }] }]\n"
  const B = "providers: [{ name: mock, kind: mock }]\nmodels: [{ name: b, targets: [{ provider: mock }] }]\n"

  it("loads the file as it is now", async () => {
    const path = writeFile(A)
    const names = await Effect.runPromise(
      Effect.gen(function* () {
        const source = Context.get(yield* Layer.build(ConfigSource.layerFile(path, {})), ConfigSource)
        const first = (yield* source.load).config.modelNames
        writeFileSync(path, B)
        const second = (yield* source.load).config.modelNames
        return { first, second, description: source.description }
      }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
    )
    expect(names).toEqual({ first: ["a"], second: ["b"], description: `file ${path}` })
  })

  it("signals a change of the file's text (also a replace by rename), once per burst, and nothing for an unchanged file", async () => {
    const path = writeFile(A)
    const seen = await Effect.runPromise(
      Effect.gen(function* () {
        const source = Context.get(
          yield* Layer.build(ConfigSource.layerFile(path, {}, { debounceMs: 50, pollMs: 60_000 })),
          ConfigSource
        )
        const signals: Array<number> = []
        yield* Effect.forkScoped(
          Stream.runForEach(source.changes, () => Effect.sync(() => void signals.push(Date.now())))
        )
        yield* Effect.sleep("150 millis")
        writeFileSync(path, A) // same text: no signal
        yield* Effect.sleep("250 millis")
        const unchanged = signals.length
        for (let i = 0; i < 5; i++) writeFileSync(path, i % 2 === 0 ? B : `${A}# ${i}\n`)
        writeFileSync(path, B)
        yield* Effect.sleep("300 millis")
        const burst = signals.length - unchanged
        yield* source.load // the running config is now B
        writeFileSync(`${path}.new`, A)
        renameSync(`${path}.new`, path)
        yield* Effect.sleep("300 millis")
        return { unchanged, burst, renamed: signals.length - unchanged - burst }
      }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
    )
    expect(seen).toEqual({ unchanged: 0, burst: 1, renamed: 1 })
  })

  it("the safety-net re-read signals a change even without file events", async () => {
    const path = writeFile(A)
    const signalled = await Effect.runPromise(
      Effect.gen(function* () {
        const source = Context.get(
          yield* Layer.build(ConfigSource.layerFile(path, {}, { debounceMs: 10_000, pollMs: 100 })),
          ConfigSource
        )
        writeFileSync(path, B)
        return yield* Stream.runHead(source.changes).pipe(Effect.timeout("2 seconds"), Effect.as(true))
      }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
    )
    expect(signalled).toBe(true)
  })

  it("the embedded default has no changes", async () => {
    const changes = await Effect.runPromise(
      Effect.gen(function* () {
        const source = Context.get(yield* Layer.build(ConfigSource.layerFile(undefined, {})), ConfigSource)
        return (yield* Stream.runCollect(source.changes)).length
      }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
    )
    expect(changes).toBe(0)
  })
})
