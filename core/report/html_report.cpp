#include "core/report/html_report.h"

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "core/common/json_text.h"
#include "core/output/result_reader.h"
#include "core/report/dataset_texts.h"
#include "core/report/gzip_base64.h"
#include "core/report/html_text.h"
#include "core/report/report_assets.h"
#include "core/report/report_overview.h"
#include "core/report/report_sections.h"
#include "core/report/row_data.h"

namespace llmeval::report {
namespace {

// base64 of the SHA-256 of report.js, as a CSP source ('sha256-...').
std::string script_hash() {
  std::string digest;
  for (std::size_t i = 0; i + 1 < kReportJsSha256Hex.size(); i += 2) {
    digest += static_cast<char>(std::stoi(std::string(kReportJsSha256Hex.substr(i, 2)), nullptr, 16));
  }
  return base64(digest);
}

void append_data_trailer(std::string& out, const ReportOverview& overview, bool has_texts) {
  out += "],\"criteria\":[";
  bool first = true;
  for (const std::string& name : overview.stats.criterion_order()) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
  }
  out += "],\"has_texts\":";
  out += has_texts ? "true" : "false";
  out += ",\"baseline\":";
  if (overview.comparison) {
    out += "{\"name\":";
    append_json_string(out, display_file_name(overview.comparison->baseline_path()));
    out += '}';
  } else {
    out += "null";
  }
  out += ",\"baseline_only\":[";
  if (overview.comparison) {
    first = true;
    for (const BaselineRow* row : overview.comparison->unmatched()) {
      if (!first) out += ',';
      first = false;
      append_baseline_only_row(out, *row);
    }
  }
  out += "]}";
}

// One pass: each row feeds the statistics and goes into the compressed row data at once, so
// the results file is parsed once and the page's static part, written first, still has every
// number. (Keys of the data object come rows first; JSON does not mind.)
Result<ReportOverview> read_results(const ReportOptions& options) {
  ReportOverview overview;
  if (!options.baseline_path.empty()) {
    auto comparison = RunComparison::load(options.baseline_path);
    if (!comparison.ok()) return comparison.error();
    overview.comparison = std::move(comparison).value();
    overview.paired = std::make_unique<PairedComparison>(options.confidence);
  }
  overview.summary.set_confidence(options.confidence);
  std::unique_ptr<DatasetTexts> texts;
  if (!options.dataset_path.empty()) {
    auto loaded = DatasetTexts::load(options.dataset_path, options.max_text_bytes);
    if (!loaded.ok()) return loaded.error();
    texts = std::move(loaded).value();
  }
  std::map<std::string, std::size_t> criterion_index;  // name -> position in stats.criterion_order()
  std::ostringstream encoded;
  auto opened = GzipBase64Writer::open(encoded);
  if (!opened.ok()) return opened.error();
  GzipBase64Writer& data = *opened.value();
  std::optional<Error> compression_failed;  // the first one; the rows after it are only counted
  auto compress = [&](const std::string& text) {
    if (compression_failed) return;
    if (auto written = data.write(text); !written.ok()) compression_failed = written.error();
  };
  std::string chunk = "{\"version\":1,\"rows\":[";
  bool first_row = true;
  auto rows = output::for_each_result_row(options.results_path, [&](const output::ResultRecord& row) {
    overview.summary.add(row);
    overview.stats.add(row);
    const auto& order = overview.stats.criterion_order();
    for (std::size_t i = criterion_index.size(); i < order.size(); ++i) criterion_index.emplace(order[i], i);

    RowContext context;
    context.criterion_index = &criterion_index;
    context.texts = texts ? texts->find(row.line) : nullptr;
    context.comparing = overview.comparison != nullptr;
    context.baseline = overview.comparison ? overview.comparison->find(row) : nullptr;
    context.max_text_bytes = options.max_text_bytes;
    if (overview.comparison) {
      overview.paired->add(row, context.baseline);
      overview.comparison->count(row);
    }
    if (!first_row) chunk += ',';
    first_row = false;
    append_row_data(chunk, row, context);
    if (chunk.size() >= 64 * 1024) {
      compress(chunk);
      chunk.clear();
    }
  });
  if (!rows.ok()) return rows.error();
  overview.rows = rows.value();
  append_data_trailer(chunk, overview, texts != nullptr);
  compress(chunk);
  if (compression_failed) return *compression_failed;
  if (auto finished = data.finish(); !finished.ok()) return finished.error();
  overview.row_data = std::move(encoded).str();
  overview.summary_json = overview.summary.to_json(overview.summary.counters_from_rows(), 0);
  overview.budget = options.budget;
  if (overview.paired) overview.paired->set_baseline_only(overview.comparison->counts().baseline_only);
  return overview;
}

}  // namespace

Result<std::int64_t> write_html_report(const ReportOptions& options, std::ostream& out) {
  Result<ReportOverview> read = read_results(options);
  if (!read.ok()) return read.error();
  const ReportOverview& overview = read.value();

  const std::string results_name = display_file_name(options.results_path);
  out << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      // No network, ever, and no script but report.js (by its hash): even if a dataset text got
      // into the page as markup, it could neither load anything nor run.
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      << "script-src 'sha256-" << script_hash() << "'\">"
      << "<title>llmeval report · " << html_escape(results_name) << "</title><style>" << kReportCss
      << "</style></head>\n<body>\n<header class=\"page-head\"><h1>llmeval report</h1><p class=\"sub\">"
      << html_escape(results_name) << " · " << format_count(overview.rows) << (overview.rows == 1 ? " row" : " rows");
  if (!options.dataset_path.empty()) out << " · dataset " << html_escape(display_file_name(options.dataset_path));
  out << " · llmeval " << html_escape(options.version);
  if (overview.summary_json.value("simulated", false)) {
    out << " · <span class=\"sim\">simulated judge: scores are not real judgements</span>";
  }
  out << "</p></header>\n<main>\n" << headline_section(overview) << '\n';
  if (overview.comparison) out << compare_section(overview) << '\n';
  out << criteria_section(overview) << '\n';
  for (const std::string& section : {agreement_section(overview), jury_section(overview), pairwise_section(overview)}) {
    if (!section.empty()) out << section << '\n';
  }
  out << latency_section(overview) << '\n'
      << providers_section(overview) << '\n'
      << errors_section(overview) << '\n'
      << "<section id=\"rows\"><h2>Rows</h2><div id=\"table-app\"><noscript>The row table needs JavaScript."
      << "</noscript></div></section>\n</main>\n"
      << "<script id=\"report-data\" type=\"application/octet-stream\" data-encoding=\"gzip+base64\">";
  out << overview.row_data;
  out << "</script>\n<script>" << kReportJs << "</script>\n</body></html>\n";
  return overview.rows;
}

}  // namespace llmeval::report
