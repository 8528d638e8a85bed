// `llmgate providers detect`: its arguments, and what it prints (the table, the YAML to paste, which
// loads as a config). The command against a real upstream is in test/contract/detect.contract.test.ts.
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseArgs } from "../../../src/cli/Cli.ts"
import {
  detectionTable,
  detectionYaml,
  keyVariable,
  providerEntry,
  yamlScalar
} from "../../../src/cli/DetectCommand.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import type { Detection } from "../../../src/providers/Detect.ts"

const detectArgs = (argv: ReadonlyArray<string>) => {
  const r = parseArgs(["providers", "detect", ...argv])
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  if (r.success.command._tag !== "ProvidersDetect") throw new Error("not providers detect")
  return r.success.command
}
const usageError = (argv: ReadonlyArray<string>): string => {
  const r = parseArgs(argv)
  if (Result.isSuccess(r)) throw new Error("expected a usage error")
  return r.failure.message
}

describe("providers detect: arguments", () => {
  it("defaults: kind openai, named after it, 3 models probed for 10 s each, a table", () => {
    expect(detectArgs(["--base-url", "http://u/v1"])).toEqual({
      _tag: "ProvidersDetect",
      kind: "openai",
      baseUrl: "http://u/v1",
      apiKey: undefined,
      apiVersion: undefined,
      name: "openai",
      probe: 3,
      models: undefined,
      timeoutMs: 10_000,
      output: "table"
    })
  })

  it("every option, in both spellings", () => {
    expect(
      detectArgs([
        "--kind=azure",
        "--base-url",
        "https://r.openai.azure.com",
        "--api-key",
        "k",
        "--api-version",
        "2024-10-21",
        "--name",
        "az-east",
        "--models",
        "dep-a, dep-b,,",
        "--timeout",
        "2500ms",
        "--yaml"
      ])
    ).toEqual({
      _tag: "ProvidersDetect",
      kind: "azure",
      baseUrl: "https://r.openai.azure.com",
      apiKey: "k",
      apiVersion: "2024-10-21",
      name: "az-east",
      // Every named model is probed unless --probe says otherwise.
      probe: 2,
      models: ["dep-a", "dep-b"],
      timeoutMs: 2_500,
      output: "yaml"
    })
    expect(detectArgs(["--kind", "anthropic", "--probe", "0", "--timeout", "500", "--json"])).toMatchObject({
      kind: "anthropic",
      baseUrl: undefined,
      probe: 0,
      timeoutMs: 500,
      output: "json"
    })
  })

  it("refuses what cannot be detected, naming the option", () => {
    expect(usageError(["providers"])).toBe("providers needs a command: providers detect --base-url URL")
    expect(usageError(["providers", "list"])).toBe('unknown argument "list"')
    expect(usageError(["providers", "detect", "x"])).toBe('unknown argument "x"')
    expect(usageError(["providers", "detect"])).toBe(
      "providers detect needs --base-url URL (the openai API's base URL)"
    )
    expect(usageError(["providers", "detect", "--kind", "mock"])).toBe(
      '--kind: expected one of openai, azure, anthropic, got "mock"'
    )
    expect(usageError(["providers", "detect", "--kind", "azure", "--base-url", "http://u"])).toBe(
      'providers detect --kind azure needs --api-version V (e.g. "2024-10-21")'
    )
    expect(usageError(["providers", "detect", "--base-url", "http://u", "--api-version", "1"])).toBe(
      "--api-version is only for --kind azure"
    )
    for (const probe of ["-1", "51", "2.5", "many"])
      expect(usageError(["providers", "detect", "--base-url", "http://u", "--probe", probe])).toBe(
        `--probe: expected a number of models from 0 to 50, got "${probe}"`
      )
    for (const timeout of ["0", "forever", "3m"])
      expect(usageError(["providers", "detect", "--base-url", "http://u", "--timeout", timeout])).toBe(
        `--timeout: expected a duration from 1ms to 120s such as "10s" or "500ms", got "${timeout}"`
      )
    expect(usageError(["providers", "detect", "--base-url", "http://u", "--models", " , "])).toBe(
      "--models: expected from 1 to 50 model ids, comma-separated"
    )
    expect(usageError(["providers", "detect", "--base-url", "http://u", "--json", "--yaml"])).toBe(
      "--json and --yaml both say how to print: give one"
    )
    // Its options belong to it; --models and --name are also keys create's, --json also usage's.
    expect(usageError(["usage", "--yaml"])).toBe("--yaml is an option of providers detect")
    expect(usageError(["--base-url", "http://u"])).toBe("--base-url is an option of providers detect")
    expect(usageError(["keys", "create", "--project", "p", "--probe", "2"])).toBe(
      "--probe is an option of providers detect"
    )
  })

  it("the flags as a config file's provider entry (the key sent as the kind sends it)", () => {
    expect(
      providerEntry(detectArgs(["--kind", "anthropic", "--api-key", "k", "--name", "claude", "--timeout", "3s"]))
    ).toEqual({ name: "claude", kind: "anthropic", api_key: "k", timeout: { connect: 3_000 } })
  })
})

const caps = (chat: boolean | null, streaming: boolean | null, tools: boolean | null, embeddings: boolean | null) => ({
  chat,
  streaming,
  tools,
  embeddings
})

const DETECTION: Detection = {
  provider: "openai",
  models: [
    { id: "gpt-4o-mini", capabilities: caps(true, true, true, false) },
    { id: "text-embedding-3-small", capabilities: caps(false, false, false, true) },
    { id: "flaky", capabilities: caps(null, null, null, false) },
    { id: "o1", capabilities: null }
  ],
  probed: 3,
  errors: [{ model: "flaky", probe: "chat", message: "answered 500: overloaded" }]
}
const PROVIDER = {
  name: "openai",
  kind: "openai",
  baseUrl: "https://api.openai.com/v1",
  apiVersion: undefined
} as const

