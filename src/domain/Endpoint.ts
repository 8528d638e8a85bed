/**
 * Endpoint: the OpenAI-compatible API endpoints the gateway proxies. The HTTP handlers pick one per
 * route, the body guards (api/Guards.ts) check each typed one's body, and providers map it to their
 * upstream path.
 *
 * The typed endpoints (chat, completions, embeddings) have a request schema and an answer the gateway
 * reads (usage, SSE events). The relayed ones (images, moderations, rerank, speech, Responses passed
 * through to an OpenAI provider, and the multipart uploads: transcriptions, translations, image
 * edits) are checked only for their `model` (files, batches and stored responses, which have none,
 * go where a route sends them) and passed through: their answer is relayed as it comes, JSON or
 * bytes (audio, an event stream), and read only for a reported usage.
 */

export type TypedEndpoint = "chat" | "completions" | "embeddings"

export type RelayedEndpoint =
  | "images_generations"
  | "moderations"
  | "rerank"
  | "audio_speech"
  /** `POST /v1/responses` passed through to the provider's own Responses API (http/Responses.ts). */
  | "responses"
  | MultipartEndpoint
  | RoutedEndpoint

/**
 * The relayed endpoints with no `model` (files, batches, stored responses: any method, any path
 * below theirs), served by the model a `routes` entry pins for their path; their body goes as it is.
 * `stored_responses` is a response by id (`/v1/responses/{id}`, its cancel and input items).
 */
export type RoutedEndpoint = "files" | "batches" | "stored_responses"

export const isRoutedEndpoint = (endpoint: Endpoint): endpoint is RoutedEndpoint =>
  endpoint === "files" || endpoint === "batches" || endpoint === "stored_responses"

/** The relayed endpoints whose request is a `multipart/form-data` upload with a `model` field. */
export type MultipartEndpoint = "audio_transcriptions" | "audio_translations" | "images_edits"

export const isMultipartEndpoint = (endpoint: Endpoint): endpoint is MultipartEndpoint =>
  endpoint === "audio_transcriptions" || endpoint === "audio_translations" || endpoint === "images_edits"

export type Endpoint = TypedEndpoint | RelayedEndpoint

/**
 * The API a client called, as its usage record, the metrics, its log line and its span name it:
 * the endpoint that served it, or the API translated over one. `messages` is Anthropic's Messages
 * API served over `chat` (http/Messages.ts); a translated `POST /v1/responses` is `responses`, as
 * one passed through is (http/Responses.ts). Routing and providers see the endpoint, never this.
 */
export type ClientApi = Endpoint | "messages"

export const isTypedEndpoint = (endpoint: Endpoint): endpoint is TypedEndpoint =>
  endpoint === "chat" || endpoint === "completions" || endpoint === "embeddings"

/** Whether answers on `endpoint` generate tokens beyond the prompt (chat and completions do). */
export const generates = (endpoint: Endpoint): boolean => endpoint === "chat" || endpoint === "completions"

/** The body field holding an endpoint's input text (chat: `messages`). */
export const inputField = (endpoint: Endpoint): string =>
  endpoint === "chat"
    ? "messages"
    : endpoint === "completions" || endpoint === "images_generations"
      ? "prompt"
      : endpoint === "rerank"
        ? "query"
        : "input"
