/**
 * A TCP proxy (node:net) for fault injection: put it between the gateway and a server the test
 * cannot restart (the machine's Postgres) and make that server "go away" on demand.
 *
 * - `drop()` resets every open connection, both sides: the client side with a TCP RST, the server
 *   side destroyed, so the server ends the session (Postgres rolls back what was open) as when it
 *   restarts or the network fails;
 * - `refuse()` closes the listening socket: new connections are refused (ECONNREFUSED) until
 *   `accept()` listens again on the same port;
 * - `outage(ms)` is both, then accepting again after `ms`.
 * Bytes are piped unchanged; each side's end or error ends the other.
 */
import { createServer, connect, type Server, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  /** Connections open now. */
  readonly open: number
  /** Connections accepted since the start. */
  readonly accepted: number
  /** Whether new connections are accepted. */
  readonly accepting: boolean
  /** Resets every open connection (client side with RST, server side destroyed). */
  drop(): void
  /** Stops listening: new connections are refused until `accept()`. */
  refuse(): Promise<void>
  /** Listens again on the same port. */
  accept(): Promise<void>
  /** `drop()` and `refuse()` now, `accept()` after `ms`; resolves once accepting again. */
  outage(ms: number): Promise<void>
  close(): Promise<void>
}

export interface TcpProxyOptions {
  readonly targetHost: string
  readonly targetPort: number
  /** Listen on this port (default: any free port). */
  readonly port?: number
}

interface Pair {
  readonly client: Socket
  readonly server: Socket
}

const listen = (server: Server, port: number): Promise<number> =>
  new Promise((ok, ko) => {
    const onError = (e: Error) => ko(e)
    server.once("error", onError)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError)
      const address = server.address()
      ok(typeof address === "object" && address !== null ? address.port : port)
    })
  })

/** Closes the listening socket now (its "close" event waits for the open connections; this does not). */
const stopListening = (server: Server): void => {
  if (server.listening) server.close()
}

export const startTcpProxy = async (options: TcpProxyOptions): Promise<TcpProxy> => {
  const pairs = new Set<Pair>()
  let accepted = 0
  const onConnection = (client: Socket) => {
    accepted++
    const server = connect(options.targetPort, options.targetHost)
    const pair: Pair = { client, server }
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      server.destroy()
    }
    client.on("error", end)
    server.on("error", end)
    client.on("close", end)
    server.on("close", end)
    client.pipe(server)
    server.pipe(client)
  }
  // A fresh server for each listening period: a closed net.Server cannot be reused reliably.
  let listener = createServer(onConnection)
  const port = await listen(listener, options.port ?? 0)

  const drop = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair)
      if (!pair.client.destroyed) pair.client.resetAndDestroy()
      pair.server.destroy()
    }
  }
  const refuse = async () => stopListening(listener)
  const accept = async () => {
    if (listener.listening) return
    listener = createServer(onConnection)
    await listen(listener, port)
  }
  return {
    port,
    get open() {
      return pairs.size
    },
    get accepted() {
      return accepted
    },
    get accepting() {
      return listener.listening
    },
    drop,
    refuse,
    accept,
    outage: async (ms) => {
      await refuse()
      drop()
      await new Promise((r) => setTimeout(r, ms))
      await accept()
    },
    close: async () => {
      await refuse()
      drop()
    }
  }
}

/** `url` with its host and port replaced by the proxy's (user, password, database and parameters kept). */
export const throughProxy = (url: string, proxy: Pick<TcpProxy, "port">): string => {
  const u = new URL(url)
  u.hostname = "127.0.0.1"
  u.port = String(proxy.port)
  return u.toString()
}
