/**
 * The standard proxy variables, read for a provider that configures no `proxy`, with the same
 * meaning on every runtime (each runtime's own reading of them differs, so the upstream clients
 * apply this one and switch theirs off):
 *
 * - An `https:` URL goes through `https_proxy` (else `HTTPS_PROXY`), an `http:` URL through
 *   `http_proxy` (else `HTTP_PROXY`); the lower-case form wins, an empty value is unset, and
 *   there is no fallback from one scheme's variable to the other's (as curl and Go read them).
 *   A value without a scheme (`proxy.corp:3128`) is an `http://` proxy.
 * - Unless `no_proxy` (else `NO_PROXY`) names the URL's host: a list separated by commas or
 *   spaces whose entries are `*` (every host); a domain (`example.com`, `.example.com` or
 *   `*.example.com`: the domain and every name below it); an IP address or CIDR range
 *   (`10.0.0.0/8`, `::1`), matched against hosts written as addresses; each optionally with a
 *   `:port` (`[::1]:8080` for IPv6), which then must be the URL's port (80/443 when implicit).
 *
 * `ALL_PROXY` is not read. Pure: the caller passes the environment.
 */
import { type Cidr, inCidr, parseCidr, parseIp } from "./Cidr.ts"
import type { Env } from "./interpolate.ts"

/** The variables some runtime's own client takes a proxy from (Bun's and Deno's fetch also read ALL_PROXY). */
const PROXY_VARIABLES: ReadonlyArray<string> = [
  "https_proxy",
  "HTTPS_PROXY",
  "http_proxy",
  "HTTP_PROXY",
  "all_proxy",
  "ALL_PROXY"
]

/** What the proxy variables choose for one URL. */
export type EnvironmentProxy =
  | { readonly _tag: "Direct" }
  | { readonly _tag: "Proxy"; readonly url: string; readonly variable: string }
  /** The variable holds no http(s) proxy URL: the connection goes direct (the caller says so once). */
  | { readonly _tag: "Invalid"; readonly variable: string }

const DIRECT: EnvironmentProxy = { _tag: "Direct" }

/** The first of `names` set to a non-empty value. */
const variable = (
  env: Env,
  names: ReadonlyArray<string>
): { readonly name: string; readonly value: string } | undefined => {
  for (const name of names) {
    const value = env[name]?.trim()
    if (value !== undefined && value !== "") return { name, value }
  }
  return undefined
}

/** Whether the environment names a proxy (any scheme's variable, or ALL_PROXY, set to a non-empty value). */
export const namesProxy = (env: Env): boolean => variable(env, PROXY_VARIABLES) !== undefined

/** Whether the environment sets NO_PROXY (either case, non-empty). */
export const setsNoProxy = (env: Env): boolean => variable(env, ["no_proxy", "NO_PROXY"]) !== undefined

/** A proxy variable's value as a proxy URL (`host:port` → `http://host:port`), or undefined when it is none. */
export const proxyUrl = (value: string): string | undefined => {
  const text = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? value : `http://${value}`
  try {
    const u = new URL(text)
    if ((u.protocol !== "http:" && u.protocol !== "https:") || u.hostname === "") return undefined
    return text
  } catch {
    return undefined
  }
}

/** The proxy the variables choose for `url` (an absolute http(s) URL). */
export const environmentProxy = (url: string, env: Env): EnvironmentProxy => {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return DIRECT
  }
  const chosen =
    target.protocol === "https:"
      ? variable(env, ["https_proxy", "HTTPS_PROXY"])
      : target.protocol === "http:"
        ? variable(env, ["http_proxy", "HTTP_PROXY"])
        : undefined
  if (chosen === undefined) return DIRECT
  const noProxy = variable(env, ["no_proxy", "NO_PROXY"])
  if (noProxy !== undefined && noProxyMatches(target, noProxy.value)) return DIRECT
  const proxy = proxyUrl(chosen.value)
  return proxy === undefined
    ? { _tag: "Invalid", variable: chosen.name }
    : { _tag: "Proxy", url: proxy, variable: chosen.name }
}

/** One NO_PROXY entry, parsed. */
type Entry =
  | { readonly _tag: "All" }
  | { readonly _tag: "Domain"; readonly domain: string; readonly port: string | undefined }
  | { readonly _tag: "Address"; readonly cidr: Cidr; readonly port: string | undefined }

/** `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address or a CIDR range → host part and port. */
const splitPort = (entry: string): { readonly host: string; readonly port: string | undefined } => {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracket !== null) return { host: bracket[1]!, port: bracket[2] }
  const colon = entry.lastIndexOf(":")
  // More than one colon and no brackets: an IPv6 address (or range) without a port.
  if (colon === -1 || entry.indexOf(":") !== colon || !/^\d+$/.test(entry.slice(colon + 1)))
    return { host: entry, port: undefined }
  return { host: entry.slice(0, colon), port: entry.slice(colon + 1) }
}

const parseEntry = (raw: string): Entry | undefined => {
  if (raw === "*") return { _tag: "All" }
  const { host, port } = splitPort(raw)
  if (parseIp(host.split("/")[0] ?? "") !== undefined) {
    const cidr = parseCidr(host)
    return typeof cidr === "string" ? undefined : { _tag: "Address", cidr, port }
  }
  const domain = host.replace(/^\*?\.+/, "").toLowerCase()
  return domain === "" ? undefined : { _tag: "Domain", domain, port }
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" }

/** Whether the NO_PROXY list `noProxy` names `target`'s host (and port, where an entry gives one). */
export const noProxyMatches = (target: URL, noProxy: string): boolean => {
  const hostname = target.hostname.toLowerCase()
  const host = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname
  const ip = parseIp(host)
  const port = target.port === "" ? DEFAULT_PORTS[target.protocol] : target.port
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === "") continue
    const entry = parseEntry(raw)
    if (entry === undefined) continue
    if (entry._tag === "All") return true
    if (entry.port !== undefined && entry.port !== port) continue
    if (entry._tag === "Address") {
      if (ip !== undefined && inCidr(entry.cidr, ip)) return true
    } else if (host === entry.domain || host.endsWith(`.${entry.domain}`)) return true
  }
  return false
}
