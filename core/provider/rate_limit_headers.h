// Reads a provider's own rate-limit headers: when they say a budget is used up, how long until
// it refills, so every call to that provider can hold back before the provider answers 429.
//   OpenAI: x-ratelimit-remaining-{requests,tokens} = 0 with x-ratelimit-reset-{requests,tokens}
//     as a Go-style duration ("1s", "6m0s", "20ms", "1h2m3.5s").
//   Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining = 0
//     with ...-reset as an RFC 3339 time ("2024-01-01T00:00:30Z"), measured against `now`.
// Pure; the longest wait of the exhausted budgets, capped at one hour; nullopt when none is.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/provider/http_client.h"

namespace llmeval::provider {

std::optional<std::chrono::milliseconds> rate_limit_exhausted_for(const HttpResponse& response,
                                                                 std::chrono::system_clock::time_point now);

// "1h2m3.5s", "6m0s", "20ms", "0.5s" -> milliseconds; nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text);

// "2024-01-01T00:00:30Z" or with an offset / fraction -> time point; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace llmeval::provider
