/**
 * GENERATED FILE, DO NOT EDIT. Produced by scripts/gen.ts (openapi-typescript) from spec/openapi.yaml.
 * Change the spec, then run `npm run gen`; `node scripts/gen.ts --check` fails when this file is stale.
 */

export interface paths {
    "/v1/chat/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a chat completion
         * @description Generates the next assistant message for a conversation. The request is routed by `model` to a
         *     configured provider target and forwarded with every other field untouched.
         *
         *     With `"stream": true` the answer is a `text/event-stream` of `ChatCompletionChunk` events ending
         *     with `data: [DONE]`; otherwise it is a single `ChatCompletion` JSON object.
         */
        post: operations["createChatCompletion"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a text completion
         * @description Continues a prompt (legacy Completions API). Routed by `model` like chat completions; every other
         *     field is forwarded untouched.
         *
         *     With `"stream": true` the answer is a `text/event-stream` of `TextCompletion` events (each
         *     carrying a piece of `choices[].text`) ending with `data: [DONE]`.
         */
        post: operations["createCompletion"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/embeddings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create embeddings
         * @description Returns one embedding vector per input. Routed by `model`; every other field is forwarded
         *     untouched.
         */
        post: operations["createEmbedding"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a message (Anthropic Messages API)
         * @description Anthropic's Messages API served from any provider: the request is translated into a chat
         *     completions request and handled as one (routing by `model`, the key's models, limits and
         *     budgets, usage records: recorded with endpoint `messages`), and the answer translated back: a
         *     message, or with `stream: true`
         *     Anthropic's event stream (`message_start`, `content_block_start`/`_delta`/`_stop` for text,
         *     thinking and tool input, `message_delta` with the stop reason and usage, `message_stop`).
         *     System prompts, multi-turn, images (base64 and URL), custom tools, `tool_choice` and tool
         *     results translate; server tools and document blocks are a 400 naming the field. The key goes
         *     in `x-api-key` (as the Claude SDKs send it) or `Authorization: Bearer`. Every error, the
         *     gateway's own included, comes in Anthropic's shape (`{"type":"error","error":{"type","message"}}`)
         *     with its status and headers (`Retry-After` on 429).
         */
        post: operations["createMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/count_tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Count the tokens of a message (Anthropic Messages API)
         * @description Anthropic's token counting endpoint (`messages.countTokens` in the Claude SDKs): the input
         *     tokens a Messages request would use, without calling any provider. The request is validated
         *     as one for `POST /v1/messages` (a 400 naming the field), except that `max_tokens` is neither
         *     required nor read; the key must be allowed the model (403) and the model must exist (404).
         *     The count is the BPE count (gpt-tokenizer's `o200k_base`) of the request's text: the system
         *     prompt, every message's text, tool calls and tool results, thinking, and the tool definitions
         *     (name, description, input schema as JSON), joined with newlines, plus 3 tokens per message.
         *     Claude's own tokenizer is not public, so this is an approximation of what Anthropic would
         *     count; images and documents are not counted. The count is made by the gateway's tokenizer
         *     thread; when it cannot answer within 10 s the answer is 503 with `overloaded_error`. No rate
         *     limit or budget is counted and no usage record is written. The key goes in `x-api-key` or
         *     `Authorization: Bearer`; every error comes in Anthropic's shape.
         */
        post: operations["countMessageTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/responses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a response (OpenAI Responses API)
         * @description OpenAI's Responses API, served two ways by the model group the request resolves to (a `routes`
         *     entry's model for the path, else `model`), with the usual auth, key models, limits, budgets,
         *     routing and usage records (endpoint `responses`) either way:
         *
         *     - Passed through when every target of the model and of its fallbacks is an `openai` provider:
         *       the body goes to the provider's own `/responses` untouched but for `model` (the target's), so
         *       stateful fields (`previous_response_id`, `store`, `conversation`, background runs, built-in
         *       tools) are the provider's to serve; the JSON answer is relayed as it came (its
         *       `usage.input_tokens`/`output_tokens` recorded), with `stream: true` the provider's event
         *       stream relayed byte for byte as it arrives, its usage read on the way from its terminal
         *       event (`response.completed`, `response.incomplete`, `response.failed`) for the usage record
         *       and the key's limits and budget (a stream cut before it: estimated). A stored response is then
         *       reached by id (`/v1/responses/{id}`).
         *     - Otherwise (a target of another kind; `azure` included) by translation over chat, its
         *       stateless subset: the request (`input` as a string or items — messages, `function_call`,
         *       `function_call_output` —, `instructions`, function `tools`, `tool_choice`,
         *       `max_output_tokens`, `text.format`, ...) becomes a chat completions request handled as one,
         *       and the answer becomes a Response object, or with `stream: true` the Responses event stream
         *       (`response.created` … `response.output_text.delta` … `response.function_call_arguments.delta`
         *       … `response.completed`, or `response.incomplete` / `response.failed`). Nothing is stored
         *       (`store: false` in the answer): `previous_response_id`, `conversation`, stored prompts,
         *       background runs and built-in tools are a 400 naming the field.
         *
         *     Errors are in OpenAI's shape.
         */
        post: operations["createResponse"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/responses/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Retrieve a stored response
         * @description A response stored by the provider (one created by passthrough), served by the provider of the
         *     model a `routes` entry pins for the path (`/v1/responses/*`) or for `/v1/responses`; without
         *     one, a 400 saying to configure it. The id is one path segment; the request (method, path
         *     below, query, body) is relayed as it is, the answer as it came.
         */
        get: operations["retrieveResponse"];
        put?: never;
        post?: never;
        /**
         * Delete a stored response
         * @description A response stored by the provider (one created by passthrough), served by the provider of the
         *     model a `routes` entry pins for the path (`/v1/responses/*`) or for `/v1/responses`; without
         *     one, a 400 saying to configure it. The id is one path segment; the request (method, path
         *     below, query, body) is relayed as it is, the answer as it came.
         */
        delete: operations["deleteResponse"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/responses/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a background response
         * @description A response stored by the provider (one created by passthrough), served by the provider of the
         *     model a `routes` entry pins for the path (`/v1/responses/*`) or for `/v1/responses`; without
         *     one, a 400 saying to configure it. The id is one path segment; the request (method, path
         *     below, query, body) is relayed as it is, the answer as it came.
         */
        post: operations["cancelResponse"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/responses/{id}/input_items": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a stored response's input items
         * @description A response stored by the provider (one created by passthrough), served by the provider of the
         *     model a `routes` entry pins for the path (`/v1/responses/*`) or for `/v1/responses`; without
         *     one, a 400 saying to configure it. The id is one path segment; the request (method, path
         *     below, query, body) is relayed as it is, the answer as it came.
         */
        get: operations["listResponseInputItems"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/generations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create images
         * @description Routed by `model` to an openai or azure provider (azure: the deployment URL); the body is
         *     forwarded untouched but for `model`, and the answer relayed as the provider gave it. A model of
         *     another provider kind is a 400.
         */
        post: operations["createImage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/edits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Edit images (multipart)
         * @description Routed by `model` to an openai or azure provider (azure: the deployment URL); the multipart body is
         *     forwarded byte for byte but for the `model` field's value (a form without one is a 400 naming
         *     `model`), and the answer relayed as the provider gave it. A model of
         *     another provider kind is a 400. The upload is streamed upstream as it arrives (see transcriptions).
         */
        post: operations["createImageEdit"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audio/speech": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create speech
         * @description Routed by `model` to an openai or azure provider (azure: the deployment URL); the body is
         *     forwarded untouched but for `model`, and the answer relayed as the provider gave it. A model of
         *     another provider kind is a 400.
         *     The audio is relayed as bytes as it arrives, with its content-type.
         */
        post: operations["createSpeech"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audio/transcriptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Transcribe audio (multipart)
         * @description Routed by the `model` form field; the multipart body is forwarded byte for byte but for that
         *     field's value (a form without one is a 400 naming `model`).
         *
         *     The upload is streamed upstream as it arrives, never held whole: the form is read up to the end
         *     of its `model` part, which must end within the first `body_limit` bytes (else a 400 naming
         *     `model`: send it before the file), the rest follows as the client sends it, within `upload_limit`
         *     (413 past it). A second `model` part or broken framing later in the body aborts the upstream
         *     request and is a 400. A retry or failover sends the upload again only while all the upstream
         *     took of it is within `upload_replay_limit` (default 1 MiB); otherwise the first attempt's answer
         *     is final.
         */
        post: operations["createTranscription"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audio/translations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Translate audio (multipart)
         * @description Routed by the `model` form field, like transcriptions.
         */
        post: operations["createTranslation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/moderations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Classify content
         * @description Routed by `model` to an openai or azure provider (azure: the deployment URL); the body is
         *     forwarded untouched but for `model`, and the answer relayed as the provider gave it. A model of
         *     another provider kind is a 400.
         *     `model` is optional: without it, the model a `routes` entry pins for the path (else a 400 naming `model`).
         */
        post: operations["createModeration"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/rerank": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rerank documents
         * @description Routed by `model` to an openai or azure provider (azure: the deployment URL); the body is
         *     forwarded untouched but for `model`, and the answer relayed as the provider gave it. A model of
         *     another provider kind is a 400.
         */
        post: operations["createRerank"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List files
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        get: operations["listFiles"];
        put?: never;
        /**
         * Upload a file (multipart)
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         *     The upload is relayed byte for byte, streamed as it arrives within `upload_limit` (413 past it),
         *     retried only within `upload_replay_limit` as for transcriptions.
         */
        post: operations["createFile"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/files/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Retrieve a file
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        get: operations["retrieveFile"];
        put?: never;
        post?: never;
        /**
         * Delete a file
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        delete: operations["deleteFile"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/files/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Retrieve a file's content
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         *     The content is relayed as bytes as it arrives.
         */
        get: operations["retrieveFileContent"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List batches
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        get: operations["listBatches"];
        put?: never;
        /**
         * Create a batch
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        post: operations["createBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Retrieve a batch
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        get: operations["retrieveBatch"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a batch
         * @description Served by the provider of the model a `routes` entry pins for `/v1/files` (`/v1/batches`); without
         *     one, a 400 saying so. The request (method, path below, query, body) is relayed as it is.
         */
        post: operations["cancelBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List models
         * @description Lists the public model names configured on this gateway (not the providers' upstream ids). Use
         *     any `id` from this list as the `model` of a request. With a virtual key, only the models that
         *     key may use are listed.
         */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Retrieve a model
         * @description Returns one configured model by its public name. A model that the virtual key may not use is answered with 404, like an unknown one.
         */
        get: operations["retrieveModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Gateway status
         * @description Reports the gateway version, the JavaScript runtime it runs on, how many models it serves,
         *     which worker thread answered, and the config version every worker serves (the same on every
         *     worker once a reload or admin write has answered).
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/detailed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Per-target health
         * @description Every model with its strategy and its targets' live state: circuit breaker state and failure
         *     rate over the window, requests in flight, smoothed (EWMA) latency and success rate, and the
         *     concurrency limiter. Targets of a pattern model that send the requested name upstream appear
         *     once they have served a request.
         */
        get: operations["getHealthDetailed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description The gateway's metrics in Prometheus' text exposition format (0.0.4): one exposition for every
         *     worker thread, so one scrape target per gateway. On by default at `/metrics` without a key;
         *     `metrics: { enabled, path, require_key }` turns it off (at start), moves it (`path`, outside
         *     `/v1`, `/admin`, `/health`, `/docs` and `/openapi.json`) or asks for the master key or an admin
         *     key (`require_key: true`; 401 without a key, 403 for another key). Labels are bounded: configured
         *     model names (a pattern model's pattern; `none` when the request matched no model), configured
         *     provider names, HTTP statuses, endpoints, limit names, project ids; never a key, a request id
         *     or a client's model string. `endpoint` is the API the client called: `chat`, `completions`,
         *     `embeddings`, `messages` (`POST /v1/messages`, though chat serves it), `responses` (`POST
         *     /v1/responses`, passed through or translated), `images_generations`, `images_edits`,
         *     `moderations`, `rerank`, `audio_speech`, `audio_transcriptions`, `audio_translations`, `files`,
         *     `batches`, `stored_responses`. Counters of a series not seen yet are absent (read them as 0).
         *
         *     | metric | type | labels | what |
         *     |---|---|---|---|
         *     | `llmgate_requests_total` | counter | model, provider, status, endpoint | proxied requests, when they end |
         *     | `llmgate_request_duration_seconds` | histogram | model, endpoint | arrival to the answer's end (a stream's last byte) |
         *     | `llmgate_time_to_first_token_seconds` | histogram | model | streams: arrival to the first content |
         *     | `llmgate_upstream_attempts_total` | counter | provider, outcome | calls to providers: `ok`, `client_error`, `rate_limited`, `server_error`, `timeout`, `unreachable`, `error` |
         *     | `llmgate_upstream_duration_seconds` | histogram | provider | one call until its answer (a stream: its first content) |
         *     | `llmgate_tokens_total` | counter | model, provider, type | `input` (uncached), `cache_read`, `cache_write`, `reasoning`, `output` |
         *     | `llmgate_cost_usd_total` | counter | model, project | cost of priced requests (`project` `none` for the master key) |
         *     | `llmgate_overhead_seconds` | histogram | endpoint | the gateway's own time per request, as `Server-Timing: gateway` |
         *     | `llmgate_active_requests` | gauge | | proxied requests in flight, streams until they end |
         *     | `llmgate_breaker_state` | gauge | provider, model | each target's breaker: 0 closed, 1 half_open, 2 open |
         *     | `llmgate_breaker_transitions_total` | counter | from, to | breaker transitions |
         *     | `llmgate_ratelimit_rejections_total` | counter | limit, scope | 429s of a rate limit (its name) or a budget (`budget`); scope `key`, `project` or `ip` |
         *     | `llmgate_config_reloads_total` | counter | source, result | reloads by `watch` (file or Postgres change), `signal` (SIGHUP), `admin`; `applied`, `unchanged`, `rejected`, `failed` |
         *     | `llmgate_trace_export_failures_total` | counter | destination | failed span exports (`otlp`, `langfuse`), each retried |
         *     | `llmgate_usage_records_written_total` | counter | | usage records stored |
         *     | `llmgate_usage_records_dropped_total` | counter | | usage records dropped (the writer's buffer was full) |
         *     | `llmgate_usage_write_failures_total` | counter | | failed writes to the usage store (each retried) |
         *     | `llmgate_usage_records_buffered` | gauge | | usage records waiting to be written |
         *     | `process_resident_memory_bytes`, `process_heap_used_bytes` | gauge | | the process's memory |
         *     | `process_cpu_seconds_total` | counter | | user and system CPU time |
         *     | `process_start_time_seconds` | gauge | | when the process started (Unix seconds) |
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/liveness": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness probe
         * @description Answers 200 while the process is able to serve HTTP. Use as a container liveness probe; restart
         *     the container when it stops answering.
         */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/readiness": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe
         * @description Answers 200 once the configuration is loaded and the gateway accepts traffic, and 503 once a
         *     graceful shutdown has begun (in-flight requests are still finishing). Any other status, or no
         *     answer, means "not ready": route traffic elsewhere. Poll with a short per-try timeout.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * API reference
         * @description This API reference, rendered by Scalar from `/openapi.json`. Served entirely by the gateway
         *     (the Scalar bundle at `/docs/scalar.js` comes from the installed package, not a CDN) and
         *     configured to make no request outside the gateway.
         */
        get: operations["getDocs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This API description
         * @description Returns this OpenAPI 3.1 document as JSON.
         */
        get: operations["getOpenApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List providers
         * @description Lists the providers of the config catalog by name, a page at a time (`limit`, `cursor`); secrets are masked.
         */
        get: operations["adminListProviders"];
        put?: never;
        /**
         * Add a provider
         * @description Adds a provider: the body is its entry as written in the YAML config file. The whole resulting config is validated as every replica will; a problem is answered with 422 naming the field.
         */
        post: operations["adminCreateProvider"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/providers/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a provider
         * @description Returns one provider by name, with its `etag`.
         */
        get: operations["adminGetProvider"];
        put?: never;
        post?: never;
        /**
         * Remove a provider
         * @description Removes the provider; refused with 409 naming the dependants when a model uses it.
         */
        delete: operations["adminDeleteProvider"];
        options?: never;
        head?: never;
        /**
         * Update a provider
         * @description Sets the given top-level fields of the provider's entry (`null` removes one); secret fields left out keep their stored value. A masked value sent back (what GET shows) is refused with 422 naming the field. With `If-Match`, refused with 412 when the provider changed meanwhile.
         */
        patch: operations["adminUpdateProvider"];
        trace?: never;
    };
    "/admin/v1/providers/{name}/detect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Detect a provider's models and capabilities
         * @description Lists the models of the configured provider's upstream (with its base URL, kind and credentials, over its connection: `proxy`, `tls` and `keep_alive` apply to the list as to the probes) and probes the first `probe` of them (default 3) for `chat` (a one-message chat completion with `max_tokens: 1`), `streaming` (the same as an event stream with at least one chunk), `tools` (the same with one tiny function tool) and `embeddings` (`input: "ping"`), each within `timeout` (default 10 s). An answer is `true`, a refusal (a 4xx) `false`, and a probe that could not tell (a timeout, a 403, 408, 429 or 5xx) `null` with the reason in `errors`; a model whose chat probe did not answer `true` is not probed for streaming or tools. `openai` lists `GET {base_url}/models`, `azure` the resource's deployments (else its models), `anthropic` `GET {base_url}/v1/models`; a list that cannot be had leaves `models` empty with an entry in `errors` (name the models to probe in `models`). Probes go straight to the provider: no routing, limits, circuit breakers or usage records. An upstream that cannot be reached or refuses the credentials (401) is answered with 502 naming the provider.
         */
        post: operations["adminDetectProvider"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List configured models
         * @description Lists the models of the config catalog by name, a page at a time (`limit`, `cursor`).
         */
        get: operations["adminListModels"];
        put?: never;
        /**
         * Add a model
         * @description Adds a model: the body is its entry as written in the YAML config file. The whole resulting config is validated as every replica will; a problem is answered with 422 naming the field.
         */
        post: operations["adminCreateModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/models/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a model entry
         * @description Returns one model by name, with its `etag`.
         */
        get: operations["adminGetModel"];
        put?: never;
        post?: never;
        /**
         * Remove a model
         * @description Removes the model; refused with 409 naming the dependants when another model falls back to it or a route names it.
         */
        delete: operations["adminDeleteModel"];
        options?: never;
        head?: never;
        /**
         * Update a model
         * @description Sets the given top-level fields of the model's entry (`null` removes one). With `If-Match`, refused with 412 when the model changed meanwhile.
         */
        patch: operations["adminUpdateModel"];
        trace?: never;
    };
    "/admin/v1/projects": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List projects
         * @description Lists projects by id, a page at a time (`limit`, `cursor`, filters).
         */
        get: operations["adminListProjects"];
        put?: never;
        /**
         * Create a project
         * @description Creates a project with a generated id.
         */
        post: operations["adminCreateProject"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/projects/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a project
         * @description Returns one project by id, with its `etag`.
         */
        get: operations["adminGetProject"];
        put?: never;
        post?: never;
        /**
         * Delete a project
         * @description Deletes the project; refused with 409 naming its keys while it has any.
         */
        delete: operations["adminDeleteProject"];
        options?: never;
        head?: never;
        /**
         * Update a project
         * @description Sets the given fields (`null` clears an optional one). With `If-Match`, refused with 412 when the project changed meanwhile.
         */
        patch: operations["adminUpdateProject"];
        trace?: never;
    };
    "/admin/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List users
         * @description Lists users by id, a page at a time (`limit`, `cursor`, filters).
         */
        get: operations["adminListUsers"];
        put?: never;
        /**
         * Create a user
         * @description Creates a user with a generated id.
         */
        post: operations["adminCreateUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a user
         * @description Returns one user by id, with its `etag`.
         */
        get: operations["adminGetUser"];
        put?: never;
        post?: never;
        /**
         * Delete a user
         * @description Deletes the user; their keys stay, detached from the user.
         */
        delete: operations["adminDeleteUser"];
        options?: never;
        head?: never;
        /**
         * Update a user
         * @description Sets the given fields (`null` clears an optional one). With `If-Match`, refused with 412 when the user changed meanwhile.
         */
        patch: operations["adminUpdateUser"];
        trace?: never;
    };
    "/admin/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List keys
         * @description Lists keys by id, a page at a time (`limit`, `cursor`, filters).
         */
        get: operations["adminListKeys"];
        put?: never;
        /**
         * Create a key
         * @description Creates a virtual key with a generated id. The answer carries the key itself in `key`: it is shown only here, the store keeps its SHA-256.
         */
        post: operations["adminCreateKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a key
         * @description Returns one key by id, with its `etag`.
         */
        get: operations["adminGetKey"];
        put?: never;
        post?: never;
        /**
         * Delete a key
         * @description Deletes the key; it stops working on every replica within about a second.
         */
        delete: operations["adminDeleteKey"];
        options?: never;
        head?: never;
        /**
         * Update a key
         * @description Sets the given fields (`null` clears an optional one). With `If-Match`, refused with 412 when the key changed meanwhile.
         */
        patch: operations["adminUpdateKey"];
        trace?: never;
    };
    "/admin/v1/keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a key
         * @description Replaces the key with a new one, answered once in `key`. The old key stops working at once, or after `grace_period`.
         */
        post: operations["adminRotateKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get the effective config
         * @description The running config of the gateway that answers (defaults applied), secrets masked, key hashes left out. Works with either store.
         */
        get: operations["adminGetConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/config/reload": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reload the config
         * @description Re-reads the config now (in Postgres mode, every replica is notified too). An invalid config is refused with 422 and the running one stays.
         */
        post: operations["adminReloadConfig"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a usage report
         * @description Time series of requests, tokens by kind and cost, one series per group (`group_by`), in
         *     `interval` buckets (UTC) from `from` to `to`, answered from the per-minute rollups (never by
         *     scanning the records). Recorded only with `usage.enabled: true`; otherwise every report is
         *     empty and says `"recording": false`. Records reach the rollups within `usage.flush_interval`
         *     (default 1 s).
         *
         *     **Defaults**: `to` now; `from` 24 hours before `to`; `interval` from the span (up to 6 hours:
         *     `minute`, up to 14 days: `hour`, longer: `day`); `group_by` `model`; `limit` 10. `from` is
         *     rounded down to the start of its bucket, so every bucket is whole (a minute rollup counts in
         *     the range when it starts before `to`).
         *
         *     **Bounds**: at most 1,500 buckets (a `minute` interval covers at most about a day, `hour`
         *     about 62 days, `day` about 4 years): more is refused with 400 naming `interval` (or `from`
         *     when the interval was chosen automatically). At most `limit` groups (1 to 20) are answered
         *     as series of their own, those with the highest cost, then requests, first; the rest are
         *     summed into `other`. Points are listed only for buckets with traffic.
         *
         *     Every parameter is checked: an unknown or repeated one, an invalid value, or `from` not
         *     before `to` is a 400 `invalid_request` whose `param` names it.
         */
        get: operations["adminGetUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/usage/graph": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a usage chart
         * @description The same report as `GET /admin/v1/usage` (same parameters, defaults and bounds) drawn as a
         *     standalone SVG line chart: a title, time on the x axis (UTC), `metric` on the y axis from 0,
         *     one line (`<path class="series">`) per group in a distinct colour (`other` dashed grey),
         *     and a legend naming each group with its total. Group names are escaped; the chart has no
         *     script, style sheet or external reference, and is served with
         *     `Content-Security-Policy: default-src 'none'`. Save it and open it in a browser:
         *     `curl -H "Authorization: Bearer $KEY" "$GW/admin/v1/usage/graph?group_by=key" > usage.svg`.
         */
        get: operations["adminGetUsageGraph"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/ui/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage page
         * @description A small page that plots the usage reports with filters (group by, range, interval, metric,
         *     key, project, user, model, provider; kept in the page's query string). Self-contained (inline
         *     script and style, nothing loaded from elsewhere; works offline) under a strict
         *     Content-Security-Policy. The page holds no data and needs no key to load; it asks for the
         *     master key (or an admin user's key), keeps it in the tab's `sessionStorage` and sends it only
         *     as `Authorization: Bearer` on its requests to `/admin/v1/usage` and `/admin/v1/usage/graph`,
         *     never in a URL.
         */
        get: operations["getUsagePage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description OpenAI's Responses request; fields not listed are accepted as OpenAI documents them, or refused by name. */
        ResponsesRequest: {
            model: string;
            instructions?: string;
            input: string | {
                [key: string]: unknown;
            }[];
            tools?: {
                [key: string]: unknown;
            }[];
            stream?: boolean;
            max_output_tokens?: number;
        } & {
            [key: string]: unknown;
        };
        ResponseObject: {
            id: string;
            /** @enum {string} */
            object: "response";
            created_at: number;
            /** @enum {string} */
            status: "completed" | "incomplete" | "failed" | "in_progress";
            model: string;
            output: {
                [key: string]: unknown;
            }[];
            usage?: {
                input_tokens?: number;
                output_tokens?: number;
                total_tokens?: number;
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /** @description Anthropic's Messages request; fields not listed are accepted as Anthropic documents them. */
        MessagesRequest: {
            model: string;
            max_tokens: number;
            system?: string | {
                [key: string]: unknown;
            }[];
            messages: ({
                /** @enum {string} */
                role: "user" | "assistant";
                content: string | {
                    [key: string]: unknown;
                }[];
            } & {
                [key: string]: unknown;
            })[];
            stream?: boolean;
            tools?: {
                [key: string]: unknown;
            }[];
        } & {
            [key: string]: unknown;
        };
        /** @description A Messages request to count the input tokens of; fields not listed (such as `tool_choice` or `thinking`) are accepted and do not change the count, and `max_tokens` is not needed. */
        MessagesCountTokensRequest: {
            model: string;
            system?: string | {
                [key: string]: unknown;
            }[];
            messages: ({
                /** @enum {string} */
                role: "user" | "assistant";
                content: string | {
                    [key: string]: unknown;
                }[];
            } & {
                [key: string]: unknown;
            })[];
            tools?: {
                [key: string]: unknown;
            }[];
        } & {
            [key: string]: unknown;
        };
        MessageTokensCount: {
            /** @description The request's input tokens as the gateway's tokenizer counts them (an approximation of Claude's). */
            input_tokens: number;
        };
        Message: {
            id: string;
            /** @enum {string} */
            type: "message";
            /** @enum {string} */
            role: "assistant";
            model: string;
            content: {
                [key: string]: unknown;
            }[];
            stop_reason: string | null;
            stop_sequence?: string | null;
            usage: {
                input_tokens?: number;
                output_tokens?: number;
                cache_read_input_tokens?: number;
                cache_creation_input_tokens?: number;
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        AnthropicError: {
            /** @enum {string} */
            type: "error";
            error: {
                type: string;
                message: string;
            };
        };
        /** @description The error envelope of every error the gateway produces itself. */
        ErrorBody: {
            error: components["schemas"]["ErrorDetail"];
        };
        /** @description What went wrong. */
        ErrorDetail: {
            /** @description A human-readable explanation. Never contains keys or secrets. */
            message: string;
            /** @description The error category, such as `invalid_request_error` or `authentication_error`. */
            type: string;
            /** @description The request field the error is about (a path such as `messages[0].role`), or `null`. */
            param: string | null;
            /** @description A stable machine-readable code, such as `invalid_api_key` or `model_not_found`, or `null`. */
            code: string | null;
        };
        /**
         * @description A chat completion request in the OpenAI format. The gateway validates only the fields listed
         *     here; every other field (`tools`, `tool_choice`, `response_format`, `temperature`, `max_tokens`,
         *     `logprobs`, `seed`, ...) is forwarded to the provider untouched.
         */
        ChatCompletionRequest: {
            /**
             * @description A public model name from `GET /v1/models`. Replaced by the target's upstream model id before forwarding.
             * @example gpt-4o-mini
             */
            model: string;
            /** @description The conversation so far, oldest first. */
            messages: components["schemas"]["ChatMessage"][];
            /** @description When `true`, the answer is streamed as server-sent events of `ChatCompletionChunk`. */
            stream?: boolean;
            stream_options?: components["schemas"]["StreamOptions"];
        } & {
            [key: string]: unknown;
        };
        /**
         * @description One message of the conversation. Only `role` is checked by the gateway; `content` (a string or an
         *     array of content parts), `name`, `tool_calls`, `tool_call_id` and any other field are forwarded
         *     as sent.
         */
        ChatMessage: {
            /**
             * @description Who wrote the message, typically `system`, `developer`, `user`, `assistant` or `tool`.
             * @example user
             */
            role: string;
        } & {
            [key: string]: unknown;
        };
        /** @description Options for streamed responses. Forwarded to the provider. */
        StreamOptions: {
            /** @description When `true`, the provider sends token `usage` in a final chunk before `data: [DONE]`. */
            include_usage?: boolean;
        } & {
            [key: string]: unknown;
        };
        /** @description A complete chat completion, as produced by the provider. */
        ChatCompletion: {
            /** @description A unique id for the completion (for OpenAI-style providers, `chatcmpl-...`). */
            id: string;
            /** @constant */
            object: "chat.completion";
            /** @description Unix time (seconds) when the completion was created. */
            created: number;
            /** @description The model that produced the completion. */
            model: string;
            choices: components["schemas"]["ChatCompletionChoice"][];
            usage?: components["schemas"]["Usage"];
            /** @description Backend configuration fingerprint reported by some providers. */
            system_fingerprint?: string | null;
        };
        ChatCompletionChoice: {
            /** @description Position of the choice (requests may ask for several with `n`). */
            index: number;
            message: components["schemas"]["AssistantMessage"];
            finish_reason: components["schemas"]["FinishReason"];
            /** @description Token log probabilities, when requested with `logprobs`. */
            logprobs?: {
                [key: string]: unknown;
            } | null;
        };
        /** @description The generated message. */
        AssistantMessage: {
            /** @constant */
            role: "assistant";
            /** @description The text of the message; `null` when the model only called tools. */
            content: string | null;
            /** @description A refusal message, for providers that report refusals separately. */
            refusal?: string | null;
            /** @description Tool calls the model wants the client to perform. */
            tool_calls?: components["schemas"]["ToolCall"][];
        };
        ToolCall: {
            /** @description Id to quote as `tool_call_id` in the `tool` message that answers this call. */
            id: string;
            /** @constant */
            type: "function";
            function: {
                /** @description The function to call. */
                name: string;
                /** @description The arguments as a JSON-encoded string (may be invalid JSON; validate before use). */
                arguments: string;
            };
        };
        /**
         * @description Why generation stopped: `stop` (natural end or stop sequence), `length` (token limit),
         *     `tool_calls`, `content_filter`, or a provider-specific value. `null` in stream chunks before the
         *     last.
         * @example stop
         */
        FinishReason: string | null;
        /** @description Token usage of the request. */
        Usage: {
            /** @description Tokens in the input. */
            prompt_tokens: number;
            /** @description Tokens generated. */
            completion_tokens: number;
            /** @description `prompt_tokens + completion_tokens`. */
            total_tokens: number;
        } & {
            [key: string]: unknown;
        };
        /**
         * @description One server-sent event of a streamed chat completion (`data: <this object as JSON>`). Concatenating
         *     `choices[i].delta.content` over all chunks gives the full message.
         */
        ChatCompletionChunk: {
            /** @description The same id on every chunk of a stream. */
            id: string;
            /** @constant */
            object: "chat.completion.chunk";
            /** @description Unix time (seconds) when the completion was created. */
            created: number;
            model: string;
            /** @description May be empty in the final usage-only chunk. */
            choices: components["schemas"]["ChatCompletionChunkChoice"][];
            /** @description Token usage; present only on the final chunk, when the provider reports it. */
            usage?: components["schemas"]["Usage"] | null;
            system_fingerprint?: string | null;
        };
        ChatCompletionChunkChoice: {
            index: number;
            delta: components["schemas"]["ChatCompletionDelta"];
            finish_reason?: components["schemas"]["FinishReason"];
            logprobs?: {
                [key: string]: unknown;
            } | null;
        };
        /** @description The part of the message added by this chunk. */
        ChatCompletionDelta: {
            /** @description Set on the first chunk only. */
            role?: string;
            /** @description The next piece of text. */
            content?: string | null;
            refusal?: string | null;
            tool_calls?: components["schemas"]["ToolCallDelta"][];
        };
        /** @description A piece of a tool call; pieces with the same `index` belong to the same call. */
        ToolCallDelta: {
            index: number;
            id?: string;
            /** @constant */
            type?: "function";
            function?: {
                name?: string;
                /** @description The next piece of the JSON-encoded arguments. */
                arguments?: string;
            };
        };
        /**
         * @description A legacy text completion request. The gateway validates only the fields listed here; every other
         *     field (`max_tokens`, `temperature`, `suffix`, `echo`, `logprobs`, ...) is forwarded untouched.
         */
        CompletionRequest: {
            /**
             * @description A public model name from `GET /v1/models`. Replaced by the target's upstream model id before forwarding.
             * @example gpt-3.5-turbo-instruct
             */
            model: string;
            prompt: components["schemas"]["TextOrTokens"];
            /** @description When `true`, the answer is streamed as server-sent events of `TextCompletion` pieces. */
            stream?: boolean;
            stream_options?: components["schemas"]["StreamOptions"];
        } & {
            [key: string]: unknown;
        };
        /** @description Text or tokens: a string, an array of strings, an array of token ids, or an array of token-id arrays. */
        TextOrTokens: string | string[] | number[] | number[][];
        /** @description A text completion, or (when streaming) one piece of it. */
        TextCompletion: {
            id: string;
            /** @constant */
            object: "text_completion";
            /** @description Unix time (seconds) when the completion was created. */
            created: number;
            model: string;
            choices: components["schemas"]["TextCompletionChoice"][];
            usage?: components["schemas"]["Usage"];
            system_fingerprint?: string | null;
        };
        TextCompletionChoice: {
            index: number;
            /** @description The generated text (in a stream, the next piece of it). */
            text: string;
            finish_reason: components["schemas"]["FinishReason"];
            logprobs?: {
                [key: string]: unknown;
            } | null;
        };
        /**
         * @description An embeddings request. The gateway validates only the fields listed here; every other field (such
         *     as `user`) is forwarded untouched.
         */
        EmbeddingRequest: {
            /**
             * @description A public model name from `GET /v1/models`. Replaced by the target's upstream model id before forwarding.
             * @example text-embedding-3-small
             */
            model: string;
            input: components["schemas"]["TextOrTokens"];
            /**
             * @description `float` (arrays of numbers, the provider's default) or `base64` (little-endian float32, base64-encoded).
             * @enum {string}
             */
            encoding_format?: "float" | "base64";
            /** @description The length of each vector, for models that support shortening. */
            dimensions?: number;
        } & {
            [key: string]: unknown;
        };
        EmbeddingList: {
            /** @constant */
            object: "list";
            /** @description One embedding per input, in input order. */
            data: components["schemas"]["Embedding"][];
            model: string;
            usage: components["schemas"]["EmbeddingUsage"];
        };
        Embedding: {
            /** @constant */
            object: "embedding";
            /** @description Position of the input this vector belongs to. */
            index: number;
            /** @description The vector; a base64 string when the request asked for `encoding_format: base64`. */
            embedding: number[] | string;
        };
        EmbeddingUsage: {
            prompt_tokens: number;
            total_tokens: number;
        } & {
            [key: string]: unknown;
        };
        /** @description A model served by this gateway, under its public name. */
        Model: {
            /**
             * @description The public model name; use it as `model` in requests.
             * @example gpt-4o-mini
             */
            id: string;
            /** @constant */
            object: "model";
            /** @description Unix time (seconds); when the gateway loaded the model's configuration. */
            created: number;
            /**
             * @description Always `llmgate` for models configured on the gateway.
             * @example llmgate
             */
            owned_by: string;
        };
        ModelList: {
            /** @constant */
            object: "list";
            data: components["schemas"]["Model"][];
        };
        /** @description Status and build information. */
        HealthResponse: {
            /** @constant */
            status: "ok";
            /**
             * @description The llmgate version.
             * @example 0.1.0
             */
            version: string;
            /** @description The JavaScript runtime the gateway runs on. */
            runtime: {
                /** @enum {string} */
                name: "node" | "bun" | "deno";
                /** @description The runtime's version, such as `24.21.0`. */
                version: string;
            };
            /** @description How many public models are configured. */
            models: number;
            /**
             * @description Which of the worker threads sharing the port answered (`id` from 0), and how many there
             *     are. A gateway serving from one thread is `{"id": 0, "count": 1}`.
             */
            worker: {
                id: number;
                count: number;
            };
            /**
             * @description The version of the config the answering worker serves: 1 at startup, one more for every
             *     change the gateway applied (a file edit, a Postgres change, SIGHUP, an admin write).
             */
            config_version: number;
            /**
             * @description Every worker thread with the config version it serves (0 while it starts or restarts). A
             *     reload and an admin write answer only once every worker serves the new version.
             */
            workers: {
                id: number;
                config_version: number;
            }[];
        };
        HealthDetailed: {
            /** @constant */
            status: "ok";
            models: {
                /** @description The model's configured name (an exact name or a pattern). */
                name: string;
                /** @enum {string} */
                strategy: "round_robin" | "weighted" | "random" | "least_busy" | "latency" | "failover";
                targets: components["schemas"]["TargetHealth"][];
            }[];
        };
        TargetHealth: {
            provider: string;
            /** @description The upstream model id. */
            model: string;
            weight: number;
            /**
             * @description The circuit breaker's state.
             * @enum {string}
             */
            state: "closed" | "open" | "half_open";
            /** @description Failures / samples over the breaker's window. */
            failure_rate: number;
            samples: number;
            in_flight: number;
            /** @description Smoothed latency (EWMA) in ms; time to first content for streams. Null before the first sample. */
            latency_ms: number | null;
            /** @description Smoothed success rate (EWMA). */
            success_rate: number;
            max_concurrency: number | null;
            /** @description Requests holding a concurrency permit (in flight when there is no cap). */
            active: number;
            /** @description Requests waiting in the target's queue. */
            queued: number;
        };
        /** @description The body of a successful liveness or readiness probe. */
        HealthProbe: {
            /** @constant */
            status: "ok";
        };
        /**
         * @description Rate limits, enforced on every worker as one limit for the gateway. A key's own value wins over
         *     its project's, field by field; a project's limits also cap all its keys together.
         *     `requests_per_minute` and `tokens_per_minute` count in a 60 s window anchored at the first
         *     request after the previous window ended; tokens are reserved at admission (prompt estimate plus
         *     `max_completion_tokens` / `max_tokens`, else the model's `default_max_tokens`, else `limits.default_max_tokens`,
         *     1024 unless configured) and settled to the real usage when the answer
         *     reports it. `requests_per_second` with `burst` is a token bucket (capacity `burst`, default
         *     ceil(requests_per_second); `burst` needs `requests_per_second`). `max_parallel` caps requests in
         *     flight (streams count until they end).
         */
        AdminLimits: {
            requests_per_minute?: number;
            tokens_per_minute?: number;
            requests_per_second?: number;
            burst?: number;
            max_parallel?: number;
        };
        /** @description A spending cap: once the period's spend reaches `amount_usd`, requests are refused with 429 `budget_exceeded` until the period resets (UTC: `daily` at midnight, `weekly` on Monday 00:00, `monthly` on the 1st; `total` never resets). A project's budget caps all its keys together. */
        AdminBudget: {
            amount_usd: number;
            /** @enum {string} */
            period: "daily" | "weekly" | "monthly" | "total";
        };
        /** @description The current period of a budget as the gateway that answers counts it: in Redis with `limits.redis` (every replica's requests), otherwise in the memory its workers share (this replica's requests, rebuilt from the usage store at start). Money is counted in whole micro-dollars here. Read-only: it is not part of the object's stored form or its `etag`, and a write that sends it is refused. */
        AdminBudgetSpend: {
            /** @description What the period's settled requests cost, USD. */
            spent_usd: number;
            /** @description What requests in flight reserved (each its maximum cost; given back and replaced by the real cost when it ends). A request is admitted only while `spent_usd + reserved_usd` plus its own maximum stays within `amount_usd`. */
            reserved_usd: number;
            /**
             * Format: date-time
             * @description When the period began (UTC); `null` for a `total` budget.
             */
            period_start: string | null;
            /**
             * Format: date-time
             * @description When the next period begins and the spend starts again from 0 (UTC); `null` for `total`.
             */
            resets_at: string | null;
        };
        /** @description Free-form annotations, kept as they are. */
        AdminMetadata: {
            [key: string]: unknown;
        };
        /** @description A provider entry as written in the YAML config (`name`, `kind`, `base_url`, `api_key` or `auth`, `headers`, `timeout`, `breaker`, `api_version` for `azure`, `anthropic_version` for `anthropic`, `mock`; and, for every kind but `mock`, the connection settings: `proxy` (an http(s) URL or `none`; absent: `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY` names the host), `tls` (`verify`, `ca_file`: a PEM bundle added to the trusted roots, read when the config is loaded), `user_agent` (default `llmgate/<version>`) and `keep_alive` (default true)). Every value is data: `${VAR}` in it is kept as text, never read from the environment. Secrets (`api_key`, `auth.token`, `auth.password`, `auth.value`, header values) are stored encrypted with the Postgres store; a masked value as the API shows it (`****`, `****abcd`) is refused with 422 naming the field. */
        AdminProviderInput: {
            name?: string;
            /** @enum {string} */
            kind?: "openai" | "azure" | "anthropic" | "mock";
            base_url?: string;
            api_key?: string;
        } & {
            [key: string]: unknown;
        };
        /** @description A provider entry as stored, its secrets masked: `****abcd` (the last 4 characters) for a secret of 20 characters or more, `****` for a shorter one; header values too, but for headers known to carry no credential (`user-agent`, `anthropic-version`, `content-type`, ...). A `${VAR}` reference in the config file is shown as written. */
        AdminProvider: {
            name: string;
            /** @enum {string} */
            kind: "openai" | "azure" | "anthropic" | "mock";
            /** @description The object's version, for `If-Match`. */
            etag: string;
        } & {
            [key: string]: unknown;
        };
        /** @description A model entry as written in the YAML config (`name`, `targets`, `strategy`, `retry`, `fallbacks`, `pricing`, `default_max_tokens`). */
        AdminModelInput: {
            name?: string;
            targets?: ({
                provider?: string;
                model?: string;
            } & {
                [key: string]: unknown;
            })[];
            pricing?: components["schemas"]["ModelPricing"];
            /** @description The completion tokens a request to this model reserves against `tokens_per_minute` and budgets when it sets neither `max_completion_tokens` nor `max_tokens` (default: the config's `limits.default_max_tokens`, else 1024). */
            default_max_tokens?: number;
        } & {
            [key: string]: unknown;
        };
        /** @description What a model costs, in USD per million tokens of each kind of usage. An absent `cache_read` or `cache_write` is billed at the `input` price, an absent `reasoning` at the `output` price. A model's own pricing wins over the config's top-level `pricing` map (keyed by upstream model name), which wins over the built-in prices. */
        ModelPricing: {
            /** @description Uncached input tokens. */
            input: number;
            /** @description Output tokens other than reasoning. */
            output: number;
            /** @description Input tokens read from the prompt cache. */
            cache_read?: number;
            /** @description Input tokens written into the prompt cache. */
            cache_write?: number;
            /** @description Reasoning (hidden output) tokens. */
            reasoning?: number;
        };
        /** @description A model entry as stored. */
        AdminModel: {
            name: string;
            targets: {
                [key: string]: unknown;
            }[];
            etag: string;
        } & {
            [key: string]: unknown;
        };
        AdminProjectCreate: {
            name: string;
            limits?: components["schemas"]["AdminLimits"];
            budget?: components["schemas"]["AdminBudget"];
            metadata?: components["schemas"]["AdminMetadata"];
        };
        AdminProjectUpdate: {
            name?: string;
            limits?: components["schemas"]["AdminLimits"] | null;
            budget?: components["schemas"]["AdminBudget"] | null;
            metadata?: components["schemas"]["AdminMetadata"] | null;
        };
        AdminProject: {
            id: string;
            name: string;
            limits: components["schemas"]["AdminLimits"] | null;
            budget: components["schemas"]["AdminBudget"] | null;
            /** @description The budget's current period: spend and reservations. `null` when there is no `budget`, or when its counters cannot be read (`limits.redis` unreachable). */
            spend: components["schemas"]["AdminBudgetSpend"] | null;
            metadata: components["schemas"]["AdminMetadata"];
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            etag: string;
        };
        AdminUserCreate: {
            name: string;
            email?: string;
            /** @enum {string} */
            role: "admin" | "member";
            /** @description Ids of the projects the user belongs to. */
            projects?: string[];
            metadata?: components["schemas"]["AdminMetadata"];
        };
        AdminUserUpdate: {
            name?: string;
            email?: string | null;
            /** @enum {string} */
            role?: "admin" | "member";
            projects?: string[];
            metadata?: components["schemas"]["AdminMetadata"] | null;
        };
        AdminUser: {
            id: string;
            name: string;
            email: string | null;
            /** @enum {string} */
            role: "admin" | "member";
            projects: string[];
            metadata: components["schemas"]["AdminMetadata"];
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            etag: string;
        };
        AdminKeyCreate: {
            name: string;
            project_id: string;
            /** @description A member of the project. */
            user_id?: string | null;
            /** @description Allowed model names, globs (`gpt-*`) or `/regex/`; absent or `null` allows every model, `[]` none. */
            models?: string[] | null;
            enabled?: boolean;
            /** @description ISO 8601 date or date-time with a zone; `null`: never. */
            expires_at?: string | null;
            limits?: components["schemas"]["AdminLimits"];
            budget?: components["schemas"]["AdminBudget"];
            metadata?: components["schemas"]["AdminMetadata"];
        };
        AdminKeyUpdate: {
            name?: string;
            project_id?: string;
            user_id?: string | null;
            models?: string[] | null;
            enabled?: boolean;
            expires_at?: string | null;
            limits?: components["schemas"]["AdminLimits"] | null;
            budget?: components["schemas"]["AdminBudget"] | null;
            metadata?: components["schemas"]["AdminMetadata"] | null;
        };
        /** @description A virtual key; its secret is never shown again after creation or rotation. */
        AdminKey: {
            id: string;
            name: string;
            /** @description The key's first 12 characters. */
            prefix: string;
            project_id: string;
            user_id: string | null;
            /** @description `null`: every model. */
            models: string[] | null;
            enabled: boolean;
            expires_at: string | null;
            limits: components["schemas"]["AdminLimits"] | null;
            budget: components["schemas"]["AdminBudget"] | null;
            /** @description The budget's current period: spend and reservations. `null` when there is no `budget`, or when its counters cannot be read (`limits.redis` unreachable). */
            spend: components["schemas"]["AdminBudgetSpend"] | null;
            metadata: components["schemas"]["AdminMetadata"];
            /** @description After a rotation with a grace period, until when the old key still works. */
            previous_expires_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            etag: string;
        };
        /** @description A key with its secret, answered only by creation and rotation. */
        AdminKeyWithSecret: components["schemas"]["AdminKey"] & {
            /** @description The key itself (`sk-lg-...`): store it now, it is not shown again. */
            key: string;
        };
        AdminKeyRotate: {
            /** @description How long the old key keeps working (`10m`, `30s` or milliseconds); default 0, it stops at once. */
            grace_period?: string | number;
        };
        AdminDeleted: {
            id: string;
            object: string;
            /** @constant */
            deleted: true;
        };
        /** @description Tokens by kind (the kinds are disjoint) and their sum. */
        UsageTokens: {
            /** @description Input tokens neither read from nor written to a prompt cache. */
            input: number;
            /** @description Input tokens read from the prompt cache. */
            cache_read: number;
            /** @description Input tokens written to the prompt cache. */
            cache_write: number;
            /** @description Output tokens spent on reasoning. */
            reasoning: number;
            /** @description Output tokens other than reasoning. */
            output: number;
            /** @description Every token of every kind. */
            total: number;
        };
        UsageAmounts: {
            requests: number;
            tokens: components["schemas"]["UsageTokens"];
            /** @description Cost in USD of the priced requests (a model without a price counts 0). */
            cost_usd: number;
        };
        /** @description One bucket of one series. */
        UsageReportPoint: {
            /** @description Start of the bucket (RFC 3339, UTC). */
            bucket: string;
            requests: number;
            tokens: components["schemas"]["UsageTokens"];
            cost_usd: number;
        };
        UsageReportSeries: {
            /** @description The key, project or user id, the model or the provider name; null for none (the master key, a key without a user, a request no provider served). */
            group: string | null;
            /** @description How to show the group: its value, or `(master key)`, `(no project)`, `(no user)`, `(not served)` for null. */
            label: string;
            totals: components["schemas"]["UsageAmounts"];
            /** @description Buckets with traffic, in time order; a bucket not listed had none. */
            points: components["schemas"]["UsageReportPoint"][];
        };
        /** @description The groups beyond `limit`, summed into one series. */
        UsageReportOther: {
            /** @description How many groups are summed here. */
            groups: number;
            /** @description `other (N groups)` */
            label: string;
            totals: components["schemas"]["UsageAmounts"];
            points: components["schemas"]["UsageReportPoint"][];
        };
        UsageReport: {
            /** @constant */
            object: "usage.report";
            /** @enum {string} */
            group_by: "key" | "project" | "user" | "model" | "provider";
            /** @enum {string} */
            interval: "minute" | "hour" | "day";
            /** @description Start of the first bucket (RFC 3339, UTC): `from` rounded down. */
            from: string;
            /** @description End of the range, exclusive (RFC 3339, UTC). */
            to: string;
            /** @description Buckets in the range (the last one may end after `to`). */
            buckets: number;
            limit: number;
            /** @description The filters applied, by parameter name. */
            filters: {
                key?: string;
                project?: string;
                user?: string;
                model?: string;
                provider?: string;
            };
            /** @description Whether this gateway records usage (`usage.enabled`); when not, every report is empty. */
            recording: boolean;
            /** @description One per group, highest cost first (then most requests), at most `limit`. */
            series: components["schemas"]["UsageReportSeries"][];
            /** @description The remaining groups summed; null when every group has its own series. */
            other: components["schemas"]["UsageReportOther"] | null;
            totals: components["schemas"]["UsageAmounts"];
        };
        AdminReloaded: {
            /** @constant */
            status: "reloaded";
        };
        /** @description The running config with defaults applied, secrets masked and key hashes left out. */
        AdminEffectiveConfig: {
            /** @enum {string} */
            store: "postgres" | "file";
            server: {
                [key: string]: unknown;
            };
            /** @description Masked. */
            master_key: string | null;
            /** @description The completion tokens a request reserves by default, and where key and project rate limits are counted. */
            limits: {
                /** @description `limits.default_max_tokens` (default 1024): the completion tokens a request that sets neither `max_completion_tokens` nor `max_tokens` reserves against `tokens_per_minute` and budgets. Each entry of `models` shows its own `default_max_tokens`, this value unless the model sets one. */
                default_max_tokens: number;
                /** @description `limits.redis` (applies at start; `null`: shared memory, exact within one gateway). The url is masked; `null` when it comes from `REDIS_URL`. */
                redis: null | {
                    /** @description Masked. */
                    url: string | null;
                    /** @enum {string} */
                    on_error: "fail_open" | "fail_closed";
                    key_prefix: string;
                };
            };
            providers: {
                [key: string]: unknown;
            }[];
            models: {
                [key: string]: unknown;
            }[];
            routes: {
                [key: string]: unknown;
            }[];
            projects: {
                [key: string]: unknown;
            }[];
            users: {
                [key: string]: unknown;
            }[];
            keys: {
                [key: string]: unknown;
            }[];
            /** @description The top-level `pricing:` map by upstream model name, every kind filled in (the built-in prices are not repeated). */
            pricing?: {
                [key: string]: {
                    [key: string]: unknown;
                };
            };
            /** @description The usage store's settings (`usage:`), as applied at start. */
            usage?: {
                [key: string]: unknown;
            };
            /** @description `logging:` as applied at start (`--debug` logs at debug whatever it says). */
            logging?: {
                /** @enum {string} */
                level: "debug" | "info" | "warning" | "error";
                /** @enum {string} */
                format: "text" | "json";
            };
            /** @description `tracing:` as the config writes it (header values masked; `null`: not set). The standard `OTEL_*` variables fill in what it leaves out, at start. */
            tracing?: {
                [key: string]: unknown;
            };
            /** @description The Prometheus endpoint (`metrics:`): `enabled` as applied at start, `path` and `require_key` as now. */
            metrics?: {
                enabled: boolean;
                path: string;
                require_key: boolean;
            };
        };
        AdminProviderPage: {
            data: components["schemas"]["AdminProvider"][];
            /** @description Pass as `cursor` for the next page; `null` on the last. */
            next_cursor: string | null;
        };
        AdminProviderDetectInput: {
            /** @description How many models to probe, the first ones listed (default 3, or every model in `models`); 0 lists only. */
            probe?: number;
            /** @description Probe these models (for `azure`, deployments) instead of listing the upstream's. */
            models?: string[];
            /** @description Each request's time limit (`10s`, `500ms` or milliseconds; at most 120 s); default 10 s. */
            timeout?: string | number;
        };
        /** @description Each capability's answer; `null` when the probe could not tell (see `errors`). */
        AdminProviderCapabilities: {
            chat: boolean | null;
            streaming: boolean | null;
            tools: boolean | null;
            embeddings: boolean | null;
        };
        AdminProviderDetection: {
            provider: string;
            /** @description The upstream's models in its order (or those named), the first `probed` of them probed. */
            models: {
                id: string;
                /** @description `null` for a model that was not probed. */
                capabilities: components["schemas"]["AdminProviderCapabilities"] | null;
            }[];
            probed: number;
            /** @description What could not be told, the model list's or a probe's. */
            errors: {
                model: string | null;
                /** @enum {string} */
                probe: "models" | "chat" | "streaming" | "tools" | "embeddings";
                message: string;
            }[];
        };
        AdminModelPage: {
            data: components["schemas"]["AdminModel"][];
            /** @description Pass as `cursor` for the next page; `null` on the last. */
            next_cursor: string | null;
        };
        AdminProjectPage: {
            data: components["schemas"]["AdminProject"][];
            /** @description Pass as `cursor` for the next page; `null` on the last. */
            next_cursor: string | null;
        };
        AdminUserPage: {
            data: components["schemas"]["AdminUser"][];
            /** @description Pass as `cursor` for the next page; `null` on the last. */
            next_cursor: string | null;
        };
        AdminKeyPage: {
            data: components["schemas"]["AdminKey"][];
            /** @description Pass as `cursor` for the next page; `null` on the last. */
            next_cursor: string | null;
        };
    };
    responses: {
        /** @description The key is valid but may not use the admin API (`code: "forbidden"`). */
        AdminForbidden: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "The admin API needs the master key or a key of a user with role `admin`.",
                 *         "type": "permission_error",
                 *         "param": null,
                 *         "code": "forbidden"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description No such provider, model, project, user or key (`code: "not_found"`). */
        AdminNotFound: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "No key with id \"key_x\".",
                 *         "type": "invalid_request_error",
                 *         "param": null,
                 *         "code": "not_found"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The change contradicts what is stored: a name taken, or dependants of what would be removed (`code: "conflict"`). */
        Conflict: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "A provider named \"up-a\" already exists.",
                 *         "type": "invalid_request_error",
                 *         "param": "name",
                 *         "code": "conflict"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description `If-Match` names another version: the object changed since it was read (`code: "precondition_failed"`). */
        PreconditionFailed: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "The key changed since you read it; read it again and retry.",
                 *         "type": "invalid_request_error",
                 *         "param": null,
                 *         "code": "precondition_failed"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description A field's value would make the config invalid; `param` names the field (`code: "invalid_value"`). */
        Unprocessable: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "targets[0].provider: unknown provider \"x\"",
                 *         "type": "invalid_request_error",
                 *         "param": "name",
                 *         "code": "invalid_value"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The gateway runs on the embedded default config and has no file to write changes back to (`code: "not_implemented"`). */
        NotImplemented: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "The admin API's resource operations need a config file (--config FILE or LLMGATE_CONFIG) or the Postgres config store (DATABASE_URL).",
                 *         "type": "api_error",
                 *         "param": null,
                 *         "code": "not_implemented"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description A query parameter is unknown, repeated or invalid, `from` is not before `to`, or the range needs more than 1,500 buckets; `param` names the parameter (`code: "invalid_request"`). */
        UsageBadQuery: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "interval: minute over 30 days (2026-04-01T00:00:00.000Z to 2026-05-01T00:00:00.000Z) makes 43200 buckets; at most 1500 are answered: choose a wider interval or a shorter range",
                 *         "type": "invalid_request_error",
                 *         "param": "interval",
                 *         "code": "invalid_request"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /**
         * @description The body is not valid JSON (`code: "invalid_json"`), is nested deeper than
         *     `server.json_depth_limit` (default 64; `code: "invalid_json"`), names a `model` longer than
         *     `server.identifier_limit` (default 256 characters; `param: "model"`) or violates the request
         *     schema (`type: "invalid_request_error"`, `code: "invalid_request"`, `param` and `message` name
         *     the offending field path, such as `messages` or `messages[0].role`).
         */
        BadRequest: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The `Authorization: Bearer` key is missing or wrong (`code: "invalid_api_key"`). */
        Unauthorized: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Invalid or missing API key",
                 *         "type": "authentication_error",
                 *         "param": null,
                 *         "code": "invalid_api_key"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The requested model is not configured on this gateway (`code: "model_not_found"`); the message names the model. */
        ModelNotFound: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "The model 'gpt-5-ultra' does not exist",
                 *         "type": "invalid_request_error",
                 *         "param": "model",
                 *         "code": "model_not_found"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The virtual key may not use the requested model, or the model its route pins (`code: "model_not_allowed"`); the message names the model. */
        ModelNotAllowed: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "This API key is not allowed to use the model `gpt-4o`.",
                 *         "type": "invalid_request_error",
                 *         "param": "model",
                 *         "code": "model_not_allowed"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The request body exceeds the configured `body_limit`, 10 MiB by default; an upload streamed upstream (multipart endpoints, `POST /v1/files`), `upload_limit`, 512 MiB by default (`code: "request_too_large"`). */
        PayloadTooLarge: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Request body exceeds the limit of 10 MiB.",
                 *         "type": "invalid_request_error",
                 *         "param": null,
                 *         "code": "request_too_large"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /**
         * @description The provider could not be reached (connection refused, DNS failure, reset before a response)
         *     (`code: "upstream_unreachable"`).
         */
        UpstreamUnreachable: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-llmgate-attempts": components["headers"]["Attempts"];
                "server-timing": components["headers"]["ServerTiming"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Upstream provider is unreachable",
                 *         "type": "api_error",
                 *         "param": null,
                 *         "code": "upstream_unreachable"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description The provider did not answer within its configured timeout (`code: "upstream_timeout"`). */
        UpstreamTimeout: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-llmgate-attempts": components["headers"]["Attempts"];
                "server-timing": components["headers"]["ServerTiming"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Upstream provider timed out",
                 *         "type": "api_error",
                 *         "param": null,
                 *         "code": "upstream_timeout"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /**
         * @description Too many requests. Either a rate limit of the key, its project or the client IP is reached
         *     (`type: "requests"` or `"tokens"`, `code: "rate_limit_exceeded"`, a message naming the limit,
         *     e.g. "requests_per_minute limit of 5 reached for this key", `Retry-After` in seconds, and the
         *     `x-ratelimit-*` headers when the key is limited); or every available target of the model is at
         *     its `max_concurrency` and its queue is full, or the queue wait timed out
         *     (`type: "rate_limit_error"`, `code: "concurrency_limit"`). Retry later.
         */
        Overloaded: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-llmgate-attempts": components["headers"]["Attempts"];
                "server-timing": components["headers"]["ServerTiming"];
                "Retry-After": components["headers"]["RetryAfter"];
                "x-ratelimit-limit-requests": components["headers"]["RateLimitLimitRequests"];
                "x-ratelimit-remaining-requests": components["headers"]["RateLimitRemainingRequests"];
                "x-ratelimit-reset-requests": components["headers"]["RateLimitResetRequests"];
                "x-ratelimit-limit-tokens": components["headers"]["RateLimitLimitTokens"];
                "x-ratelimit-remaining-tokens": components["headers"]["RateLimitRemainingTokens"];
                "x-ratelimit-reset-tokens": components["headers"]["RateLimitResetTokens"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Every target of model `gpt-4o-mini` is at its concurrency limit and its queue is full.",
                 *         "type": "rate_limit_error",
                 *         "param": null,
                 *         "code": "concurrency_limit"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /**
         * @description Every target of the model is unavailable because its circuit breaker is open; the gateway fails
         *     fast without calling any provider (`code: "service_unavailable"`). Also answered by
         *     `/health/readiness` while shutting down.
         */
        Unavailable: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-llmgate-attempts": components["headers"]["Attempts"];
                "server-timing": components["headers"]["ServerTiming"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Every target of model `gpt-4o-mini` is unavailable (circuit open); try again later.",
                 *         "type": "api_error",
                 *         "param": null,
                 *         "code": "service_unavailable"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /**
         * @description An error answered by the provider, relayed with the provider's status and body unchanged.
         *     OpenAI-compatible providers use the `ErrorBody` shape, but the body is whatever the provider sent.
         */
        UpstreamError: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-llmgate-provider": components["headers"]["Provider"];
                "x-llmgate-attempts": components["headers"]["Attempts"];
                "server-timing": components["headers"]["ServerTiming"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
    };
    parameters: {
        /** @description Page size, 1 to 500 (default 50). */
        Limit: number;
        /** @description The `next_cursor` of the previous page. */
        Cursor: string;
        /** @description The `etag` the change is based on; 412 when the object changed since. */
        IfMatch: string;
        /** @description The provider's name. */
        ProviderName: string;
        /** @description The model's public name (URL-encoded; patterns such as `claude-*` too). */
        ModelName: string;
        /** @description The project's id (`prj_...`). */
        ProjectId: string;
        /** @description The user's id (`usr_...`). */
        UserId: string;
        /** @description The key's id (`key_...`). */
        KeyId: string;
        /** @description Only providers of this kind. */
        ProviderKindFilter: string;
        /** @description Only models with a target on this provider. */
        ModelProviderFilter: string;
        /** @description Only those of this project. */
        ProjectIdFilter: string;
        /** @description Only those of this user. */
        UserIdFilter: string;
        /** @description Only users with this role. */
        RoleFilter: "admin" | "member";
        /** @description Only enabled (`true`) or disabled (`false`) keys. */
        EnabledFilter: "true" | "false";
        /** @description One series per key, project, user, model or provider (default `model`). */
        UsageGroupBy: "key" | "project" | "user" | "model" | "provider";
        /**
         * @description Start of the range: an RFC 3339 timestamp (`2026-05-01T12:00:00Z`, `…+02:00`: percent-encode the `+`), a date (`2026-05-01`, 00:00 UTC) or epoch seconds. Default: 24 hours before `to`. Rounded down to the start of its bucket.
         * @example 2026-05-01T00:00:00Z
         */
        UsageFrom: string;
        /** @description End of the range, exclusive, written like `from`. Default now. */
        UsageTo: string;
        /** @description Bucket width, UTC. Default from the span: up to 6 hours `minute`, up to 14 days `hour`, longer `day`. At most 1,500 buckets. */
        UsageInterval: "minute" | "hour" | "day";
        /** @description Groups answered as series of their own, 1 to 20 (default 10); the others are summed in `other`. */
        UsageLimit: number;
        /** @description Only this virtual key's requests (its id, `key_…`). */
        UsageKey: string;
        /** @description Only this project's requests (its id). */
        UsageProject: string;
        /** @description Only this user's requests (their id). */
        UsageUser: string;
        /** @description Only requests for this public model name. */
        UsageModel: string;
        /** @description Only requests served by this provider (its name). */
        UsageProvider: string;
        /**
         * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
         *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
         *     id (the request is not rejected).
         * @example req-2024-11-22.0001
         */
        RequestId: string;
    };
    requestBodies: never;
    headers: {
        /** @description The object's version (quoted `etag`); send it back in `If-Match` to change it safely. */
        ETag: string;
        /**
         * @description The request id: the client's `x-request-id` when it was acceptable, a generated one otherwise.
         *     Present on every response, including errors.
         */
        RequestId: string;
        /** @description The name of the configured provider that served the response (for example `mock`). */
        Provider: string;
        /**
         * @description How many attempts reached a provider for this request, across retries, failover and fallbacks
         *     (1 when the first target answered).
         */
        Attempts: number;
        /**
         * @description Where the request's time went, in milliseconds: `gateway;dur=…` the time the gateway itself
         *     added (from the request's arrival to this answer, or a stream's headers, less the time waiting
         *     on providers: auth, parsing, routing, limits, queueing and retry backoff included) and
         *     `upstream;dur=…` the time waiting on providers (every attempt, from its call to its answer; a
         *     stream's to its first content). The same figure is `llmgate_overhead_seconds` in `/metrics`.
         *     On every answer of the proxy endpoints that reached routing or limits, errors relayed from a
         *     provider and rate-limit refusals included.
         */
        ServerTiming: string;
        /** @description Whole seconds to wait before retrying (rounded up), on every 429 of a rate limit. */
        RetryAfter: number;
        /**
         * @description Sent on every response to a virtual key with request limits (its own or its project's): the
         *     tightest of `requests_per_minute` and the `requests_per_second` bucket (whose capacity is `burst`).
         */
        RateLimitLimitRequests: number;
        /** @description Requests left under the limit `x-ratelimit-limit-requests` names. */
        RateLimitRemainingRequests: number;
        /** @description Time until that limit is back to its initial state, as OpenAI writes it (`20ms`, `1s`, `6m0s`). */
        RateLimitResetRequests: string;
        /** @description The tightest `tokens_per_minute` that applies to the key (its own or its project's). */
        RateLimitLimitTokens: number;
        /** @description Tokens left in the current minute (reservations of requests in flight counted). */
        RateLimitRemainingTokens: number;
        /** @description Time until the token window resets (`20ms`, `1s`, `6m0s`). */
        RateLimitResetTokens: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    createChatCompletion: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ChatCompletionRequest"];
            };
        };
        responses: {
            /**
             * @description The completion. `application/json` for a regular request; `text/event-stream` when the request
             *     set `"stream": true`.
             */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    "x-llmgate-attempts": components["headers"]["Attempts"];
                    "server-timing": components["headers"]["ServerTiming"];
                    "x-ratelimit-limit-requests": components["headers"]["RateLimitLimitRequests"];
                    "x-ratelimit-remaining-requests": components["headers"]["RateLimitRemainingRequests"];
                    "x-ratelimit-reset-requests": components["headers"]["RateLimitResetRequests"];
                    "x-ratelimit-limit-tokens": components["headers"]["RateLimitLimitTokens"];
                    "x-ratelimit-remaining-tokens": components["headers"]["RateLimitRemainingTokens"];
                    "x-ratelimit-reset-tokens": components["headers"]["RateLimitResetTokens"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "chatcmpl-9x3b7c",
                     *       "object": "chat.completion",
                     *       "created": 1732300000,
                     *       "model": "gpt-4o-mini",
                     *       "choices": [
                     *         {
                     *           "index": 0,
                     *           "message": {
                     *             "role": "assistant",
                     *             "content": "Paris."
                     *           },
                     *           "finish_reason": "stop"
                     *         }
                     *       ],
                     *       "usage": {
                     *         "prompt_tokens": 21,
                     *         "completion_tokens": 2,
                     *         "total_tokens": 23
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["ChatCompletion"];
                    /**
                     * @example data: {"id":"chatcmpl-9x3b7c","object":"chat.completion.chunk","created":1732300000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                     *
                     *     data: {"id":"chatcmpl-9x3b7c","object":"chat.completion.chunk","created":1732300000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Paris."},"finish_reason":null}]}
                     *
                     *     data: {"id":"chatcmpl-9x3b7c","object":"chat.completion.chunk","created":1732300000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":2,"total_tokens":23}}
                     *
                     *     data: [DONE]
                     */
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["Overloaded"];
            502: components["responses"]["UpstreamUnreachable"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["UpstreamTimeout"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createCompletion: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "model": "gpt-3.5-turbo-instruct",
                 *       "prompt": "Once upon a time",
                 *       "max_tokens": 16
                 *     }
                 */
                "application/json": components["schemas"]["CompletionRequest"];
            };
        };
        responses: {
            /**
             * @description The completion. `application/json` for a regular request; `text/event-stream` when the request
             *     set `"stream": true`.
             */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    "x-llmgate-attempts": components["headers"]["Attempts"];
                    "server-timing": components["headers"]["ServerTiming"];
                    "x-ratelimit-limit-requests": components["headers"]["RateLimitLimitRequests"];
                    "x-ratelimit-remaining-requests": components["headers"]["RateLimitRemainingRequests"];
                    "x-ratelimit-reset-requests": components["headers"]["RateLimitResetRequests"];
                    "x-ratelimit-limit-tokens": components["headers"]["RateLimitLimitTokens"];
                    "x-ratelimit-remaining-tokens": components["headers"]["RateLimitRemainingTokens"];
                    "x-ratelimit-reset-tokens": components["headers"]["RateLimitResetTokens"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "cmpl-4f1a2b",
                     *       "object": "text_completion",
                     *       "created": 1732300000,
                     *       "model": "gpt-3.5-turbo-instruct",
                     *       "choices": [
                     *         {
                     *           "index": 0,
                     *           "text": " there was a gateway.",
                     *           "finish_reason": "stop",
                     *           "logprobs": null
                     *         }
                     *       ],
                     *       "usage": {
                     *         "prompt_tokens": 4,
                     *         "completion_tokens": 6,
                     *         "total_tokens": 10
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["TextCompletion"];
                    /**
                     * @example data: {"id":"cmpl-4f1a2b","object":"text_completion","created":1732300000,"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":" there was","finish_reason":null,"logprobs":null}]}
                     *
                     *     data: {"id":"cmpl-4f1a2b","object":"text_completion","created":1732300000,"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":" a gateway.","finish_reason":"stop","logprobs":null}]}
                     *
                     *     data: [DONE]
                     */
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["Overloaded"];
            502: components["responses"]["UpstreamUnreachable"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["UpstreamTimeout"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createEmbedding: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "model": "text-embedding-3-small",
                 *       "input": [
                 *         "The quick brown fox",
                 *         "jumps over the lazy dog"
                 *       ],
                 *       "dimensions": 8
                 *     }
                 */
                "application/json": components["schemas"]["EmbeddingRequest"];
            };
        };
        responses: {
            /** @description The embeddings, in input order. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    "x-llmgate-attempts": components["headers"]["Attempts"];
                    "server-timing": components["headers"]["ServerTiming"];
                    "x-ratelimit-limit-requests": components["headers"]["RateLimitLimitRequests"];
                    "x-ratelimit-remaining-requests": components["headers"]["RateLimitRemainingRequests"];
                    "x-ratelimit-reset-requests": components["headers"]["RateLimitResetRequests"];
                    "x-ratelimit-limit-tokens": components["headers"]["RateLimitLimitTokens"];
                    "x-ratelimit-remaining-tokens": components["headers"]["RateLimitRemainingTokens"];
                    "x-ratelimit-reset-tokens": components["headers"]["RateLimitResetTokens"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "object": "list",
                     *       "data": [
                     *         {
                     *           "object": "embedding",
                     *           "index": 0,
                     *           "embedding": [
                     *             0.12,
                     *             -0.03,
                     *             0.55,
                     *             0.01,
                     *             -0.2,
                     *             0.33,
                     *             0.07,
                     *             -0.41
                     *           ]
                     *         },
                     *         {
                     *           "object": "embedding",
                     *           "index": 1,
                     *           "embedding": [
                     *             0.02,
                     *             0.4,
                     *             -0.11,
                     *             0.28,
                     *             0.05,
                     *             -0.37,
                     *             0.19,
                     *             0.09
                     *           ]
                     *         }
                     *       ],
                     *       "model": "text-embedding-3-small",
                     *       "usage": {
                     *         "prompt_tokens": 10,
                     *         "total_tokens": 10
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["EmbeddingList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["Overloaded"];
            502: components["responses"]["UpstreamUnreachable"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["UpstreamTimeout"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createMessage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "model": "claude-sonnet",
                 *       "max_tokens": 256,
                 *       "system": "You are terse.",
                 *       "messages": [
                 *         {
                 *           "role": "user",
                 *           "content": "Say hello."
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["MessagesRequest"];
            };
        };
        responses: {
            /** @description The message, or its event stream (`text/event-stream`) with `stream: true`. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    "server-timing": components["headers"]["ServerTiming"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Message"];
                    "text/event-stream": string;
                };
            };
            /** @description An error in Anthropic's shape, with the status of the gateway's OpenAI-shaped one. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnthropicError"];
                };
            };
        };
    };
    countMessageTokens: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "model": "claude-sonnet",
                 *       "system": "You are terse.",
                 *       "messages": [
                 *         {
                 *           "role": "user",
                 *           "content": "Say hello."
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["MessagesCountTokensRequest"];
            };
        };
        responses: {
            /** @description The input tokens of the request. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "input_tokens": 14
                     *     }
                     */
                    "application/json": components["schemas"]["MessageTokensCount"];
                };
            };
            /** @description An error in Anthropic's shape, with the status of the gateway's OpenAI-shaped one. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnthropicError"];
                };
            };
        };
    };
    createResponse: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "model": "gpt-4o-mini",
                 *       "instructions": "You are terse.",
                 *       "input": "Say hello."
                 *     }
                 */
                "application/json": components["schemas"]["ResponsesRequest"];
            };
        };
        responses: {
            /** @description The Response object, or its event stream (`text/event-stream`) with `stream: true`. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    "server-timing": components["headers"]["ServerTiming"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResponseObject"];
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            default: components["responses"]["UpstreamError"];
        };
    };
    retrieveResponse: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Response object (with `stream=true`, its event stream). */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            default: components["responses"]["UpstreamError"];
        };
    };
    deleteResponse: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The deletion status. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            default: components["responses"]["UpstreamError"];
        };
    };
    cancelResponse: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Response object. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            default: components["responses"]["UpstreamError"];
        };
    };
    listResponseInputItems: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A list of input items. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createImage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description A public model name (a model of an openai or azure provider). */
                    model?: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The provider's answer (JSON, or its event stream with `stream: true`). */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createImageEdit: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description A public model name; its value is rewritten to the target's model, every other byte relayed. */
                    model: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The provider's answer. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createSpeech: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description A public model name (a model of an openai or azure provider). */
                    model?: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The audio (or the provider's JSON error). */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createTranscription: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description A public model name; its value is rewritten to the target's model, every other byte relayed. */
                    model: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The transcription (JSON, or text in the format asked for). */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                    "application/octet-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createTranslation: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description A public model name; its value is rewritten to the target's model, every other byte relayed. */
                    model: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The translation. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                    "application/octet-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createModeration: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description A public model name (a model of an openai or azure provider). */
                    model?: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The moderation results. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createRerank: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description A public model name (a model of an openai or azure provider). */
                    model?: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The ranked results. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    listFiles: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The provider's list. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createFile: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The file object. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    retrieveFile: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file object. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    deleteFile: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The deletion status. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    retrieveFileContent: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file's bytes. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    listBatches: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The provider's list. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    createBatch: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description The batch object. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    retrieveBatch: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The batch object. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    cancelBatch: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The batch object. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-llmgate-provider": components["headers"]["Provider"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["ModelNotAllowed"];
            404: components["responses"]["ModelNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            default: components["responses"]["UpstreamError"];
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The configured models. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "object": "list",
                     *       "data": [
                     *         {
                     *           "id": "gpt-4o-mini",
                     *           "object": "model",
                     *           "created": 1732300000,
                     *           "owned_by": "llmgate"
                     *         },
                     *         {
                     *           "id": "mock-chat",
                     *           "object": "model",
                     *           "created": 1732300000,
                     *           "owned_by": "llmgate"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["ModelList"];
                };
            };
            401: components["responses"]["Unauthorized"];
        };
    };
    retrieveModel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The public model name, as listed by `GET /v1/models`.
                 * @example gpt-4o-mini
                 */
                model: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "gpt-4o-mini",
                     *       "object": "model",
                     *       "created": 1732300000,
                     *       "owned_by": "llmgate"
                     *     }
                     */
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description The model id in the path is longer than `server.identifier_limit` (default 256 characters), has a malformed percent escape or is not UTF-8 (`param: "model"`). */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["ModelNotFound"];
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The gateway is up. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "version": "0.1.0",
                     *       "runtime": {
                     *         "name": "node",
                     *         "version": "24.21.0"
                     *       },
                     *       "models": 2,
                     *       "worker": {
                     *         "id": 0,
                     *         "count": 2
                     *       },
                     *       "config_version": 3,
                     *       "workers": [
                     *         {
                     *           "id": 0,
                     *           "config_version": 3
                     *         },
                     *         {
                     *           "id": 1,
                     *           "config_version": 3
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["HealthResponse"];
                };
            };
        };
    };
    getHealthDetailed: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The state of every target. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthDetailed"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The exposition. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example # HELP llmgate_requests_total Proxied requests, by configured model, provider, HTTP status and endpoint.
                     *     # TYPE llmgate_requests_total counter
                     *     llmgate_requests_total{model="gpt-4o",provider="openai",status="200",endpoint="chat"} 42
                     */
                    "text/plain": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
        };
    };
    getLiveness: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthProbe"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The gateway is ready to serve requests. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthProbe"];
                };
            };
            /** @description The gateway is shutting down and takes no new traffic. */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getDocs: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The HTML page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
    getOpenApi: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The OpenAPI version, `3.1.x`. */
                        openapi: string;
                        info: {
                            [key: string]: unknown;
                        };
                        paths: {
                            [key: string]: unknown;
                        };
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    adminListProviders: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 500 (default 50). */
                limit?: components["parameters"]["Limit"];
                /** @description The `next_cursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description Only providers of this kind. */
                kind?: components["parameters"]["ProviderKindFilter"];
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProviderPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminCreateProvider: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminProviderInput"];
            };
        };
        responses: {
            /** @description The provider as stored. */
            201: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProvider"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetProvider: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /** @description The provider's name. */
                name: components["parameters"]["ProviderName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The provider. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProvider"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminDeleteProvider: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The provider's name. */
                name: components["parameters"]["ProviderName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminDeleted"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminUpdateProvider: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The provider's name. */
                name: components["parameters"]["ProviderName"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminProviderInput"];
            };
        };
        responses: {
            /** @description The provider as stored. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProvider"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            412: components["responses"]["PreconditionFailed"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminDetectProvider: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /** @description The provider's name. */
                name: components["parameters"]["ProviderName"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["AdminProviderDetectInput"];
            };
        };
        responses: {
            /** @description The models and what each probed model answered. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProviderDetection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            422: components["responses"]["Unprocessable"];
            /** @description The provider's upstream could not be reached (`code: "upstream_unreachable"`) or refused its credentials (`code: "provider_error"`); the message names the provider. */
            502: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "message": "Provider `openai` refused the credentials: GET https://api.openai.com/v1/models answered 401 (check its api_key or auth).",
                     *         "type": "api_error",
                     *         "param": null,
                     *         "code": "provider_error"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The provider's model list did not answer within `timeout` (`code: "upstream_timeout"`). */
            504: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminListModels: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 500 (default 50). */
                limit?: components["parameters"]["Limit"];
                /** @description The `next_cursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description Only models with a target on this provider. */
                provider?: components["parameters"]["ModelProviderFilter"];
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminModelPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminCreateModel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminModelInput"];
            };
        };
        responses: {
            /** @description The model as stored. */
            201: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminModel"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetModel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /** @description The model's public name (URL-encoded; patterns such as `claude-*` too). */
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminModel"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminDeleteModel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The model's public name (URL-encoded; patterns such as `claude-*` too). */
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminDeleted"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminUpdateModel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The model's public name (URL-encoded; patterns such as `claude-*` too). */
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminModelInput"];
            };
        };
        responses: {
            /** @description The model as stored. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminModel"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            412: components["responses"]["PreconditionFailed"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminListProjects: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 500 (default 50). */
                limit?: components["parameters"]["Limit"];
                /** @description The `next_cursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProjectPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminCreateProject: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminProjectCreate"];
            };
        };
        responses: {
            /** @description The project as stored. */
            201: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProject"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetProject: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /** @description The project's id (`prj_...`). */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The project. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProject"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminDeleteProject: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The project's id (`prj_...`). */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminDeleted"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminUpdateProject: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The project's id (`prj_...`). */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminProjectUpdate"];
            };
        };
        responses: {
            /** @description The project as stored. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminProject"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminListUsers: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 500 (default 50). */
                limit?: components["parameters"]["Limit"];
                /** @description The `next_cursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description Only those of this project. */
                project_id?: components["parameters"]["ProjectIdFilter"];
                /** @description Only users with this role. */
                role?: components["parameters"]["RoleFilter"];
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUserPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminCreateUser: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminUserCreate"];
            };
        };
        responses: {
            /** @description The user as stored. */
            201: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetUser: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /** @description The user's id (`usr_...`). */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminDeleteUser: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The user's id (`usr_...`). */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminDeleted"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminUpdateUser: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The user's id (`usr_...`). */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminUserUpdate"];
            };
        };
        responses: {
            /** @description The user as stored. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminListKeys: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 500 (default 50). */
                limit?: components["parameters"]["Limit"];
                /** @description The `next_cursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description Only those of this project. */
                project_id?: components["parameters"]["ProjectIdFilter"];
                /** @description Only those of this user. */
                user_id?: components["parameters"]["UserIdFilter"];
                /** @description Only enabled (`true`) or disabled (`false`) keys. */
                enabled?: components["parameters"]["EnabledFilter"];
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminKeyPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminCreateKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminKeyCreate"];
            };
        };
        responses: {
            /** @description The key as stored. */
            201: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminKeyWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path: {
                /** @description The key's id (`key_...`). */
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminKey"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminDeleteKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The key's id (`key_...`). */
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminDeleted"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminUpdateKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The key's id (`key_...`). */
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AdminKeyUpdate"];
            };
        };
        responses: {
            /** @description The key as stored. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminKey"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminRotateKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
                /** @description The `etag` the change is based on; 412 when the object changed since. */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The key's id (`key_...`). */
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["AdminKeyRotate"];
            };
        };
        responses: {
            /** @description The key with its new secret. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminKeyWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            404: components["responses"]["AdminNotFound"];
            412: components["responses"]["PreconditionFailed"];
            422: components["responses"]["Unprocessable"];
            501: components["responses"]["NotImplemented"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetConfig: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The running config. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminEffectiveConfig"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
        };
    };
    adminReloadConfig: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Reloaded. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminReloaded"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            422: components["responses"]["Unprocessable"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetUsage: {
        parameters: {
            query?: {
                /** @description One series per key, project, user, model or provider (default `model`). */
                group_by?: components["parameters"]["UsageGroupBy"];
                /**
                 * @description Start of the range: an RFC 3339 timestamp (`2026-05-01T12:00:00Z`, `…+02:00`: percent-encode the `+`), a date (`2026-05-01`, 00:00 UTC) or epoch seconds. Default: 24 hours before `to`. Rounded down to the start of its bucket.
                 * @example 2026-05-01T00:00:00Z
                 */
                from?: components["parameters"]["UsageFrom"];
                /** @description End of the range, exclusive, written like `from`. Default now. */
                to?: components["parameters"]["UsageTo"];
                /** @description Bucket width, UTC. Default from the span: up to 6 hours `minute`, up to 14 days `hour`, longer `day`. At most 1,500 buckets. */
                interval?: components["parameters"]["UsageInterval"];
                /** @description Groups answered as series of their own, 1 to 20 (default 10); the others are summed in `other`. */
                limit?: components["parameters"]["UsageLimit"];
                /** @description Only this virtual key's requests (its id, `key_…`). */
                key?: components["parameters"]["UsageKey"];
                /** @description Only this project's requests (its id). */
                project?: components["parameters"]["UsageProject"];
                /** @description Only this user's requests (their id). */
                user?: components["parameters"]["UsageUser"];
                /** @description Only requests for this public model name. */
                model?: components["parameters"]["UsageModel"];
                /** @description Only requests served by this provider (its name). */
                provider?: components["parameters"]["UsageProvider"];
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UsageReport"];
                };
            };
            400: components["responses"]["UsageBadQuery"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            503: components["responses"]["Unavailable"];
        };
    };
    adminGetUsageGraph: {
        parameters: {
            query?: {
                /** @description One series per key, project, user, model or provider (default `model`). */
                group_by?: components["parameters"]["UsageGroupBy"];
                /**
                 * @description Start of the range: an RFC 3339 timestamp (`2026-05-01T12:00:00Z`, `…+02:00`: percent-encode the `+`), a date (`2026-05-01`, 00:00 UTC) or epoch seconds. Default: 24 hours before `to`. Rounded down to the start of its bucket.
                 * @example 2026-05-01T00:00:00Z
                 */
                from?: components["parameters"]["UsageFrom"];
                /** @description End of the range, exclusive, written like `from`. Default now. */
                to?: components["parameters"]["UsageTo"];
                /** @description Bucket width, UTC. Default from the span: up to 6 hours `minute`, up to 14 days `hour`, longer `day`. At most 1,500 buckets. */
                interval?: components["parameters"]["UsageInterval"];
                /** @description Groups answered as series of their own, 1 to 20 (default 10); the others are summed in `other`. */
                limit?: components["parameters"]["UsageLimit"];
                /** @description Only this virtual key's requests (its id, `key_…`). */
                key?: components["parameters"]["UsageKey"];
                /** @description Only this project's requests (its id). */
                project?: components["parameters"]["UsageProject"];
                /** @description Only this user's requests (their id). */
                user?: components["parameters"]["UsageUser"];
                /** @description Only requests for this public model name. */
                model?: components["parameters"]["UsageModel"];
                /** @description Only requests served by this provider (its name). */
                provider?: components["parameters"]["UsageProvider"];
                /** @description What the y axis shows (default `requests`); `tokens` is every kind summed, `cost` USD. */
                metric?: "requests" | "tokens" | "cost";
            };
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The chart. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'` */
                    "content-security-policy"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "image/svg+xml": string;
                };
            };
            400: components["responses"]["UsageBadQuery"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["AdminForbidden"];
            503: components["responses"]["Unavailable"];
        };
    };
    getUsagePage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description A client-chosen request id for tracing. Echoed in the response's `x-request-id` when it is 1 to
                 *     128 characters from `A-Z a-z 0-9 . _ -`; any other value is ignored and replaced by a generated
                 *     id (the request is not rejected).
                 * @example req-2024-11-22.0001
                 */
                "x-request-id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The HTML page. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description `default-src 'none'`, the page's own script and style by hash, `connect-src 'self'`, `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`. */
                    "content-security-policy"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
}
