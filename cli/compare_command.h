// `llmeval compare BASELINE CANDIDATE`: whether a candidate run's pass rates and mean scores
// differ from a baseline run's of the same dataset beyond noise (core/report/paired_comparison.h,
// docs/statistics.md). Exit 0, or 1 with --fail-on-regression when any pass-rate verdict is
// `worse`; 2 when a file cannot be read.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

std::function<int()> register_compare_command(CLI::App& app);

}  // namespace llmeval::cli
