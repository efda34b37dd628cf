// Parses human durations for flags and config: "5s", "800ms", "2m", "1.5s", "12h", "30d". A
// bare number is milliseconds. Pure; returns nullopt for anything else (negative, empty,
// unknown unit).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace llmeval {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace llmeval