describe("detectionTable", () => {
  it("one row per model: yes, no, ? (could not tell), - (not probed); then what could not be told", () => {
    expect(detectionTable(DETECTION, PROVIDER, false)).toBe(
      [
        "openai (kind openai) at https://api.openai.com/v1: 4 models listed, 3 probed",
        "",
        "model                   chat  streaming  tools  embeddings",
        "gpt-4o-mini             yes   yes        yes    no",
        "text-embedding-3-small  no    no         no     yes",
        "flaky                   ?     ?          ?      no",
        "o1                      -     -          -      -",
        "(1 model not probed: --probe N probes more, --models LIST chosen ones)",
        "",
        "could not tell:",
        "  flaky chat: answered 500: overloaded"
      ].join("\n")
    )
  })

  it("no models: the heading and why", () => {
    expect(
      detectionTable(
        {
          provider: "az",
          models: [],
          probed: 0,
          errors: [{ model: null, probe: "models", message: "the models could not be listed" }]
        },
        { kind: "azure", baseUrl: "https://r" },
        false
      )
    ).toBe(
      [
        "az (kind azure) at https://r: 0 models listed, 0 probed",
        "",
        "could not tell:",
        "  models: the models could not be listed"
      ].join("\n")
    )
  })
})

describe("detectionYaml", () => {
  it("a providers: entry with the key as a reference, and a models: entry per usable model", () => {
    const yaml = detectionYaml(DETECTION, PROVIDER, true)
    expect(yaml).toBe(
      [
        "providers:",
        "  - name: openai",
        "    kind: openai",
        "    base_url: https://api.openai.com/v1",
        '    api_key: "${LLMGATE_OPENAI_API_KEY}"',
        "models:",
        "  - name: gpt-4o-mini # chat, streaming, tools",
        "    targets:",
        "      - provider: openai",
        "        model: gpt-4o-mini",
        "  - name: text-embedding-3-small # embeddings",
        "    targets:",
        "      - provider: openai",
        "        model: text-embedding-3-small",
        "  - name: o1 # not probed",
        "    targets:",
        "      - provider: openai",
        "        model: o1",
        "  # flaky: no capability answered yes, left out"
      ].join("\n")
    )
    const loaded = parseConfig(yaml, { LLMGATE_OPENAI_API_KEY: "sk-x" }, "pasted")
    if (Result.isFailure(loaded)) throw new Error(loaded.failure.message)
    expect(loaded.success.modelNames).toEqual(["gpt-4o-mini", "text-embedding-3-small", "o1"])
    expect(loaded.success.providers.get("openai")?.baseUrl).toBe("https://api.openai.com/v1")
  })

  it("azure's api_version; ids that need quoting are quoted; patterns are left out; no key, no api_key", () => {
    const yaml = detectionYaml(
      {
        provider: "az",
        models: [
          { id: "llama3:8b", capabilities: caps(true, false, false, false) },
          { id: "1.5", capabilities: caps(true, false, false, false) },
          { id: "ft:gpt-4o:org::x1", capabilities: caps(true, false, false, false) },
          { id: "gpt-*", capabilities: caps(true, false, false, false) }
        ],
        probed: 4,
        errors: []
      },
      { name: "az", kind: "azure", baseUrl: "https://r.openai.azure.com", apiVersion: "2024-10-21" },
      false
    )
    expect(yaml).not.toContain("api_key")
    expect(yaml).toContain("    api_version: 2024-10-21")
    expect(yaml).toContain("  # gpt-*: not an exact model name, left out")
    const loaded = parseConfig(yaml, {}, "pasted")
    if (Result.isFailure(loaded)) throw new Error(loaded.failure.message)
    expect(loaded.success.modelNames).toEqual(["llama3:8b", "1.5", "ft:gpt-4o:org::x1"])
    expect(loaded.success.providers.get("az")?.apiVersion).toBe("2024-10-21")
  })

  it("nothing usable: an empty models list", () => {
    const yaml = detectionYaml({ provider: "p", models: [], probed: 0, errors: [] }, { ...PROVIDER, name: "p" }, false)
    expect(yaml.split("\n").at(-1)).toBe("models: []")
    expect(Result.isSuccess(parseConfig(yaml, {}, "pasted"))).toBe(true)
  })
})

describe("yamlScalar and keyVariable", () => {
  it("plain when it reads back as the same string, else double-quoted", () => {
    for (const plain of ["gpt-4o", "claude-3-5-haiku@2024", "http://h:1/v1", "llama3:8b", "3.5-turbo"])
      expect(yamlScalar(plain)).toBe(plain)
    for (const quoted of [
      "1.5",
      "10",
      "true",
      "No",
      "null",
      "~",
      "0x1f",
      "1e5",
      "a b",
      "a: b",
      "a:",
      "#x",
      "-x",
      "${X}",
      ""
    ])
      expect(yamlScalar(quoted)).toBe(JSON.stringify(quoted))
  })

  it("the key's variable: LLMGATE_ + the name upper-cased (other characters _) + _API_KEY", () => {
    expect(keyVariable("openai")).toBe("LLMGATE_OPENAI_API_KEY")
    expect(keyVariable("az-east.2")).toBe("LLMGATE_AZ_EAST_2_API_KEY")
    expect(keyVariable("team/@x")).toBe("LLMGATE_TEAM_X_API_KEY")
  })
})
