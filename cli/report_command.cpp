#include "cli/report_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/fatal_error.h"
#include "core/common/error.h"
#include "core/output/csv_writer.h"
#include "core/output/junit_writer.h"
#include "core/output/result_reader.h"
#include "core/report/html_report.h"

namespace llmeval::cli {
namespace {

struct ReportFlags {
  std::string results;
  std::string output = "-";
  std::string format;
  std::string dataset;
  std::string compare;
  std::size_t max_text = 2000;
  std::string summary;  // the run's --summary JSON, for its budget
  double confidence = 0.95;
};

// The "budget" object of the run's summary file, or null when it has none.
nlohmann::json budget_of(const std::string& summary_path) {
  if (summary_path.empty()) return nullptr;
  std::ifstream in(summary_path);
  nlohmann::json summary = nlohmann::json::parse(in, nullptr, false);
  if (!in.is_open() || !summary.is_object()) {
    throw FatalError("--summary " + summary_path + ": not a summary JSON file as `run --summary` writes it");
  }
  return summary.value("budget", nlohmann::json());
}

// Writes the HTML report to a temporary file next to OUT and renames it into place, so a
// failed report never leaves a half-written file where the last good one was.
int write_html(const ReportFlags& flags) {
  report::ReportOptions options;
  options.results_path = flags.results;
  options.dataset_path = flags.dataset;
  options.baseline_path = flags.compare;
  options.max_text_bytes = flags.max_text;
  options.budget = budget_of(flags.summary);
  options.confidence = flags.confidence;
  options.version = LLMEVAL_VERSION;
  if (flags.output == "-" || flags.output.empty()) {
    or_exit(report::write_html_report(options, std::cout));
    std::cout.flush();
    if (!std::cout) throw FatalError("cannot write stdout", 1);
    return 0;
  }
  const std::string temporary = flags.output + ".tmp";
  std::int64_t rows = 0;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw FatalError("cannot write " + temporary);
    try {
      rows = or_exit(report::write_html_report(options, out));
    } catch (...) {
      out.close();
      std::remove(temporary.c_str());
      throw;
    }
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      throw FatalError("cannot write " + flags.output, 1);
    }
  }
  if (std::rename(temporary.c_str(), flags.output.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw FatalError("cannot write " + flags.output, 1);
  }
  std::error_code size_error;
  const auto bytes = std::filesystem::file_size(flags.output, size_error);
  std::fprintf(stderr, "llmeval: report of %lld rows written to %s (%.1f MB); open it in any browser, offline\n",
               static_cast<long long>(rows), flags.output.c_str(), size_error ? 0.0 : static_cast<double>(bytes) / 1e6);
  return 0;
}

int execute(const ReportFlags& flags) {
  if (flags.format.empty()) return write_html(flags);
  if (!flags.dataset.empty() || !flags.compare.empty()) {
    throw FatalError("--dataset and --compare are for the HTML report; --format " + flags.format +
                     " converts the results file alone");
  }
  convert_results_file(flags.results, flags.output, flags.format, junit_classname(flags.results));
  return 0;
}

}  // namespace

std::string junit_classname(const std::string& path) {
  std::string name = path;
  auto cut = name.find_first_of("?#");
  if (name.find("://") != std::string::npos && cut != std::string::npos) name.resize(cut);
  auto slash = name.find_last_of('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  auto dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  if (name.empty() || name == "-") name = "stdin";
  for (char& ch : name) {
    if (ch == '.' || ch == ' ') ch = '_';
  }
  return "llmeval." + name;
}

std::int64_t convert_results_file(const std::string& results_path, const std::string& out_path,
                                  const std::string& format, const std::string& classname) {
  if (format != "csv" && format != "junit") {
    throw FatalError("--format " + format + ": expected junit or csv");
  }
  output::JunitTotals totals;
  if (format == "junit") {
    or_exit(output::for_each_result_row(results_path, [&](const output::ResultRecord& r) { totals.add(r); }));
  }

  std::unique_ptr<std::ofstream> file;
  if (out_path != "-" && !out_path.empty()) {
    file = std::make_unique<std::ofstream>(out_path, std::ios::binary | std::ios::trunc);
    if (!*file) throw FatalError("cannot write " + out_path);
  }
  std::ostream& out = file ? static_cast<std::ostream&>(*file) : std::cout;
  std::int64_t rows = 0;
  if (format == "csv") {
    output::CsvWriter writer(out);
    rows = or_exit(output::for_each_result_row(results_path, [&](const output::ResultRecord& r) { writer.write(r); }));
  } else {
    output::JunitWriter writer(out, totals, classname);
    rows = or_exit(output::for_each_result_row(results_path, [&](const output::ResultRecord& r) { writer.write(r); }));
    writer.finish();
  }
  out.flush();
  if (!out) throw FatalError("cannot write " + (file ? out_path : std::string("stdout")), 1);
  return rows;
}

std::function<int()> register_report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* report = app.add_subcommand(
      "report", "Write a self-contained HTML report of a results file; --format junit|csv converts it instead");
  report->add_option("results", flags->results, "Results JSONL file (as written by run or merge)")
      ->required()
      ->check(CLI::ExistingFile);
  report->add_option("-o,--output", flags->output, "Output file, e.g. report.html (default: stdout)");
  report->add_option("--dataset", flags->dataset,
                     "The dataset the results came from: shows each row's prompt and output in the report")
      ->check(CLI::ExistingFile);
  report->add_option("--compare", flags->compare,
                     "A baseline results file of the same dataset: per-criterion deltas and rows whose verdict changed")
      ->check(CLI::ExistingFile);
  report->add_option("--max-text", flags->max_text,
                     "Longest prompt, output or reason kept per row in the report, in bytes (longer ones are cut)")
      ->default_val(2000)
      ->check(CLI::Range(std::size_t{100}, std::size_t{1} << 24));
  report->add_option("--summary", flags->summary,
                     "The run's --summary JSON: the report shows its cost budget (--max-cost) and what was spent")
      ->check(CLI::ExistingFile);
  report->add_option("--confidence", flags->confidence,
                     "Confidence level of the intervals and of --compare's verdicts (default 0.95)")
      ->check(CLI::Range(0.5, 0.9999));
  report->add_option("--format", flags->format, "junit or csv: convert the results file instead of the HTML report")
      ->check(CLI::IsMember({"junit", "csv"}));
  return [report, flags]() -> int {
    if (!report->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
