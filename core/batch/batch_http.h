// What the batch clients (openai_batch_api.cpp, anthropic_batch_api.cpp) share about talking to
// a batch endpoint over a provider::HttpClient: each API's request headers, a call whose JSON
// reply is mapped the way a provider maps one (non-2xx statuses through http_status.h), a
// download streamed to a file, and appending one downloaded file to another.
//
// An Endpoint is held by shared_ptr by every call in flight, so a reply that arrives after its
// BatchApi was destroyed still maps safely. Messages lead with "provider NAME" and never carry
// the API key (vendor text is scrubbed of it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/provider/http_client.h"
#include "core/provider/http_status.h"
#include "core/provider/provider_config.h"

namespace llmeval::batch {

// A call about a batch or a file object: small JSON both ways.
inline constexpr std::chrono::milliseconds kCallTimeout{60'000};
// An upload or a download of a whole file: up to a few hundred MB.
inline constexpr std::chrono::milliseconds kTransferTimeout{60 * 60'000};

struct Endpoint {
  provider::HttpClient* http = nullptr;
  provider::ProviderConfig config;  // api_key is a secret: never in messages
  provider::Headers headers;        // sent with every call: auth, version, config.headers
  provider::ReplyContext context() const { return {config.name, config.api_key_env, config.api_key}; }
};

// OpenAI's: `Authorization: Bearer KEY`, or `api-key: KEY` for an Azure provider or an Azure
// host, as openai_provider.cpp sends them; then config.headers. No key: no auth header (local servers).
provider::Headers openai_headers(const provider::ProviderConfig& config);
// Anthropic's: x-api-key and anthropic-version 2023-06-01, as anthropic_provider.cpp sends them;
// then config.headers.
provider::Headers anthropic_headers(const provider::ProviderConfig& config);

// Sends `request` with the endpoint's headers added. A 2xx reply that is a JSON object comes back
// parsed; a non-2xx reply as error_from_status gives it (401 kAuth, 429 kRateLimited, ...); a
// 2xx that is not a JSON object as kServer naming `what` ("the batch"); transport errors as
// they are.
using JsonCallback = std::function<void(Result<nlohmann::json>)>;
void call_json(const std::shared_ptr<const Endpoint>& endpoint, provider::HttpRequest request, std::string what,
               JsonCallback done);

// GETs url into path (created or truncated) with the endpoint's headers and `extra` ones; the
// bytes written once the file holds the whole body. Errors as call_json's.
using SizeCallback = std::function<void(Result<std::int64_t>)>;
void download_to_file(const std::shared_ptr<const Endpoint>& endpoint, std::string url, provider::Headers extra,
                      std::string path, SizeCallback done);

// Appends the file `from` to `to` in chunks, then removes `from`; the bytes appended. kIo on a
// read or write failure.
Result<std::int64_t> append_and_remove(const std::string& from, const std::string& to);

// Percent-encodes all but the unreserved characters, for an id in a URL path.
std::string path_escape(std::string_view text);

// object[field] when it is a string, else empty (ids that are null until there are any).
std::string string_field(const nlohmann::json& object, const char* field);
// object[field] when it is an integer, else 0.
std::int64_t count_field(const nlohmann::json& object, const char* field);

}  // namespace llmeval::batch
