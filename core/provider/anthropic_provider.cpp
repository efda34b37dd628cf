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
// {"model"[,"system"],"messages":[...],"max_tokens"[,"temperature"][,"output_config"]}. The
// system prompt is the top-level `system` field, not a message; it holds the stable part of
// the judge prompt, so when it is long enough for the model's cache it goes as one text block
// marked cache_control ephemeral. output_config carries the structured-output format (json_schema)
// and the effort (Anthropic's reasoning_effort).
std::string build_body(const CompletionRequest& request, const RequestShape& shape, const std::string& model) {
  std::size_t size = 512 + model.size() + request.system.size();
  for (const auto& message : request.messages) size += 32 + message.content.size();
  std::string body;
  body.reserve(size + size / 32);
  body += "{\"model\":";
  append_json_string(body, model);
  if (!request.system.empty()) {
    // ~4 characters a token, the vendors' own rough rule.
    bool cache = shape.prompt_cache && request.system.size() / 4 >= static_cast<std::size_t>(shape.min_cache_tokens);
    body += cache ? R"(,"system":[{"type":"text","text":)" : ",\"system\":";
    append_json_string(body, request.system);
    if (cache) body += R"(,"cache_control":{"type":"ephemeral"}}])";
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
  append_json_number(body, static_cast<std::int64_t>(shape.cap_for(request.max_tokens, request.cap_scale)));
  if (shape.temperature) {
    body += ",\"temperature\":";
    append_json_number(body, *shape.temperature);
  }
  bool schema = shape.json_mode == JsonMode::kSchema;
  if (schema || !shape.reasoning_effort.empty()) {
    body += ",\"output_config\":{";
    if (schema) {
      body += R"("format":{"type":"json_schema","schema":)";
      append_verdict_schema(body, request);
      body += '}';
    }
    if (!shape.reasoning_effort.empty()) {
      if (schema) body += ',';
      body += "\"effort\":";
      append_json_string(body, shape.reasoning_effort);
    }
    body += '}';
  }
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
  auto stop = reply.find("stop_reason");
  out.truncated = stop != reply.end() && stop->is_string() && *stop == "max_tokens";
  auto content = reply.find("content");
  bool has_text = content != reply.end() && take_text(*content, out.text);
  if (!has_text && !out.truncated) {
    std::string why = stop != reply.end() && stop->is_string() ? "stop_reason " + stop->get<std::string>()
                                                                 : "no text block in content";
    return reply_without_text(why, response.status, identity.context());
  }
  out.model = take_model(reply, identity.model);
  if (auto usage = reply.find("usage"); usage != reply.end() && usage->is_object()) {
    // input_tokens leaves out prompt-cache reads and writes; they are input tokens too (they
    // count against the TPM limit), priced apart.
    out.usage.cached_input = int_field(*usage, "cache_read_input_tokens");
    out.usage.cache_write = int_field(*usage, "cache_creation_input_tokens");
    out.usage.input = int_field(*usage, "input_tokens") + out.usage.cached_input + out.usage.cache_write;
    out.usage.output = int_field(*usage, "output_tokens");
  }
  return out;
}

}  // namespace

std::unique_ptr<Provider> make_anthropic_provider(HttpClient& http, ProviderConfig config, AdaptationStore* store) {
  config.type = ProviderType::kAnthropic;
  apply_type_defaults(config);
  WireFormat wire{config.base_url + "/v1/messages", {}, &build_body, &map_ok, {}, {}, {}};
  wire.batch = WireFormat::Batch::kAnthropicParams;
  wire.headers.emplace_back("content-type", "application/json");
  wire.headers.emplace_back("anthropic-version", kApiVersion);
  if (!config.api_key.empty()) wire.headers.emplace_back("x-api-key", config.api_key);
  return make_json_api_provider(http, config, std::move(wire), store);
}

}  // namespace llmeval::provider
