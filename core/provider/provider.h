// Provider: one judge model behind one API (OpenAI-compatible, Anthropic, or the offline sim).
//
// complete() never blocks; the callback receives Result<CompletionResponse> exactly once on the
// loop thread and may run before complete() returns. Errors are classified by kind:
//   kAuth (401/403), kRateLimited (429, retry_after from the headers when given),
//   kServer (5xx, 529, a 200 whose body is not a completion, a body over the size cap; a reply
//     cut off by the token cap is a completion with `truncated` set, even when its text is empty),
//   kBadRequest (other 4xx),
//   kTimeout / kConnect / kIo (transport, from the HttpClient).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/error.h"

namespace llmeval::provider {

struct ChatMessage {
  std::string role;  // "user" or "assistant" (the system prompt is separate)
  std::string content;
};

// The provider decides the rest of the body (temperature, token-cap field, structured output,
// reasoning effort, caching) from its RequestShape.
struct CompletionRequest {
  // System prompt (may be empty). The judge puts everything that is the same for every row of
  // a criterion here, so that providers' prompt caches can serve it as a prefix.
  std::string system;
  std::vector<ChatMessage> messages;  // conversation; a repair attempt appends turns
  int max_tokens = 256;  // the judge's cap; a provider may raise it (reasoning models)
  int cap_scale = 1;     // 2 on the one retry of a reply cut off by the cap
  std::chrono::milliseconds timeout{5000};  // per attempt, unless the provider has its own
  // The verdict's score range: real providers put it in the structured-output schema; the
  // offline `sim` judge answers in it without parsing the prompt.
  int score_min = 1;
  int score_max = 5;
  // A pairwise comparison: the verdict is {"reason", "winner": "A" | "B" | "tie"} instead of a
  // score (its schema says so); score_min..max is then 0..2, the winner's code
  // (judge::Shown).
  bool pairwise = false;
  // run --batch: the judge call's custom_id (core/batch/custom_id.h), so that a batch's result
  // can answer it; empty otherwise. Never part of the body or the cache identity.
  std::string custom_id;
};

// What a call used, as the API reports it. `input` counts every input token, cache reads and
// writes included (they all count against a TPM limit); `output` every output token, reasoning
// included. The details say how much of those was priced differently.
struct TokenUsage {
  std::int64_t input = 0;
  std::int64_t output = 0;
  std::int64_t cached_input = 0;  // of input: read from the provider's prompt cache
  std::int64_t cache_write = 0;   // of input: written to the prompt cache (Anthropic)
  std::int64_t reasoning = 0;     // of output: reasoning ("thinking") tokens, where reported
};

struct CompletionResponse {
  std::string text;   // the assistant's reply text
  std::string model;  // the model that answered, as the API reports it
  TokenUsage usage;
  bool simulated = false;  // true only for the sim provider
  // The reply stopped at the token cap (finish_reason "length", stop_reason "max_tokens"); its
  // text may be empty or cut.
  bool truncated = false;
  // Set when the provider's rate-limit headers say its budget is used up: how long until it
  // refills. The caller should hold every call to this provider back that long.
  std::optional<std::chrono::milliseconds> exhausted_for;
  // The reply's rate-limit headers (x-ratelimit-*, anthropic-ratelimit-*), for `llmeval probe`.
  std::vector<std::pair<std::string, std::string>> rate_limit_headers;
  // run --batch: the provider batch that answered (its id), or why a call meant for a batch
  // was answered online instead (the batch expired, the request errored in it, a repair).
  std::string batch_id;
  std::string batch_fallback;
};

using CompletionCallback = std::function<void(Result<CompletionResponse>)>;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;   // config name, e.g. "primary" or "sim"
  virtual const std::string& model() const = 0;  // configured model
  virtual void complete(const CompletionRequest& request, CompletionCallback callback) = 0;
  // The structured-output mode it uses now ("schema", "object", "off"), and what it changed at
  // run time because the API refused a part of its requests (for `llmeval probe`).
  virtual std::string json_mode() const { return "off"; }
  virtual std::vector<std::string> adaptations() const { return {}; }
  // What determines this provider's answer to `request`, for the judge cache's key: for the HTTP
  // APIs the endpoint URL, the model and the exact body it would send now (messages,
  // temperature, token cap, schema, reasoning effort). Never the API key. Empty: not cached
  // (the offline sim judge, which costs nothing).
  virtual std::string request_identity(const CompletionRequest& /*request*/) const { return {}; }
  // The output tokens `request` may cost at most: the cap this provider would send for it
  // (its own max_tokens, a reasoning model's minimum, doubled on a cut-off reply's retry).
  virtual int token_cap(const CompletionRequest& request) const {
    return request.max_tokens * (request.cap_scale > 1 ? request.cap_scale : 1);
  }

  // True when complete(request) will be answered by what was already paid for (a provider
  // batch's result, run --batch): the caller then reserves nothing for it (--max-cost counted
  // it when the batch was submitted).
  virtual bool prepaid(const CompletionRequest& /*request*/) const { return false; }

  // Batch APIs (run --batch; core/batch). `request` as one element of a batch under custom_id,
  // with the body an online call would send now: an OpenAI batch input line {"custom_id",
  // "method": "POST", "url": "/v1/chat/completions", "body"} (Azure: "url" "/chat/completions"
  // and the deployment as the body's "model"), or an Anthropic Message Batches requests[]
  // element {"custom_id", "params"}. Empty: this provider has no batch API.
  virtual std::string batch_request(const CompletionRequest& /*request*/, std::string_view /*custom_id*/) const {
    return {};
  }
  // One batch result's body (the chat completion or message the online call would have had)
  // mapped exactly as an online 2xx reply is: text, model, usage, truncation.
  virtual Result<CompletionResponse> batch_result(std::string body) const {
    (void)body;
    return Error{ErrorKind::kBadRequest, "provider " + name() + " has no batch API"};
  }
};

}  // namespace llmeval::provider
