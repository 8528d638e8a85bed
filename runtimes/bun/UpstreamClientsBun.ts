/**
 * Bun's upstream clients: the shared fetch for providers with default connections, and a
 * `Bun.FetchSession` per distinct connection otherwise (its own keep-alive pool): the proxy given
 * explicitly (`false` for direct, so Bun's own reading of the proxy variables never applies; NO_PROXY
 * not consulted again: the core already did), TLS with the CA bundle added to Bun's default roots
 * (`tls.ca` alone would replace them), `rejectUnauthorized: false` when `verify` is off, and
 * `keepAlive: false` for a connection per request. Closing a session lets its idle connections go;
 * requests in flight finish.
 */
import { readFileSync } from "node:fs"
import process from "node:process"
import { getCACertificates, rootCertificates } from "node:tls"
import { fetchClient, type OpenedClient, UpstreamClients, type UpstreamConnection } from "../../src/index.ts"

const defaultRoots = (): ReadonlyArray<string> =>
  typeof getCACertificates === "function" ? getCACertificates("default") : rootCertificates

/** A session for `connection` (throws when its CA bundle cannot be read). */
export const openSession = (connection: UpstreamConnection): OpenedClient => {
  const session = new Bun.FetchSession({
    proxy: connection.proxy === undefined ? false : { url: connection.proxy, respectNoProxy: false },
    tls: {
      rejectUnauthorized: connection.verify,
      ...(connection.caFile === undefined ? {} : { ca: [...defaultRoots(), readFileSync(connection.caFile, "utf8")] })
    },
    keepAlive: connection.keepAlive
  })
  return { client: fetchClient(session.fetch), close: () => session.close() }
}

export const layer = UpstreamClients.layerFetch({ env: { ...process.env }, open: openSession })
