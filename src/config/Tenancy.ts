/**
 * Tenancy in the config: projects, users and virtual keys. Cross-reference checks (duplicate ids
 * and names, unknown projects and users, a key's user outside the key's project, shared hashes)
 * read the value tolerantly so they are reported alongside schema problems; `resolveTenancy`
 * compiles the decoded sections into the maps the request path reads (keys by hash, each with its
 * allowed-model matcher).
 */
import * as Result from "effect/Result"
import type {
  ConfigFile,
  ResolvedBudget,
  ResolvedKey,
  ResolvedLimits,
  ResolvedProject,
  ResolvedTenancy,
  ResolvedUser
} from "./Config.ts"
import type { ConfigIssue } from "./ConfigError.ts"
import { compilePattern } from "./ModelPattern.ts"
import { timestampMillis } from "../domain/units.ts"
import { entries, field } from "./RawValue.ts"

const str = (value: unknown, key: string): string | undefined => {
  const v = field(value, key)
  return typeof v === "string" ? v : undefined
}

/** Duplicate ids and names, dangling references and shared hashes among projects, users and keys. */
export const tenancyReferenceIssues = (value: unknown): ReadonlyArray<ConfigIssue> => {
  const issues: Array<ConfigIssue> = []
  const projectIds = new Set<string>()
  const projectNames = new Set<string>()
  entries(value, "projects").forEach((p, i) => {
    const id = str(p, "id")
    const name = str(p, "name")
    if (id !== undefined) {
      if (projectIds.has(id)) issues.push({ path: `projects[${i}].id`, message: `duplicate project id "${id}"` })
      projectIds.add(id)
    }
    if (name !== undefined) {
      if (projectNames.has(name))
        issues.push({ path: `projects[${i}].name`, message: `duplicate project name "${name}"` })
      projectNames.add(name)
    }
  })

  const userProjects = new Map<string, ReadonlySet<string>>()
  const emails = new Set<string>()
  entries(value, "users").forEach((u, i) => {
    const id = str(u, "id")
    const email = str(u, "email")
    const member = new Set<string>()
    entries(u, "projects").forEach((p, j) => {
      if (typeof p !== "string") return
      if (!projectIds.has(p)) issues.push({ path: `users[${i}].projects[${j}]`, message: `unknown project "${p}"` })
      else if (member.has(p))
        issues.push({ path: `users[${i}].projects[${j}]`, message: `project "${p}" is listed twice` })
      member.add(p)
    })
    if (id !== undefined) {
      if (userProjects.has(id)) issues.push({ path: `users[${i}].id`, message: `duplicate user id "${id}"` })
      else userProjects.set(id, member)
    }
    if (email !== undefined) {
      const folded = email.toLowerCase()
      if (emails.has(folded)) issues.push({ path: `users[${i}].email`, message: `duplicate user email "${email}"` })
      emails.add(folded)
    }
  })

  const keyIds = new Set<string>()
  const keyNames = new Set<string>()
  const hashes = new Map<string, string>()
  const claimHash = (hash: string | undefined, at: string) => {
    if (hash === undefined) return
    const owner = hashes.get(hash)
    if (owner !== undefined) issues.push({ path: at, message: `the same hash as ${owner} (every key needs its own)` })
    else hashes.set(hash, at)
  }
  entries(value, "keys").forEach((k, i) => {
    const at = `keys[${i}]`
    const id = str(k, "id")
    const name = str(k, "name")
    const projectId = str(k, "project_id")
    const userId = str(k, "user_id")
    if (id !== undefined) {
      if (keyIds.has(id)) issues.push({ path: `${at}.id`, message: `duplicate key id "${id}"` })
      keyIds.add(id)
    }
    if (projectId !== undefined && !projectIds.has(projectId)) {
      issues.push({ path: `${at}.project_id`, message: `unknown project "${projectId}"` })
    }
    if (name !== undefined && projectId !== undefined) {
      const scoped = `${projectId}\u0000${name}`
      if (keyNames.has(scoped))
        issues.push({ path: `${at}.name`, message: `duplicate key name "${name}" in project "${projectId}"` })
      keyNames.add(scoped)
    }
    if (userId !== undefined) {
      const member = userProjects.get(userId)
      if (member === undefined) issues.push({ path: `${at}.user_id`, message: `unknown user "${userId}"` })
      else if (projectId !== undefined && projectIds.has(projectId) && !member.has(projectId)) {
        issues.push({ path: `${at}.user_id`, message: `user "${userId}" is not a member of project "${projectId}"` })
      }
    }
    const hash = str(k, "hash")
    const previous = str(k, "previous_hash")
    claimHash(hash, `${at}.hash`)
    if (previous !== undefined && previous === hash) {
      issues.push({ path: `${at}.previous_hash`, message: "the same as the key's hash (a rotation needs a new key)" })
    } else {
      claimHash(previous, `${at}.previous_hash`)
    }
    const previousExpires = field(k, "previous_expires_at")
    if (previous !== undefined && previousExpires === undefined) {
      issues.push({
        path: `${at}.previous_expires_at`,
        message: "required with previous_hash: when the old key stops working"
      })
    } else if (previous === undefined && previousExpires !== undefined) {
      issues.push({ path: `${at}.previous_expires_at`, message: "only allowed with previous_hash" })
    }
  })
  return issues
}

/**
 * A matcher for a key's allowed models: undefined allows every model, `[]` none; exact names are
 * one Set lookup, globs and `/regex/` names (linear-time matchers, config/ModelPattern.ts) are tried
 * in order. An entry that does not compile is reported to `invalid` (with its index) and matches nothing.
 */
