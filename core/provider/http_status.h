// Mapping a provider API's HTTP reply to an Error, shared by the OpenAI and Anthropic providers:
// status -> ErrorKind, Retry-After parsing, the vendor's own error message, and the kServer
// errors for a 2xx reply that is not a completion. Pure functions; time is passed in.
//
// Every message leads with "provider NAME" and never contains the API key: vendor text is
// scrubbed of it (some APIs echo keys back) and the Authorization header is never read.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/provider/http_client.h"

namespace llmeval::provider {

// Who answered, for messages. Views must outlive the call.
struct ReplyContext {
  std::string_view provider;     // config name: "primary"
  std::string_view api_key_env;  // named in kAuth messages ("check OPENAI_API_KEY")
  std::string_view api_key;      // scrubbed from vendor text; never printed
};

// Longest vendor message kept in an Error, in bytes (cut on a UTF-8 boundary, "..." appended).
inline constexpr std::size_t kMaxVendorMessage = 200;

// 401/403 kAuth, 408 kTimeout, 429 kRateLimited, 5xx (including Anthropic's 529) kServer,
// other 4xx and 3xx (a redirect means base_url is wrong) kBadRequest, anything else kServer.
ErrorKind kind_for_status(long status);

// How long the server asked us to wait: `retry-after-ms` (OpenAI, milliseconds), else
// `retry-after` as seconds (fractions allowed) or an HTTP-date, measured against the reply's
// own `date` header when present (immune to local clock skew), else against `now`.
// Never negative, capped at 24 h. nullopt when absent or unparseable.
std::optional<std::chrono::milliseconds> parse_retry_after(const HttpResponse& response,
                                                           std::chrono::system_clock::time_point now);

// The vendor's human-readable message from an error body: error.message (OpenAI, Anthropic),
// error as a string (Ollama), message (vLLM), detail (FastAPI servers), else the raw body; an
// HTML page (a proxy's or gateway's "502 Bad Gateway") is summarized as its title and text.
// `secret` is scrubbed out before the cut. Whitespace runs collapse to one space; cut to
// kMaxVendorMessage. Empty for an empty body.
std::string vendor_error_message(std::string_view body, std::string_view secret = {});
std::string vendor_message_from_json(const nlohmann::json& body, std::string_view secret = {});

// Replaces every occurrence of `secret` (when non-empty) with "[redacted]".
std::string scrub_secret(std::string text, std::string_view secret);

// The Error for a non-2xx reply, e.g. kAuth "provider primary rejected the API key (HTTP 401):
// Incorrect API key provided; check OPENAI_API_KEY". retry_after is set whenever the reply
// carries a Retry-After (429, and some 503s).
Error error_from_status(const HttpResponse& response, const ReplyContext& context,
                        std::chrono::system_clock::time_point now);

// kServer errors for a 2xx reply that is not a usable completion.
Error reply_not_json(const HttpResponse& response, const ReplyContext& context);
Error reply_with_error(const nlohmann::json& reply, long status, const ReplyContext& context);
Error reply_without_text(std::string_view why, long status, const ReplyContext& context);

}  // namespace llmeval::provider
