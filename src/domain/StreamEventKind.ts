/**
 * StreamEventKind: what one SSE event's data means for stream hold-back (streaming/HoldBack.ts).
 * Each provider classifies its own streams' events (Provider.classifyEvent).
 */

export type StreamEventKind =
  /** Nothing a client needs yet (role-only first chunk, empty deltas, keep-alives). */
  | "preamble"
  /** Real output (text, tool calls, a finish reason, usage, the end of the stream). */
  | "content"
  /** Not an event of this API (malformed JSON, an in-stream error object). */
  | "invalid"
