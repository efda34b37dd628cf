#include "core/provider/openai_provider.h"

#include <cctype>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/provider/http_status.h"
#include "core/provider/json_api_provider.h"
#include "core/common/json_text.h"
#include "core/provider/model_families.h"

namespace llmeval::provider {
namespace {

using nlohmann::json;

// Percent-encodes what may not stand in a URL path segment or query value as it is.
std::string url_path_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Chat Completions body, written directly (see core/common/json_text.h for why not a json DOM):
// {"model","messages":[system first, then the turns][,"temperature"],"max_tokens" or
// "max_completion_tokens"[,"reasoning_effort"][,"response_format"]}.
std::string build_body(const CompletionRequest& request, const RequestShape& shape, const std::string& model) {
  std::size_t size = 512 + model.size() + request.system.size();
  for (const auto& message : request.messages) size += 32 + message.content.size();
  std::string body;
  body.reserve(size + size / 32);
  body += "{\"model\":";
  append_json_string(body, model);
  body += ",\"messages\":[";
  bool first = true;
  auto append_message = [&](std::string_view role, std::string_view content) {
    if (!first) body += ',';
    first = false;
    body += "{\"role\":";
    append_json_string(body, role);
    body += ",\"content\":";
    append_json_string(body, content);
    body += '}';
  };
  if (!request.system.empty()) append_message("system", request.system);
  for (const auto& message : request.messages) append_message(message.role, message.content);
  body += ']';
  if (shape.temperature) {
    body += ",\"temperature\":";
    append_json_number(body, *shape.temperature);
  }
  body += shape.token_param == TokenParam::kMaxTokens ? ",\"max_tokens\":" : ",\"max_completion_tokens\":";
  append_json_number(body, static_cast<std::int64_t>(shape.cap_for(request.max_tokens, request.cap_scale)));
  if (!shape.reasoning_effort.empty()) {
    body += ",\"reasoning_effort\":";
    append_json_string(body, shape.reasoning_effort);
  }
  if (shape.json_mode == JsonMode::kSchema) {
    body += R"(,"response_format":{"type":"json_schema","json_schema":{"name":"verdict","strict":true,"schema":)";
    append_verdict_schema(body, request);
    body += "}}";
  } else if (shape.json_mode == JsonMode::kObject) {
    body += R"(,"response_format":{"type":"json_object"})";
  }
  body += '}';
  return body;
}

// content is a string; some compatible servers send an array of {"type": "text", "text"} parts.
bool take_content(json& content, std::string& text) {
  if (content.is_string()) {
    text = std::move(content.get_ref<std::string&>());
  } else if (content.is_array()) {
    for (auto& part : content) {
      auto it = part.find("text");
      if (it != part.end() && it->is_string()) text += it->get_ref<const std::string&>();
    }
  }
  return !text.empty();
}

// Why a 200 carried no text, for the message: a refusal, or the finish_reason.
std::string why_no_text(const json& choice) {
  if (auto message = choice.find("message"); message != choice.end() && message->is_object()) {
    if (auto refusal = message->find("refusal"); refusal != message->end() && refusal->is_string()) {
      return "refused: " + refusal->get<std::string>();
    }
  }
  if (auto reason = choice.find("finish_reason"); reason != choice.end() && reason->is_string()) {
    return "finish_reason " + reason->get<std::string>();
  }
  return "no choices[0].message.content";
}

Result<CompletionResponse> map_ok(const HttpResponse& response, const ProviderIdentity& identity) {
  json reply = json::parse(response.body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) return reply_not_json(response, identity.context());
  if (auto error = reply.find("error"); error != reply.end() && !error->is_null()) {
    return reply_with_error(reply, response.status, identity.context());
  }
  CompletionResponse out;
  auto choices = reply.find("choices");
  json* choice = choices != reply.end() && choices->is_array() && !choices->empty() ? &choices->front() : nullptr;
  json* content = nullptr;
  if (choice != nullptr && choice->is_object()) {
    auto message = choice->find("message");
    if (message != choice->end() && message->is_object()) {
      auto it = message->find("content");
      if (it != message->end()) content = &*it;
    }
    // A reasoning model that spent its cap thinking answers 200 with empty content and
    // "length": a completion cut off by the cap, not a broken reply.
    auto finish = choice->find("finish_reason");
    out.truncated = finish != choice->end() && finish->is_string() && *finish == "length";
  }
  bool has_text = content != nullptr && take_content(*content, out.text);
  if (!has_text && !out.truncated) {
    return reply_without_text(choice != nullptr ? why_no_text(*choice) : "no choices", response.status,
                              identity.context());
  }
  out.model = take_model(reply, identity.model);
  if (auto usage = reply.find("usage"); usage != reply.end() && usage->is_object()) {
    // cached_tokens are part of prompt_tokens, reasoning_tokens part of completion_tokens.
    out.usage.input = int_field(*usage, "prompt_tokens");
    out.usage.output = int_field(*usage, "completion_tokens");
    out.usage.cached_input = nested_int_field(*usage, "prompt_tokens_details", "cached_tokens");
    out.usage.reasoning = nested_int_field(*usage, "completion_tokens_details", "reasoning_tokens");
  }
  return out;
}

WireFormat wire_format(std::string url) {
  WireFormat wire{std::move(url), {}, &build_body, &map_ok, WireFormat::Batch::kNone, {}, {}};
  wire.headers.emplace_back("Content-Type", "application/json");
  return wire;
}

}  // namespace

std::unique_ptr<Provider> make_openai_provider(HttpClient& http, ProviderConfig config, AdaptationStore* store) {
  config.type = ProviderType::kOpenAI;
  apply_type_defaults(config);
  WireFormat wire = wire_format(config.base_url + "/chat/completions");
  // The Batch API's input line names the endpoint as POST /v1/batches's `endpoint` does.
  wire.batch = WireFormat::Batch::kOpenAiLine;
  wire.batch_url = "/v1/chat/completions";
  // Local OpenAI-compatible servers (vLLM, Ollama) often run without a key. Azure's /openai/v1
  // API takes the OpenAI body but its keys in `api-key`.
  if (!config.api_key.empty()) {
    if (is_azure_host(config.base_url)) {
      wire.headers.emplace_back("api-key", config.api_key);
    } else {
      wire.headers.emplace_back("Authorization", "Bearer " + config.api_key);
    }
  }
  return make_json_api_provider(http, config, std::move(wire), store);
}

std::unique_ptr<Provider> make_azure_provider(HttpClient& http, ProviderConfig config, AdaptationStore* store) {
  config.type = ProviderType::kAzure;
  apply_type_defaults(config);
  WireFormat wire = wire_format(config.base_url + "/openai/deployments/" + url_path_escape(config.deployment) +
                                "/chat/completions?api-version=" + url_path_escape(config.api_version));
  // Global Batch (core/batch/openai_batch_api.cpp sends it): a line names the chat completions
  // endpoint as the batch's `endpoint` does, "/chat/completions", and its body's "model" is the
  // global-batch deployment's name, not the model behind it ("The `model` attribute must be set
  // to match the name of the Global Batch deployment ... The same Global Batch model deployment
  // name must be present on each line": Microsoft Learn, Azure OpenAI, Getting started with
  // batch deployments; MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/includes/batch/
  // batch-python.md, whose lines are {"custom_id", "method": "POST", "url": "/chat/completions",
  // "body": {"model": "REPLACE-WITH-MODEL-DEPLOYMENT-NAME", "messages": [...]}}).
  wire.batch = WireFormat::Batch::kOpenAiLine;
  wire.batch_url = "/chat/completions";
  wire.batch_model = config.deployment;
  if (!config.api_key.empty()) wire.headers.emplace_back("api-key", config.api_key);
  return make_json_api_provider(http, config, std::move(wire), store);
}

}  // namespace llmeval::provider
