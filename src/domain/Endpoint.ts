/**
 * Endpoint: the OpenAI-compatible API endpoints the gateway proxies. The HTTP handlers pick one per
 * route, the body guards (api/Guards.ts) check each one's body, and providers map it to their
 * upstream path.
 */

export type Endpoint = "chat" | "completions" | "embeddings"