export const compileModelMatcher = (
  models: ReadonlyArray<string> | undefined,
  invalid: (index: number, message: string) => void = () => undefined
): ((model: string) => boolean) => {
  if (models === undefined) return () => true
  const exact = new Set<string>()
  const patterns: Array<(model: string) => boolean> = []
  models.forEach((m, j) => {
    const pattern = compilePattern(m)
    if (Result.isFailure(pattern)) invalid(j, pattern.failure)
    else if (pattern.success._tag === "Exact") exact.add(m)
    else patterns.push(pattern.success.matches)
  })
  if (patterns.length === 0) return (model) => exact.has(model)
  return (model) => {
    if (exact.has(model)) return true
    for (let i = 0; i < patterns.length; i++) if (patterns[i]!(model)) return true
    return false
  }
}

const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({})

type LimitsInput = NonNullable<NonNullable<ConfigFile["projects"]>[number]["limits"]>

/**
 * Resolved limits of `own` over `fallback`, field by field (a key's own value wins over its
 * project's); `burst` defaults to ceil(requests_per_second) and needs one (reported at `at`).
 */
export const mergeLimits = (
  own: LimitsInput | undefined,
  fallback: LimitsInput | undefined,
  at: string,
  issues: Array<ConfigIssue>
): ResolvedLimits => {
  const requestsPerSecond = own?.requests_per_second ?? fallback?.requests_per_second
  const burst = own?.burst ?? fallback?.burst
  if (burst !== undefined && requestsPerSecond === undefined) {
    issues.push({ path: `${at}.burst`, message: "only meaningful with requests_per_second (the bucket's refill rate)" })
  }
  return {
    requestsPerMinute: own?.requests_per_minute ?? fallback?.requests_per_minute,
    tokensPerMinute: own?.tokens_per_minute ?? fallback?.tokens_per_minute,
    requestsPerSecond,
    burst: requestsPerSecond === undefined ? undefined : (burst ?? Math.ceil(requestsPerSecond)),
    maxParallel: own?.max_parallel ?? fallback?.max_parallel
  }
}

type BudgetInput = NonNullable<NonNullable<ConfigFile["keys"]>[number]["budget"]>

/** A budget as configured, resolved (also how the admin API reads one back from an answer, admin/BudgetSpend.ts). */
export const resolveBudget = (b: BudgetInput | undefined): ResolvedBudget | undefined =>
  b === undefined ? undefined : { amountUsd: b.amount_usd, period: b.period }

/** Compiles the decoded tenancy sections. Reference problems are `tenancyReferenceIssues`' job. */
export const resolveTenancy = (file: ConfigFile, issues: Array<ConfigIssue>): ResolvedTenancy => {
  const projects = new Map<string, ResolvedProject>()
  const projectLimitSections = new Map<string, LimitsInput | undefined>()
  ;(file.projects ?? []).forEach((p, i) => {
    const limits =
      p.limits === undefined ? undefined : mergeLimits(p.limits, undefined, `projects[${i}].limits`, issues)
    projects.set(p.id, {
      id: p.id,
      name: p.name,
      limits,
      budget: resolveBudget(p.budget),
      metadata: p.metadata ?? NO_METADATA,
      createdAt: p.created_at
    })
    projectLimitSections.set(p.id, p.limits)
  })
  const users = new Map<string, ResolvedUser>()
  for (const u of file.users ?? []) {
    if (users.has(u.id)) continue
    users.set(u.id, {
      id: u.id,
      name: u.name,
      email: u.email,
      role: u.role,
      projects: u.projects,
      metadata: u.metadata ?? NO_METADATA,
      createdAt: u.created_at
    })
  }
  const keys = new Map<string, ResolvedKey>()
  const keysByHash = new Map<string, ResolvedKey>()
  ;(file.keys ?? []).forEach((k, i) => {
    const allows = compileModelMatcher(k.models, (j, message) =>
      issues.push({ path: `keys[${i}].models[${j}]`, message })
    )
    const projectLimits = projectLimitSections.get(k.project_id)
    const expiresAtMs =
      k.expires_at === undefined || k.expires_at === null ? Infinity : (timestampMillis(k.expires_at) ?? 0)
    const previousExpiresAtMs =
      k.previous_hash === undefined || k.previous_expires_at === undefined
        ? undefined
        : Math.min(expiresAtMs, timestampMillis(k.previous_expires_at) ?? 0)
    const key: ResolvedKey = {
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      hash: k.hash,
      projectId: k.project_id,
      userId: k.user_id,
      role: k.user_id === undefined ? undefined : users.get(k.user_id)?.role,
      models: k.models,
      allows,
      enabled: k.enabled ?? true,
      expiresAt: k.expires_at ?? null,
      expiresAtMs,
      // A project's burst without its rate was reported with the project.
      limits: mergeLimits(
        k.limits,
        projectLimits,
        `keys[${i}].limits`,
        projectLimits?.burst !== undefined && projectLimits.requests_per_second === undefined ? [] : issues
      ),
      budget: resolveBudget(k.budget),
      metadata: k.metadata ?? NO_METADATA,
      createdAt: k.created_at,
      previousHash: previousExpiresAtMs === undefined ? undefined : k.previous_hash,
      previousExpiresAtMs
    }
    keys.set(k.id, key)
    keysByHash.set(k.hash, key)
    if (key.previousHash !== undefined) keysByHash.set(key.previousHash, key)
  })
  return { projects, users, keys, keysByHash }
}

/** The tenancy of a config without projects, users or keys. */
export const EMPTY_TENANCY: ResolvedTenancy = {
  projects: new Map(),
  users: new Map(),
  keys: new Map(),
  keysByHash: new Map()
}
