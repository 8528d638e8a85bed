// The few Deno APIs the Deno entries use, declared here so `tsc` checks the entry without Deno's
// full type bundle (which conflicts with Node's and Bun's globals). Deno itself checks the real ones.
declare namespace Deno {
  const args: ReadonlyArray<string>
  const version: { readonly deno: string }
  const build: { readonly os: string }
  const env: { toObject(): Record<string, string> }
  function addSignalListener(signal: "SIGTERM" | "SIGINT" | "SIGHUP", handler: () => void): void
  function execPath(): string
  function exit(code?: number): never
  interface HttpServer {
    readonly addr: { readonly hostname: string; readonly port: number }
    readonly finished: Promise<void>
    shutdown(): Promise<void>
  }
  function serve(
    options: {
      readonly hostname?: string
      readonly port?: number
      readonly reusePort?: boolean
      readonly onListen?: (addr: { readonly hostname: string; readonly port: number }) => void
      readonly onError?: (error: unknown) => Response | Promise<Response>
    },
    handler: (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>
  ): HttpServer
  interface ServeHandlerInfo {
    readonly remoteAddr: { readonly hostname: string; readonly port: number }
  }
  /** A fetch client with its own connection pool (proxy, extra CA certificates), given as `client` to fetch. */
  interface HttpClient {
    close(): void
  }
  function createHttpClient(options: {
    readonly caCerts?: ReadonlyArray<string>
    readonly proxy?: {
      readonly url: string
      readonly basicAuth?: { readonly username: string; readonly password: string }
    }
    readonly poolMaxIdlePerHost?: number
  }): HttpClient
}
