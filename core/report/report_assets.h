// The HTML report's stylesheet and script, from core/report/assets/ (embedded at build time by
// embed_assets.cmake), inlined verbatim into every report.
#pragma once

#include <string_view>

namespace llmeval::report {

extern const std::string_view kReportCss;
extern const std::string_view kReportJs;
// SHA-256 of kReportJs in hex, for the page's Content-Security-Policy.
extern const std::string_view kReportJsSha256Hex;

}  // namespace llmeval::report
