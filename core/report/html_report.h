// The HTML report (llmeval report RESULTS -o report.html): one self-contained file with no
// network access when opened. Its headline numbers, charts and tables are written as HTML and
// inline SVG here; the rows go in gzip+base64 into a <script> element, and the embedded
// report.js (assets/) builds the searchable, paginated row table from them in the browser.
//
// One streaming pass over the results file gathers the Summary, ReportStats and the comparison
// and compresses the rows as it goes. Memory: the compressed rows (~40 bytes a row), the
// dataset's prompt and output texts (each cut to max_text_bytes) when a dataset is given, and
// ~100 bytes a row of the baseline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/common/error.h"

namespace llmeval::report {

struct ReportOptions {
  std::string results_path;
  std::string dataset_path;   // empty: the table shows no prompt and output
  std::string baseline_path;  // empty: no comparison
  std::size_t max_text_bytes = 2000;  // per prompt, output and reason in the row table
  std::string version;        // llmeval's, shown in the header
  // The run's cost budget, the "budget" object of its --summary JSON (docs/formats.md §4);
  // null: the report shows no budget.
  nlohmann::json budget;
  double confidence = 0.95;  // of the summary's intervals and the comparison's verdicts
};

// Writes the report to `out` and returns the number of rows. An Error for an unreadable or
// malformed results, dataset or baseline file (kIo, kParse: for_each_result_row's, naming the
// file, the line and the field), before anything is written to `out`. Nothing here throws.
Result<std::int64_t> write_html_report(const ReportOptions& options, std::ostream& out);

}  // namespace llmeval::report
