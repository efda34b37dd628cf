// Provider: one judge model behind one API (OpenAI-compatible, Anthropic, or the offline sim).
//
// complete() never blocks; the callback receives Result<CompletionResponse> exactly once on the
// loop thread and may run before complete() returns. Errors are classified by kind:
//   kAuth (401/403), kRateLimited (429, retry_after from the headers when given),
//   kServer (5xx, 529, a 200 whose body is not a completion, a body over the size cap),
//   kBadRequest (other 4xx),
//   kTimeout / kConnect / kIo (transport, from the HttpClient).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace llmeval::provider {

struct ChatMessage {
  std::string role;  // "user" or "assistant" (the system prompt is separate)
  std::string content;
};

struct CompletionRequest {
  std::string system;                 // system prompt (may be empty)
  std::vector<ChatMessage> messages;  // conversation; a repair attempt appends turns
  int max_tokens = 256;
  double temperature = 0.0;
  bool json_mode = true;  // ask for a JSON object where the API supports it
  std::chrono::milliseconds timeout{5000};
  // The score range the judge was asked for. Real providers ignore it; the offline `sim`
  // judge uses it to answer in range without parsing the prompt.
  int score_min = 1;
  int score_max = 5;
};

struct TokenUsage {
  std::int64_t input = 0;
  std::int64_t output = 0;
};

struct CompletionResponse {
  std::string text;   // the assistant's reply text
  std::string model;  // the model that answered, as the API reports it
  TokenUsage usage;
  bool simulated = false;  // true only for the sim provider
  // Set when the provider's rate-limit headers say its budget is used up: how long until it
  // refills. The caller should hold every call to this provider back that long.
  std::optional<std::chrono::milliseconds> exhausted_for;
};

using CompletionCallback = std::function<void(Result<CompletionResponse>)>;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;   // config name, e.g. "primary" or "sim"
  virtual const std::string& model() const = 0;  // configured model
  virtual void complete(const CompletionRequest& request, CompletionCallback callback) = 0;
};

}  // namespace llmeval::provider
