// parse_json: text -> nlohmann::json, fast. simdjson parses (with SIMD, at GB/s, where
// nlohmann's lexer reads a character at a time: ~8 ms for a 1 MB row against ~0.3 ms) and the
// result is copied into a nlohmann::json, which the rest of llmeval works with.
//
// Whatever simdjson refuses (syntax errors, invalid UTF-8, integers beyond 64 bits, nesting
// deeper than 1024) goes to nlohmann's own parser, so callers see exactly the values and
// errors json::parse gives: it throws nlohmann::json::exception on bad input. Numbers follow
// nlohmann's typing (non-negative integers are unsigned). The simdjson parser is reused per
// thread, so this is safe to call from any thread.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace llmeval {

nlohmann::json parse_json(std::string_view text);

}  // namespace llmeval
