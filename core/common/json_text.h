// Fast JSON text building for the hot path (request bodies, result lines). nlohmann::json's
// serializer validates and escapes byte by byte through a UTF-8 state machine; these helpers
// copy runs of safe bytes in bulk, which matters at thousands of rows per second.
// Invalid UTF-8 (say, a provider's error body cut mid-character) becomes U+FFFD, so the output
// is always valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmeval {

// Appends text as a quoted JSON string: ", \ and control characters escaped.
void append_json_string(std::string& out, std::string_view text);
// Appends a number in its shortest round-trip form; NaN and infinities become null.
void append_json_number(std::string& out, double value);
void append_json_number(std::string& out, std::int64_t value);
// The same number as a string.
std::string json_number(double value);

}  // namespace llmeval
