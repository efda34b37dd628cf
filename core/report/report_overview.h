// ReportOverview: everything the HTML report shows, gathered by html_report.cpp in one pass over
// a results file, and read by the page's sections (report_sections.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/output/summary.h"
#include "core/report/paired_comparison.h"
#include "core/report/report_stats.h"
#include "core/report/run_comparison.h"

namespace llmeval::report {

struct ReportOverview {
  output::Summary summary;
  ReportStats stats;
  std::unique_ptr<RunComparison> comparison;  // with --compare
  std::unique_ptr<PairedComparison> paired;   // with --compare: the statistics of `llmeval compare`
  nlohmann::json summary_json;                // summary.to_json(), docs/formats.md §4
  nlohmann::json budget;                      // ReportOptions::budget
  std::int64_t rows = 0;
  std::string row_data;  // the rows for report.js, gzip+base64 (~40 bytes a row), written last
};

}  // namespace llmeval::report
