#include "cli/report_command.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "core/common/error.h"
#include "core/output/csv_writer.h"
#include "core/output/junit_writer.h"
#include "core/output/result_reader.h"

namespace llmeval::cli {
namespace {

struct ReportFlags {
  std::string results;
  std::string output = "-";
  std::string format;
};

// Calls fn(record) for every row of the results file, streaming. A line that is not a result
// row (a torn last line, another file) stops the conversion: a report must not drop rows.
template <typename Fn>
std::int64_t for_each_row(const std::string& path, Fn&& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FatalError("cannot read results file " + path);
  std::string line;
  std::int64_t number = 0, rows = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto record = output::parse_result_line(line);
    if (!record) {
      throw FatalError(path + ":" + std::to_string(number) + ": not a result row (" + record.error().message +
                       ")");
    }
    fn(record.value());
    ++rows;
  }
  if (in.bad()) throw FatalError("cannot read results file " + path);
  return rows;
}

int execute(const ReportFlags& flags) {
  if (flags.format.empty()) {
    throw FatalError("the HTML report is not built yet; use --format junit or csv");
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
  if (format == "junit") for_each_row(results_path, [&](const output::ResultRecord& r) { totals.add(r); });

  std::unique_ptr<std::ofstream> file;
  if (out_path != "-" && !out_path.empty()) {
    file = std::make_unique<std::ofstream>(out_path, std::ios::binary | std::ios::trunc);
    if (!*file) throw FatalError("cannot write " + out_path);
  }
  std::ostream& out = file ? static_cast<std::ostream&>(*file) : std::cout;
  std::int64_t rows = 0;
  if (format == "csv") {
    output::CsvWriter writer(out);
    rows = for_each_row(results_path, [&](const output::ResultRecord& r) { writer.write(r); });
  } else {
    output::JunitWriter writer(out, totals, classname);
    rows = for_each_row(results_path, [&](const output::ResultRecord& r) { writer.write(r); });
    writer.finish();
  }
  out.flush();
  if (!out) throw FatalError("cannot write " + (file ? out_path : std::string("stdout")), 1);
  return rows;
}

std::function<int()> register_report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* report = app.add_subcommand(
      "report", "Report on a results file; --format junit|csv converts it (the HTML report comes later)");
  report->add_option("results", flags->results, "Results JSONL file (as written by run or merge)")
      ->required()
      ->check(CLI::ExistingFile);
  report->add_option("-o,--output", flags->output, "Output file (default: stdout)");
  report->add_option("--format", flags->format, "junit or csv: convert the results file")
      ->check(CLI::IsMember({"junit", "csv"}));
  return [report, flags]() -> int {
    if (!report->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
