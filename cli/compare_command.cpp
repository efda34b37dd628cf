#include "cli/compare_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "cli/fatal_error.h"
#include "core/output/result_reader.h"
#include "core/report/paired_comparison.h"
#include "core/report/run_comparison.h"

namespace llmeval::cli {
namespace {

struct CompareFlags {
  std::string baseline;
  std::string candidate;
  double confidence = 0.95;
  bool json = false;
  bool fail_on_regression = false;
};

int execute(const CompareFlags& flags) {
  auto baseline = or_exit(report::RunComparison::load(flags.baseline));
  report::PairedComparison comparison(flags.confidence);
  or_exit(output::for_each_result_row(flags.candidate, [&](const output::ResultRecord& row) {
    comparison.add(row, baseline->find(row));
    baseline->count(row);
  }));
  comparison.set_baseline_only(baseline->counts().baseline_only);
  std::string text = flags.json ? comparison.to_json().dump(2) + "\n"
                                : "llmeval compare: " + flags.baseline + " -> " + flags.candidate + "\n" +
                                      comparison.to_table();
  std::fputs(text.c_str(), stdout);
  if (comparison.matched() == 0) std::fputs("llmeval compare: no row was judged in both runs\n", stderr);
  return flags.fail_on_regression && comparison.any_worse() ? 1 : 0;
}

}  // namespace

std::function<int()> register_compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* compare = app.add_subcommand(
      "compare", "Whether a candidate run differs from a baseline run of the same dataset beyond noise");
  compare->add_option("baseline", flags->baseline, "Results JSONL of the baseline run")
      ->required()
      ->check(CLI::ExistingFile);
  compare->add_option("candidate", flags->candidate, "Results JSONL of the candidate run")
      ->required()
      ->check(CLI::ExistingFile);
  compare->add_option("--confidence", flags->confidence, "Confidence level of intervals and verdicts (default 0.95)")
      ->check(CLI::Range(0.5, 0.9999));
  compare->add_flag("--json", flags->json, "Print the comparison as one JSON object");
  compare->add_flag("--fail-on-regression", flags->fail_on_regression,
                    "Exit 1 when the row pass rate or a criterion's pass rate is significantly worse");
  return [compare, flags]() -> int {
    if (!compare->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
