// What the fuzzers' properties check, as functions returning the problem (a sentence) or undefined:
// a property throws the sentence, fast-check shrinks the input and reports both. Kept free of vitest's
// `expect` so a check can be used inside fast-check's runner and in plain assertions alike.

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** The text of UTF-8 bytes; undefined when they are not valid UTF-8. */
export const utf8 = (bytes: Uint8Array): string | undefined => {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** The parsed JSON of UTF-8 bytes, or undefined when they are not (a `{ value }` box, since JSON may be null). */
export const parseJsonBytes = (bytes: Uint8Array): { readonly value: unknown } | undefined => {
  const text = utf8(bytes)
  if (text === undefined) return undefined
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return undefined
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Why `bytes` is not OpenAI's error body `{"error":{"message","type","param","code"}}`, or undefined. */
export const openAIErrorProblem = (bytes: Uint8Array, contentType: string | undefined): string | undefined => {
  if (!/^application\/json\b/i.test(contentType ?? ""))
    return `content-type is ${JSON.stringify(contentType ?? null)}, not application/json`
  const parsed = parseJsonBytes(bytes)
  if (parsed === undefined) return "the body is not JSON"
  const body = parsed.value
  if (!isRecord(body) || Object.keys(body).join() !== "error") return 'the body is not exactly {"error": …}'
  const error = body["error"]
  if (!isRecord(error)) return "`error` is not an object"
  const keys = Object.keys(error).sort().join()
  if (keys !== "code,message,param,type") return `\`error\` has the keys [${keys}], not code, message, param, type`
  if (typeof error["message"] !== "string" || error["message"].length === 0)
    return "`error.message` is not a non-empty string"
  if (typeof error["type"] !== "string") return "`error.type` is not a string"
  if (error["param"] !== null && typeof error["param"] !== "string") return "`error.param` is neither a string nor null"
  if (error["code"] !== null && typeof error["code"] !== "string") return "`error.code` is neither a string nor null"
  return undefined
}

/** Nesting depth of a JSON value: a scalar is 0, `[]` and `{}` are 1, `[[1]]` is 2. */
export const jsonDepth = (value: unknown): number => {
  // iterative: the values measured here are deeper than the stack is tall
  let max = 0
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v !== null && typeof v === "object") {
      const depth = d + 1
      if (depth > max) max = depth
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth])
    }
  }
  return max
}

/** The `data:` payloads of an SSE text, in order (comments and other fields skipped). */
export const sseData = (text: string): Array<string> => {
  const out: Array<string> = []
  for (const block of text.replace(/\r\n?/g, "\n").split("\n\n")) {
    const data = block
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""))
    if (data.length > 0) out.push(data.join("\n"))
  }
  return out
}

/** An SSE stream ends with its `[DONE]` event (the gateway's terminal error event is followed by one). */
export const endsWithDone = (text: string): boolean => /(^|[\r\n])data: ?\[DONE\][\r\n]*$/.test(text)

/**
 * Why an SSE text is not a well-formed OpenAI stream, or undefined: it ends with `data: [DONE]`, and,
 * when `strict`, every event before it is a JSON object (a chunk or the terminal `{"error":…}`).
 */
export const sseProblem = (text: string, strict: boolean): string | undefined => {
  if (!endsWithDone(text))
    return `the stream does not end with \`data: [DONE]\` (ends with ${JSON.stringify(text.slice(-120))})`
  if (!strict) return undefined
  const events = sseData(text)
  for (const [i, data] of events.entries()) {
    if (data === "[DONE]") {
      if (i !== events.length - 1) return `\`[DONE]\` is event ${i + 1} of ${events.length}`
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(data)
    } catch {
      return `event ${i + 1} is not JSON: ${JSON.stringify(data.slice(0, 120))}`
    }
    if (!isRecord(value)) return `event ${i + 1} is not a JSON object: ${JSON.stringify(data.slice(0, 120))}`
  }
  return undefined
}

/** A short printable form of bytes for failure messages. */
export const previewBytes = (bytes: Uint8Array, max = 200): string => {
  const text = Buffer.from(bytes.subarray(0, max)).toString("latin1")
  return JSON.stringify(text) + (bytes.length > max ? `… (${bytes.length} bytes)` : "")
}
