#include "core/provider/anthropic_provider.h"

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

namespace llmeval::provider {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "2023-06-01";

// Messages API body, written directly (see core/common/json_text.h for why not a json DOM):
// {"model"[,"system"],"messages":[...],"max_tokens","temperature"}. The system prompt is the
// top-level `system` field, not a message. The API has no JSON mode, so json_mode is left to
// the prompt.
std::string build_body(const CompletionRequest& request, const std::string& model) {
  std::size_t size = 128 + model.size() + request.system.size();
  for (const auto& message : request.messages) size += 32 + message.content.size();
  std::string body;
  body.reserve(size + size / 32);
  body += "{\"model\":";
  append_json_string(body, model);
  if (!request.system.empty()) {
    body += ",\"system\":";
    append_json_string(body, request.system);
  }
  body += ",\"messages\":[";
  bool first = true;
  for (const auto& message : request.messages) {
    if (!first) body += ',';
    first = false;
    body += "{\"role\":";
    append_json_string(body, message.role);
    body += ",\"content\":";
    append_json_string(body, message.content);
    body += '}';
  }
  body += "],\"max_tokens\":";
  append_json_number(body, static_cast<std::int64_t>(request.max_tokens));
  body += ",\"temperature\":";
  append_json_number(body, request.temperature);
  body += '}';
  return body;
}

// The reply's content is a list of blocks; the completion is the concatenated "text" blocks.
bool take_text(json& content, std::string& text) {
  if (!content.is_array()) return false;
  for (auto& block : content) {
    auto type = block.find("type");
    auto part = block.find("text");
    if (type == block.end() || *type != "text" || part == block.end() || !part->is_string()) continue;
    if (text.empty()) {
      text = std::move(part->get_ref<std::string&>());
    } else {
      text += part->get_ref<const std::string&>();
    }
  }
  return !text.empty();
}

Result<CompletionResponse> map_ok(const HttpResponse& response, const ProviderIdentity& identity) {
  json reply = json::parse(response.body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) return reply_not_json(response, identity.context());
  auto error = reply.find("error");
  if ((error != reply.end() && !error->is_null()) || reply.value("type", "") == "error") {
    return reply_with_error(reply, response.status, identity.context());
  }
  CompletionResponse out;
  auto content = reply.find("content");
  if (content == reply.end() || !take_text(*content, out.text)) {
    auto stop = reply.find("stop_reason");
    std::string why = stop != reply.end() && stop->is_string() ? "stop_reason " + stop->get<std::string>()
                                                                 : "no text block in content";
    return reply_without_text(why, response.status, identity.context());
  }
  out.model = take_model(reply, identity.model);
  if (auto usage = reply.find("usage"); usage != reply.end() && usage->is_object()) {
    // Prompt-cache reads and writes are input tokens too (they count against the TPM limit).
    out.usage.input = int_field(*usage, "input_tokens") + int_field(*usage, "cache_creation_input_tokens") +
                      int_field(*usage, "cache_read_input_tokens");
    out.usage.output = int_field(*usage, "output_tokens");
  }
  return out;
}

}  // namespace

std::unique_ptr<Provider> make_anthropic_provider(HttpClient& http, ProviderConfig config) {
  config.type = ProviderType::kAnthropic;
  apply_type_defaults(config);
  WireFormat wire{"/v1/messages", {}, &build_body, &map_ok};
  wire.headers.emplace_back("content-type", "application/json");
  wire.headers.emplace_back("anthropic-version", kApiVersion);
  if (!config.api_key.empty()) wire.headers.emplace_back("x-api-key", config.api_key);
  return make_json_api_provider(http, config, std::move(wire));
}

}  // namespace llmeval::provider
