/**
 * The provider contract. A provider turns one OpenAI-shaped request for one upstream model into a
 * response: buffered JSON (always a JSON object: an upstream answer that is not one is the
 * upstream's protocol failure, never relayed), a byte stream of SSE events, or (relayed endpoints
 * only, domain/Endpoint.ts) a successful answer that is not JSON, such as speech audio, relayed as
 * bytes as they come and never parsed. A stream fails with a GatewayError when
 * the upstream breaks or stays silent past the idle timeout; the dispatcher decides what that means
 * (a retry before content reached the client, a terminal SSE error event after). Providers see a
 * typed request and their own resolved config, never the HTTP server's request.
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { ResolvedProvider } from "../config/Config.ts"
import type { Endpoint } from "../domain/Endpoint.ts"
import type { GatewayError } from "../domain/GatewayError.ts"
import type { StreamEventKind } from "../domain/StreamEventKind.ts"
import type { Upload } from "../domain/Upload.ts"
import type { UpstreamMethod } from "./UpstreamClients.ts"

export interface ProviderRequest {
  readonly endpoint: Endpoint
  /** The client's parsed JSON body; unknown fields included. */
  readonly body: Readonly<Record<string, unknown>>
  /** The client's body bytes, forwarded as they are when nothing needs to change (empty for an upload). */
  readonly rawBody: Uint8Array
  /**
   * A multipart upload's content-type (its boundary), or a file upload's, sent upstream with the body;
   * `body` then holds the `model` field only.
   */
  readonly contentType?: string | undefined
  /**
   * An upload streamed upstream instead of `rawBody` (domain/Upload.ts), opened once per attempt;
   * a multipart upload's `model` value is rewritten in its head.
   */
  readonly upload?: Upload | undefined
  /** Files, batches and stored responses: the method (POST when absent), the path below the endpoint's (`/{id}/content`) and the query (`?after=…`). */
  readonly method?: UpstreamMethod | undefined
  readonly subpath?: string | undefined
  readonly query?: string | undefined
  /** The model id to send upstream (the target's `model`). */
  readonly upstreamModel: string
  readonly stream: boolean
  readonly requestId: string
  /** The attempt's W3C trace context (tracing on), sent upstream as the `traceparent` header. */
  readonly traceparent?: string | undefined
}

export type ProviderBody =
  /** `bytes` are relayed as they are; `json` is the same body parsed once (for usage and the like). */
  | { readonly _tag: "Buffered"; readonly bytes: Uint8Array; readonly json: Readonly<Record<string, unknown>> }
  | { readonly _tag: "Stream"; readonly stream: Stream.Stream<Uint8Array, GatewayError> }
  /** Opaque bytes (audio, an image stream) relayed as they arrive with their content-type; no hold-back, no parsing. */
  | { readonly _tag: "Bytes"; readonly stream: Stream.Stream<Uint8Array, GatewayError> }

export interface ProviderResponse {
  readonly status: number
  /** Headers safe to relay to the client (no hop-by-hop, no framing). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: ProviderBody
}

export interface Provider {
  readonly config: ResolvedProvider
  readonly call: (request: ProviderRequest) => Effect.Effect<ProviderResponse, GatewayError>
  /** Classifies the `data` of one SSE event of this provider's streams. */
  readonly classifyEvent: (data: string) => StreamEventKind
  /** The `data` of the event that ends a complete stream (`[DONE]`); a stream ending without it was cut off. */
  readonly streamTerminator: string
}

/** Upstream path of each endpoint, relative to an OpenAI-compatible base URL. */
export const ENDPOINT_PATH: Readonly<Record<Endpoint, string>> = {
  chat: "/chat/completions",
  completions: "/completions",
  embeddings: "/embeddings",
  images_generations: "/images/generations",
  moderations: "/moderations",
  rerank: "/rerank",
  audio_speech: "/audio/speech",
  audio_transcriptions: "/audio/transcriptions",
  audio_translations: "/audio/translations",
  images_edits: "/images/edits",
  files: "/files",
  batches: "/batches",
  responses: "/responses",
  stored_responses: "/responses"
}
