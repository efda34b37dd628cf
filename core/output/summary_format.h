// Formatting the summary and its parts (label agreement, jury agreement, pairwise) share: a
// number that may be undefined as JSON (null, never 0), and fixed decimals for the table.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace llmeval::output {

inline nlohmann::json optional_number(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

inline std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace llmeval::output
