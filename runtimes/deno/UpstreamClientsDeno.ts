/**
 * Deno's upstream clients: the shared fetch for providers with default connections, and per
 * distinct connection otherwise either
 * - a `Deno.createHttpClient` (its own pool) with the proxy (credentials as `basicAuth`), the CA
 *   bundle (`caCerts` are added to Deno's roots) and, for a connection per request, no idle
 *   connections kept (`poolMaxIdlePerHost: 0`); or
 * - undici (runtimes/common/UndiciUpstream.ts, loaded on first use, bodies decoded as fetch
 *   decodes them) for what Deno's fetch cannot do: accept any certificate (`tls.verify: false`;
 *   Deno has only the process-wide `--unsafely-ignore-certificate-errors`), a direct connection
 *   while a variable names a proxy, and a proxied one while NO_PROXY is set: Deno's fetch applies
 *   HTTP(S)_PROXY, ALL_PROXY and NO_PROXY itself, to every client, explicit proxies included, and
 *   cannot be told not to.
 *   Deno's node:tls reads the default roots only with `--allow-sys=ca`, which llmgate's flags do
 *   not grant: there a `tls.ca_file` is then the only trusted bundle (said once at start).
 */
/// <reference path="./deno.d.ts" />
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { getCACertificates } from "node:tls"
import {
  fetchClient,
  type FetchFunction,
  type OpenedClient,
  UpstreamClients,
  type UpstreamConnection,
  UpstreamFailure
} from "../../src/index.ts"

/** A proxy URL as Deno takes it: credentials apart. */
const proxyOption = (proxy: string): { url: string; basicAuth?: { username: string; password: string } } => {
  const u = new URL(proxy)
  if (u.username === "" && u.password === "") return { url: proxy }
  const basicAuth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
  u.username = ""
  u.password = ""
  return { url: u.href, basicAuth }
}

/** A Deno HttpClient for `connection` (throws when its CA bundle cannot be read). */
const denoClient = (connection: UpstreamConnection): OpenedClient => {
  const client = Deno.createHttpClient({
    ...(connection.proxy === undefined ? {} : { proxy: proxyOption(connection.proxy) }),
    ...(connection.caFile === undefined ? {} : { caCerts: [readFileSync(connection.caFile, "utf8")] }),
    ...(connection.keepAlive ? {} : { poolMaxIdlePerHost: 0 })
  })
  const fetchWith: FetchFunction = (url, init) => {
    const withClient: RequestInit & { readonly client: Deno.HttpClient } = { ...init, client }
    return fetch(url, withClient)
  }
  return { client: fetchClient(fetchWith), close: () => client.close() }
}

const failed = (what: string) => (cause: unknown) =>
  new UpstreamFailure({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })
const sendFailed = failed("request failed")

/** Whether node:tls may read the default roots (Deno asks for `--allow-sys=ca`). */
const rootsReadable = (): boolean => {
  try {
    getCACertificates("default")
    return true
  } catch {
    return false
  }
}

const ROOTS_UNREADABLE =
  "deno cannot read its default root certificates without --allow-sys=ca, so where its connections go " +
  "through undici (proxy variables set, tls.verify false) tls.ca_file is the only trusted bundle, not one added to the roots"

/** An undici client for `connection`, its module loaded and its dispatcher made on first use. */
const undiciClient = (connection: UpstreamConnection): OpenedClient => {
  // A CA bundle that cannot be read is said now, when the client is made (the core logs it).
  if (connection.caFile !== undefined) readFileSync(connection.caFile)
  const made = import("../common/UndiciUpstream.ts").then((undici) => ({
    undici,
    dispatcher: undici.dispatcherFor(connection, true),
    targetOf: undici.targets()
  }))
  // A failure to make it (no CA bundle) is each request's to report.
  made.catch(() => {})
  return {
    ...(connection.caFile === undefined || rootsReadable() ? {} : { warning: ROOTS_UNREADABLE }),
    client: {
      post: (request) =>
        Effect.flatMap(Effect.tryPromise({ try: () => made, catch: sendFailed }), ({ undici, dispatcher, targetOf }) =>
          undici.exchange(dispatcher, targetOf(request.url), request)
        )
    },
    close: () => {
      made.then(({ dispatcher }) => dispatcher.close()).catch(() => {})
    }
  }
}

/**
 * Where Deno's fetch would not do as asked: any certificate accepted; direct while a variable names
 * a proxy (Deno would use it); a proxy while NO_PROXY is set (Deno would bypass it for the hosts it
 * names, by its own reading of the list).
 */
const needsUndici = (c: UpstreamConnection): boolean =>
  !c.verify || (c.proxy === undefined ? c.environmentProxies : c.environmentNoProxy)

export const openClient = (connection: UpstreamConnection): OpenedClient =>
  needsUndici(connection) ? undiciClient(connection) : denoClient(connection)

export const layer = UpstreamClients.layerFetch({ env: Deno.env.toObject(), open: openClient })
