// `llmgate keys create`: argument parsing, and the command in file mode (the key is written to the
// config file as hash + prefix, printed once, and works when the file is loaded). Postgres mode goes
// through the Postgres admin store (covered by its own tests) and, when a database is reachable, here.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import { parseArgs, USAGE } from "../../../src/cli/Cli.ts"
import { runKeysCreate } from "../../../src/cli/Commands.ts"
import { hashKey } from "../../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { prepare, StartupExit } from "../../../src/startup/Prepare.ts"
import { TEST_RUNTIME } from "../../support/runtime.ts"
import { withTestDatabase } from "../../support/postgres.ts"

const parsed = (argv: ReadonlyArray<string>) => {
  const r = parseArgs(argv)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}
const usageError = (argv: ReadonlyArray<string>) => {
  const r = parseArgs(argv)
  if (Result.isSuccess(r)) throw new Error("expected a usage error")
  return r.failure.message
}

const CONFIG = `# keys live below
master_key: mk-test
providers: [{ name: mock, kind: mock }]
models: [{ name: gpt-4o, targets: [{ provider: mock }] }]
projects:
  - id: prj_web
    name: Web
`

const writeConfig = (text = CONFIG): string => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-keys-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "gateway.yaml")
  writeFileSync(path, text)
  return path
}

const keysCreate = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const cli = parsed(argv)
  if (cli.command._tag !== "KeysCreate") throw new Error("not keys create")
  return Effect.runPromise(runKeysCreate(cli, env, cli.command).pipe(Effect.provide(NodeFileSystem.layer)))
}

describe("keys create: arguments", () => {
  it("reads --project, --models (comma-separated), --name, --user and --expires", () => {
    expect(
      parsed([
        "keys",
        "create",
        "--project",
        "P",
        "--models",
        "gpt-*, /^o1/",
        "--name=ci",
        "--user",
        "usr_a",
        "--expires",
        "2027-01-01"
      ]).command
    ).toEqual({
      _tag: "KeysCreate",
      project: "P",
      models: ["gpt-*", "/^o1/"],
      name: "ci",
      user: "usr_a",
      expires: "2027-01-01"
    })
    expect(parsed(["keys", "create", "--project", "P"]).command).toEqual({
      _tag: "KeysCreate",
      project: "P",
      models: undefined,
      name: undefined,
      user: undefined,
      expires: undefined
    })
  })

  it("refuses a missing --project, unknown key commands, and key options elsewhere", () => {
    expect(usageError(["keys", "create"])).toContain("--project")
    expect(usageError(["keys"])).toContain("keys create")
    expect(usageError(["keys", "delete"])).toContain('unknown argument "delete"')
    expect(usageError(["--project", "P"])).toContain("--project is an option of keys create")
    expect(USAGE).toContain("llmgate keys create --project P")
  })
})

describe("keys create: file mode", () => {
  it("writes the key to the file as hash + prefix, prints it once; the file then admits it for the allowed models", async () => {
    const path = writeConfig()
    const r = await keysCreate([
      "keys",
      "create",
      "--config",
      path,
      "--project",
      "Web",
      "--models",
      "gpt-*",
      "--name",
      "ci"
    ])
    expect(r.code, r.output).toBe(0)
    const [key, details] = r.output.split("\n")
    expect(key).toMatch(/^sk-lg-[0-9A-Za-z]{32}$/)
    expect(details).toContain(`prefix ${key?.slice(0, 12)}`)
    expect(details).toContain("in project prj_web")
    const text = readFileSync(path, "utf8")
    expect(text).not.toContain(key)
    expect(text).toContain(hashKey(key ?? ""))
    expect(text).toContain("# keys live below")
    const config = parseConfig(text, {}, path)
    if (Result.isFailure(config)) throw new Error(config.failure.message)
    const resolved = config.success.tenancy.keysByHash.get(hashKey(key ?? ""))
    expect(resolved).toMatchObject({ name: "ci", projectId: "prj_web" })
    expect(resolved?.allows("gpt-4o")).toBe(true)
    expect(resolved?.allows("claude")).toBe(false)
    expect(readFileSync(`${path}.audit.jsonl`, "utf8")).toContain('"actor":"cli"')
  })

  it("runs from prepare (exit 0 with the key on stdout); an unknown project or invalid value exits 1 and writes nothing", async () => {
    const path = writeConfig()
    const exit = await Effect.runPromise(
      Effect.flip(
        prepare({
          argv: ["keys", "create", "--config", path, "--project", "prj_web"],
          env: {},
          runtime: TEST_RUNTIME
        })
      ).pipe(Effect.provide(NodeFileSystem.layer))
    )
    expect(exit).toBeInstanceOf(StartupExit)
    expect(exit).toMatchObject({ code: 0, output: expect.stringMatching(/^sk-lg-/) })

    const before = readFileSync(path, "utf8")
    const unknown = await keysCreate(["keys", "create", "--config", path, "--project", "nope"])
    expect(unknown).toMatchObject({ code: 1, output: expect.stringContaining('no project with id or name "nope"') })
    const bad = await keysCreate(["keys", "create", "--config", path, "--project", "prj_web", "--expires", "soon"])
    expect(bad.code).toBe(1)
    expect(bad.output).toContain("expires_at")
    expect(readFileSync(path, "utf8")).toBe(before)
  })

  it("needs a config file or a database", async () => {
    const r = await keysCreate(["keys", "create", "--project", "P"])
    expect(r).toMatchObject({ code: 2, output: expect.stringContaining("--config FILE") })
  })
})

describe("keys create: Postgres mode", () => {
  it("inserts through the Postgres admin store", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const env = {
      DATABASE_URL: db.url,
      LLMGATE_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    }
    const path = writeConfig("master_key: mk-test\n")
    // a project first, through the same store
    const { make } = await import("../../../src/admin/PostgresAdminStore.ts")
    const postgres = (await import("postgres")).default
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined })
    onTestFinished(() => sql.end({ timeout: 5 }))
    const none = await keysCreate(["keys", "create", "--config", path, "--project", "Search"], env)
    expect(none.code).toBe(1) // no such project yet (the migrations ran)
    const { makeProviderSecrets } = await import("../../../src/store/postgres/ProviderSecrets.ts")
    const secrets = await Effect.runPromise(makeProviderSecrets(env))
    const store = make(sql, { settings: Effect.succeed({ master_key: "mk-test" }), secrets, reload: Effect.void })
    const project = await Effect.runPromise(store.create("projects", { name: "Search" }, { id: "test" }))
    const r = await keysCreate(["keys", "create", "--config", path, "--project", "Search", "--models", "gpt-*"], env)
    expect(r.code, r.output).toBe(0)
    const key = r.output.split("\n")[0] ?? ""
    const rows = await sql`select project_id, models, key_hash from virtual_keys`
    expect(rows).toEqual([{ project_id: project["id"], models: ["gpt-*"], key_hash: hashKey(key) }])
  })
})
