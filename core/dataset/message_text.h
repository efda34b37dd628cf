// Small helpers for the messages of InvalidLine and CriteriaError: quote a piece of user data
// so a message stays short, single-line and valid UTF-8 (result files are JSON, and
// nlohmann::json::dump throws on invalid UTF-8), and describe a JSON value in a few words.
// Pure functions; used by the dataset area only.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace llmeval::dataset {

// `text` as a JSON string literal ("a\"b"), cut to at most `max_bytes` of input on a code point
// boundary with "..." appended when cut. Invalid UTF-8 is replaced, never copied.
std::string quote_for_message(std::string_view text, std::size_t max_bytes = 80);

// A value as shown after "got": strings quoted, numbers and booleans as written, and the
// type name for null, objects and arrays ("null", "object", "array").
std::string describe_value(const nlohmann::json& value);

// Byte offset of the first invalid UTF-8 sequence in `text` (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or npos when `text` is valid UTF-8.
std::size_t find_invalid_utf8(std::string_view text);

}  // namespace llmeval::dataset
