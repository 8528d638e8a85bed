/**
 * The `azure` provider kind: Azure OpenAI. The same API as OpenAI's (the `openai` kind's code does
 * the work) with two differences, both here: a call goes to its deployment,
 * `{base_url}/openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version={api_version}`,
 * where the deployment is the target's `model`; and the key travels in the `api-key` header
 * (config/loadConfig.ts maps `api_key` so; `auth: { type: bearer }` sends an Entra token instead),
 * never as a bearer. The body goes as for `openai`, its `model` set to the deployment (Azure reads
 * the deployment from the path). Files and batches belong to the resource, not a deployment:
 * `{base_url}/openai/files…?api-version=…`; so do stored responses by id (`{base_url}/openai/responses/{id}…`).
 * Creating a response is not passed through to azure (http/Responses.ts translates it over chat).
 */
import type { ResolvedBounds, ResolvedProvider } from "../../config/Config.ts"
import { type Endpoint, isRoutedEndpoint, type RoutedEndpoint } from "../../domain/Endpoint.ts"
import * as OpenAIProvider from "../openai/OpenAIProvider.ts"
import { ENDPOINT_PATH } from "../Provider.ts"

/** The URL of a call to `deployment` of the Azure resource at `baseUrl`. */
export const deploymentUrl = (baseUrl: string, apiVersion: string, endpoint: Endpoint, deployment: string): string =>
  `${baseUrl}/openai/deployments/${encodeURIComponent(deployment)}${ENDPOINT_PATH[endpoint]}?api-version=${encodeURIComponent(apiVersion)}`

export const clientOptions = OpenAIProvider.clientOptions

/**
 * The URL of a files or batches call: the resource's, not a deployment's
 * (`{base_url}/openai/files/{id}?api-version=…`), the client's query after the version.
 */
export const resourceUrl = (
  baseUrl: string,
  apiVersion: string,
  endpoint: RoutedEndpoint,
  subpath: string,
  query: string
): string =>
  `${baseUrl}/openai${ENDPOINT_PATH[endpoint]}${subpath}?api-version=${encodeURIComponent(apiVersion)}${query === "" ? "" : `&${query.replace(/^\?/, "")}`}`

export const make = (config: ResolvedProvider, bounds: Pick<ResolvedBounds, "upstreamBodyLimit">) => {
  const apiVersion = config.apiVersion ?? ""
  return OpenAIProvider.make(config, bounds, {
    url: (request) =>
      isRoutedEndpoint(request.endpoint)
        ? resourceUrl(config.baseUrl, apiVersion, request.endpoint, request.subpath ?? "", request.query ?? "")
        : deploymentUrl(config.baseUrl, apiVersion, request.endpoint, request.upstreamModel)
  })
}
