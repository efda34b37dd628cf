#include "cli/merge_command.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/fatal_error.h"
#include "core/common/error.h"
#include "core/output/shard_merge.h"
#include "core/output/summary.h"

namespace llmeval::cli {
namespace {

struct MergeFlags {
  std::vector<std::string> parts;
  std::string output;
  std::string dataset;
  std::string summary_path;
  bool allow_partial = false;
  bool quiet = false;
};

std::string list_lines(const output::MergeReport& report) {
  std::string lines;
  for (std::int64_t line : report.missing) lines += (lines.empty() ? "" : ", ") + std::to_string(line);
  if (report.missing_count > static_cast<std::int64_t>(report.missing.size())) {
    lines += " and " + std::to_string(report.missing_count - static_cast<std::int64_t>(report.missing.size())) + " more";
  }
  return lines;
}

int execute(const MergeFlags& flags) {
  output::MergeOptions options;
  if (!flags.dataset.empty()) options.dataset = flags.dataset;
  options.allow_partial = flags.allow_partial;
  output::ShardMerge merge(flags.parts, options);
  const output::MergeReport report = or_exit(merge.check());
  if (!report.problems.empty()) {
    std::string message = "cannot merge:";
    for (const auto& problem : report.problems) message += "\n  - " + problem;
    throw FatalError(message);
  }
  if (report.missing_count > 0 && !flags.allow_partial) {
    throw FatalError(std::to_string(report.missing_count) + " rows have no result in these parts (lines " +
                     list_lines(report) +
                     "): finish or rerun their shards (with --resume), or pass --allow-partial to merge what there is");
  }
  output::Summary summary;
  Result<Ok> written = merge.write(flags.output, summary);
  // A merged file that could not be written midway is a failed merge (1), like a run that
  // cannot write its results; one that could not be started is a usage problem (2).
  if (!written.ok()) throw FatalError(written.error().message, written.error().kind == ErrorKind::kIo ? 1 : 2);
  if (!flags.quiet) {
    if (report.missing_count > 0) {
      std::fprintf(stderr, "llmeval merge: %lld rows missing (lines %s)\n",
                   static_cast<long long>(report.missing_count), list_lines(report).c_str());
    }
    if (!report.end_checked) {
      std::fprintf(stderr,
                   "llmeval merge: rows after line %lld could not be checked; pass --dataset to check the end and "
                   "the ids\n",
                   static_cast<long long>(report.last_line));
    }
    std::fputs(summary.to_table(summary.counters_from_rows(), 0).c_str(), stderr);
  }
  if (!flags.summary_path.empty()) {
    std::ofstream out(flags.summary_path);
    out << summary.to_json(summary.counters_from_rows(), 0).dump(2) << '\n';
    if (!out) throw FatalError("cannot write summary to " + flags.summary_path, 1);
  }
  bool complete = report.missing_count == 0;
  return complete && summary.errors() == 0 && summary.invalid() == 0 ? 0 : 1;
}

}  // namespace

std::function<int()> register_merge_command(CLI::App& app) {
  auto flags = std::make_shared<MergeFlags>();
  CLI::App* merge = app.add_subcommand(
      "merge", "Combine the shard outputs of a sharded run into one results file in dataset order");
  merge->add_option("parts", flags->parts, "Result files of the shards (e.g. results/part-*.jsonl)")->required();
  merge->add_option("-o,--output", flags->output, "Merged results file (written whole, then renamed into place)")
      ->required();
  merge->add_option("--dataset", flags->dataset,
                    "The dataset the parts came from (a path or an http(s) URL): checks every id and counts rows "
                    "missing at the end");
  merge->add_flag("--allow-partial", flags->allow_partial,
                  "Merge even when rows are missing (they are listed; the exit code is 1)");
  merge->add_option("--summary", flags->summary_path, "Write the summary as JSON to this file");
  merge->add_flag("-q,--quiet", flags->quiet, "No summary table on stderr");
  return [merge, flags]() -> int {
    if (!merge->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
