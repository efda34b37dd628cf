// The HTML report's stylesheet and script, from core/report/assets/ (embedded at build time by
// embed_assets.cmake), inlined verbatim into every report.
#pragma once

#include <string_view>

namespace llmeval::report {

extern const std::string_view kReportCss;
extern const std::string_view kReportJs;

}  // namespace llmeval::report
