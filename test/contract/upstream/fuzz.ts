// A misbehaving fake upstream for the upstream fuzzer (fuzz-upstream.contract.test.ts): every answer
// is a `Plan` the test registered under an id, and the request names its plan in the body's `user`
// field (the gateway forwards the body untouched but for `model`). A plan is a status, headers, byte
// parts written one by one after their delays (split anywhere, even inside a UTF-8 sequence or a
// CRLF), and an ending: end the body, reset the connection, stay silent until the gateway goes away,
// or drip the same bytes forever. It also counts the answers still open, so the test can check that
// the gateway let go of every upstream answer it gave up on.
import { http, HttpResponse, type RequestHandler } from "msw"
import { Recorder } from "./recorder.ts"
import { startUpstream, type Upstream } from "./server.ts"

export type Ending =
  | { readonly kind: "end" }
  /** The connection is reset after the parts (the chunked body never ends). */
  | { readonly kind: "reset" }
  /** Nothing more, the connection open, until the gateway closes it. */
  | { readonly kind: "silence" }
  /** `bytes` again every `everyMs`, forever (until the gateway closes the connection). */
  | { readonly kind: "drip"; readonly bytes: Uint8Array; readonly everyMs: number }

export interface Plan {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly parts: ReadonlyArray<{ readonly bytes: Uint8Array; readonly delayMs: number }>
  readonly ending: Ending
}

export interface FuzzUpstream {
  /** http://127.0.0.1:PORT/v1 */
  readonly baseUrl: string
  /** Registers the plan the request whose body has `user: id` gets (once). */
  plan(id: string, plan: Plan): void
  /** Answers started and not yet ended, reset or abandoned by the gateway. */
  readonly open: number
  /** Requests that named no registered plan (the gateway retried, or sent something unexpected). */
  readonly unplanned: number
  close(): Promise<void>
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
const wait = (signal: AbortSignal, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const onAbort = () => {
      clearTimeout(t)
      resolve(false)
    }
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort)
      resolve(true)
    }, ms)
    signal.addEventListener("abort", onAbort, { once: true })
  })

const userOf = (raw: string): string | undefined => {
  try {
    const body: unknown = JSON.parse(raw)
    if (body !== null && typeof body === "object" && !Array.isArray(body)) {
      const user = (body as Record<string, unknown>)["user"]
      return typeof user === "string" ? user : undefined
    }
  } catch {
    // not JSON: no plan
  }
  return undefined
}

export const startFuzzUpstream = async (): Promise<FuzzUpstream> => {
  const plans = new Map<string, Plan>()
  let open = 0
  let unplanned = 0

  const body = (request: Request, plan: Plan): ReadableStream<Uint8Array> => {
    let done = false
    const finish = () => {
      if (done) return
      done = true
      open--
    }
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        const signal = request.signal
        for (const part of plan.parts) {
          if (part.delayMs > 0 && !(await wait(signal, part.delayMs))) return finish()
          if (signal.aborted || done) return finish()
          controller.enqueue(part.bytes)
        }
        const ending = plan.ending
        switch (ending.kind) {
          case "end":
            finish()
            controller.close()
            return
          case "reset":
            // let the parts reach the wire first, then fail the body: the bridge resets the connection
            await wait(signal, 5)
            finish()
            controller.error(new Error("fuzz upstream: reset"))
            return
          case "silence":
            await wait(signal, 120_000)
            finish()
            return
          case "drip":
            while (await wait(signal, ending.everyMs)) {
              if (done) return
              controller.enqueue(ending.bytes)
            }
            finish()
            return
        }
      },
      cancel() {
        finish()
      }
    })
  }

  const handle = async ({ request }: { request: Request }): Promise<Response> => {
    const id = userOf(await request.text())
    const plan = id === undefined ? undefined : plans.get(id)
    if (id === undefined || plan === undefined) {
      unplanned++
      return HttpResponse.json(
        {
          error: {
            message: "fuzz upstream: no plan for this request",
            type: "invalid_request_error",
            param: null,
            code: "no_plan"
          }
        },
        { status: 400 }
      )
    }
    plans.delete(id)
    open++
    return new HttpResponse(body(request, plan), { status: plan.status, headers: plan.headers })
  }

  const handlers = (): Array<RequestHandler> => [
    http.post("*/v1/chat/completions", handle),
    http.post("*/v1/completions", handle),
    http.post("*/v1/embeddings", handle)
  ]
  const server: Upstream = await startUpstream(handlers, { recorder: new Recorder() })
  return {
    baseUrl: server.baseUrl,
    plan: (id, plan) => {
      plans.set(id, plan)
    },
    get open() {
      return open
    },
    get unplanned() {
      return unplanned
    },
    close: () => server.close()
  }
}
