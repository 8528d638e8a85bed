/**
 * What a provider kind says about its own entry in `providers:`. Each kind's rules live in its
 * folder (`providers/<kind>/Kind.ts`) and are gathered in `providers/Kinds.ts`; config loading
 * (config/loadConfig.ts) applies them without naming any kind, so a new kind is a new folder.
 *
 * These modules sit below `config` in the layers (.dependency-cruiser.cjs): they import only
 * Effect's Schema and `domain/`, never the config that reads them nor the adapters beside them.
 */

/** A problem with a provider entry: `path` names the field (`providers[2].api_version`). */
export interface KindIssue {
  readonly path: string
  readonly message: string
}

/** `base_url`: required, defaulted, or not used (a kind that connects nowhere). */
export type BaseUrlRule =
  | { readonly _tag: "Required" }
  | { readonly _tag: "Default"; readonly url: string }
  | { readonly _tag: "Unused" }

/**
 * The rules of one kind. `Entry` is the part of a provider entry the kind reads (its own fields),
 * `Settings` what it resolves them to (fields of the resolved provider, config/Config.ts).
 */
export interface KindRules<Entry, Settings> {
  readonly kind: string
  readonly baseUrl: BaseUrlRule
  /** Whether it connects to an upstream: a kind that does not may not write `proxy`, `tls`, `user_agent` or `keep_alive`. */
  readonly connects: boolean
  /** The header carrying `api_key` (`api-key`, `x-api-key`); undefined: `Authorization: Bearer`. */
  readonly apiKeyHeader: string | undefined
  /** `gen_ai.provider.name` (the OpenTelemetry GenAI convention's well-known value where there is one). */
  readonly genAiName: string
  /** Whether `POST /v1/responses` is passed through to its own Responses API (else translated over chat). */
  readonly nativeResponses: boolean
  /** The names of its own fields: no other kind may write them. */
  readonly fields: ReadonlyArray<string>
  /** Checks the schema cannot express (a field the kind requires), each naming its field under `at`. */
  readonly check: (entry: Entry, at: string) => ReadonlyArray<KindIssue>
  readonly resolve: (entry: Entry) => Settings
  /** The settings as the effective config shows them (`GET /admin/v1/config/effective`), in config names. */
  readonly shown: (settings: Partial<Settings>) => Readonly<Record<string, unknown>>
}

/** The rules of a kind with no fields of its own. */
export const plainKind = (
  kind: string,
  options: Pick<KindRules<object, object>, "baseUrl" | "apiKeyHeader" | "genAiName" | "nativeResponses">
): KindRules<object, object> => ({
  kind,
  connects: true,
  fields: [],
  check: () => [],
  resolve: () => ({}),
  shown: () => ({}),
  ...options
})
