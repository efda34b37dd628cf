// Reading back what the HTML report embeds: the gzip+base64 row data of <script id="report-data">,
// decoded with zlib as the browser's atob() and DecompressionStream("gzip") would.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace llmeval::testing {

// Base64 text (no line breaks) to bytes; throws std::runtime_error on a bad character.
std::string base64_decode(std::string_view text);
// A whole gzip stream to its bytes; throws std::runtime_error when it is not one.
std::string gunzip(std::string_view bytes);
// The JSON inside the report's data element; throws when the page has none.
nlohmann::json report_data(const std::string& html);

}  // namespace llmeval::testing
