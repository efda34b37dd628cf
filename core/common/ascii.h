// Case folding for protocol text (header names, provider types, model ids, URL schemes, verdict
// words): ASCII only, whatever the process locale, so "İ" or a Turkish locale never changes
// what matches.
#pragma once

#include <string>
#include <string_view>

namespace llmeval {

char ascii_lower(char c);
std::string ascii_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);  // equal ignoring ASCII case
bool istarts_with(std::string_view text, std::string_view prefix);

}  // namespace llmeval
