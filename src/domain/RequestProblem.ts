/**
 * Why a request body cannot be translated into another API's (a chat request into Anthropic's
 * Messages, a Messages or Responses request into chat): the field (`messages[2].content[0]`) and
 * what is wrong. It reaches the client as a 400 `invalid_request_error` naming that field.
 */
import * as Result from "effect/Result"
import { type GatewayError, gatewayError } from "./GatewayError.ts"

export interface RequestProblem {
  readonly param: string | null
  readonly message: string
}

/** A translation's failure: `param` cannot be translated, for `message`. */
export const requestProblem = (param: string | null, message: string): Result.Result<never, RequestProblem> =>
  Result.fail({ param, message })

/** The 400 a problem answers. */
export const invalidRequest = (problem: RequestProblem): GatewayError =>
  gatewayError({ _tag: "InvalidRequest", param: problem.param, message: problem.message })
