import * as Effect from "effect/Effect"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import { describe, expect, it } from "vitest"
import {
  UpstreamBodyTooLarge,
  type UpstreamClientOptions,
  type UpstreamClientsShape,
  UpstreamFailure,
  type UpstreamRequest
} from "../../../src/providers/UpstreamClients.ts"
import { ANSWER_LIMIT, portHttpClient } from "../../../src/tracing/PortHttpClient.ts"

/** Clients that record what they were asked and answer `status` (or fail as told). */
const fakeClients = (answer: { status: number; body?: string; fail?: "send" | "large" }) => {
  const sent: Array<UpstreamRequest> = []
  const asked: Array<UpstreamClientOptions> = []
  const clients: UpstreamClientsShape = {
    get: (options) =>
      Effect.sync(() => {
        asked.push(options)
        return {
          post: (request) =>
            answer.fail === "send"
              ? Effect.fail(new UpstreamFailure({ message: "request failed: connection refused" }))
              : Effect.sync(() => {
                  sent.push(request)
                  return {
                    status: answer.status,
                    headers: { "content-type": "application/json" },
                    bytes: (limit: number) =>
                      answer.fail === "large"
                        ? Effect.fail(new UpstreamBodyTooLarge({ limit }))
                        : Effect.succeed(new TextEncoder().encode(answer.body ?? "")),
                    reader: () => ({ read: () => Promise.resolve(undefined), cancel: () => {} })
                  }
                })
        }
      }),
    retain: () => Effect.void,
    decodesBodies: false,
    enforcesConnectTimeout: true
  }
  return { clients, sent, asked }
}

const exportRequest = HttpClientRequest.post("http://collector.test:4318/v1/traces", {
  headers: { "user-agent": "test" },
  body: HttpBody.uint8Array(new Uint8Array([1, 2, 3]), "application/x-protobuf")
})

describe("portHttpClient: span exports through the upstream port", () => {
  it("posts the batch's bytes with their content type, and answers the upstream's status and body", async () => {
    const { clients, sent, asked } = fakeClients({ status: 200, body: '{"partialSuccess":{}}' })
    const response = await Effect.runPromise(portHttpClient(clients).execute(exportRequest))
    expect(response.status).toBe(200)
    expect(await Effect.runPromise(response.text)).toBe('{"partialSuccess":{}}')
    expect(sent).toHaveLength(1)
    expect(sent[0]?.url).toBe("http://collector.test:4318/v1/traces")
    expect(sent[0]?.method).toBe("POST")
    expect(sent[0]?.headers["content-type"]).toBe("application/x-protobuf")
    expect(sent[0]?.headers["user-agent"]).toBe("test")
    expect(Array.from((sent[0]?.body ?? new Uint8Array(0)) as Uint8Array)).toEqual([1, 2, 3])
    // One pooled client per destination origin, looked up at each export.
    expect(asked.map((o) => o.provider)).toEqual(["export http://collector.test:4318"])
  })

  it("relays a status without a body (204) and an error status as answers", async () => {
    for (const status of [204, 503]) {
      const { clients } = fakeClients({ status, body: "" })
      const response = await Effect.runPromise(portHttpClient(clients).execute(exportRequest))
      expect(response.status).toBe(status)
    }
  })

  it("fails with a transport error when the batch cannot be sent or its answer is too large", async () => {
    for (const [fail, says] of [
      ["send", "connection refused"],
      ["large", `larger than ${ANSWER_LIMIT} bytes`]
    ] as const) {
      const { clients } = fakeClients({ status: 200, fail })
      const error = await Effect.runPromise(Effect.flip(portHttpClient(clients).execute(exportRequest)))
      expect(error.reason._tag).toBe("TransportError")
      expect(error.message).toContain(says)
    }
  })
})
