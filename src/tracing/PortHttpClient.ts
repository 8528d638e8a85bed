/**
 * An `effect/http` client over the gateway's upstream port (providers/UpstreamClients.ts), for the
 * span exports: a batch goes out the way a provider call does (undici's pool on Node, the
 * runtime's fetch on Bun and Deno), not through the global `fetch`, which on Node copies every
 * batch twice and builds a WHATWG `Request` for it. One pooled client per destination origin,
 * looked up at each export: a reload that prunes the providers' clients (`retain`) only makes the
 * next export pool a new one. Only byte bodies are sent (what the OTLP serializers make); the
 * answer's body is read whole, at most `ANSWER_LIMIT` bytes (a collector's answer is small).
 */
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import type { UpstreamClientsShape } from "../providers/UpstreamClients.ts"

/** The most of an export's answer read (more fails the export). */
export const ANSWER_LIMIT = 1024 * 1024
/** How long an export may take to connect. */
export const CONNECT_TIMEOUT_MS = 10_000

/** Statuses whose answer has no body (a `Response` refuses one). */
const NO_BODY: ReadonlySet<number> = new Set([101, 204, 205, 304])

export const portHttpClient = (clients: UpstreamClientsShape): HttpClient.HttpClient =>
  HttpClient.make((request, url) => {
    const failed = (description: string, cause?: unknown) =>
      new HttpClientError.HttpClientError({
        reason: new HttpClientError.TransportError({ request, cause, description })
      })
    const body = request.body
    if (body._tag !== "Uint8Array" && body._tag !== "Empty")
      return Effect.fail(failed(`a ${body._tag} body cannot be exported`))
    const headers: Record<string, string> = { ...request.headers }
    if (body._tag === "Uint8Array") headers["content-type"] = body.contentType
    return Effect.flatMap(
      clients.get({ provider: `export ${url.origin}`, connectTimeoutMs: CONNECT_TIMEOUT_MS }),
      (client) =>
        client
          .post({
            method: request.method === "GET" || request.method === "DELETE" ? request.method : "POST",
            url: url.toString(),
            headers,
            body: body._tag === "Uint8Array" ? body.body : new Uint8Array(0)
          })
          .pipe(
            Effect.flatMap((response) =>
              Effect.map(response.bytes(ANSWER_LIMIT), (bytes) =>
                HttpClientResponse.fromWeb(
                  request,
                  new Response(NO_BODY.has(response.status) ? null : (bytes as Uint8Array<ArrayBuffer>), {
                    status: response.status,
                    headers: response.headers
                  })
                )
              )
            ),
            Effect.mapError((e) =>
              failed(e._tag === "UpstreamBodyTooLarge" ? `the answer is larger than ${e.limit} bytes` : e.message, e)
            )
          )
    )
  })
