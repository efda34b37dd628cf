// --max-cost and --budget-key: the run's cost budget (docs/cost.md). Every provider of the
// chain needs a price (the built-in table's or the config's); the budget lives in this process,
// or with --redis in Redis under a key every process of one job shares.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cli/engine_setup.h"
#include "core/common/event_loop.h"
#include "core/dataset/jsonl_reader.h"
#include "core/output/resume_index.h"
#include "core/redis/redis_client.h"
#include "core/resilience/cost_budget.h"

namespace llmeval::cli {

struct BudgetFlags {
  std::optional<double> max_cost;  // dollars
  std::string budget_key;          // empty: derived from the output path
};

void add_budget_flags(CLI::App& command, BudgetFlags& flags);

// The shared key when none is given: the output path as written (its {index}/{count} shard
// part left unexpanded, so every shard names the same budget), made absolute; for results on
// stdout, the dataset's path.
std::string default_budget_key(const std::string& output_template, const std::string& dataset);

class RunBudget {
 public:
  // No budget without --max-cost. Throws FatalError (exit 2) for a provider without a price or
  // a bad --redis URL.
  RunBudget(LibeventLoop& loop, const BudgetFlags& flags, const EngineSettings& settings, const std::string& key);
  ~RunBudget();
  RunBudget(const RunBudget&) = delete;
  RunBudget& operator=(const RunBudget&) = delete;

  resilience::CostBudget* get() { return budget_.get(); }
  // The summary's "budget" object: limit, spent (by everyone sharing it), spent_here, key
  // (shared budgets), stopped; null without a budget.
  nlohmann::json to_json(bool stopped, std::optional<std::int64_t> rows_left) const;
  // One line for the summary table; empty without a budget.
  std::string to_table_line(bool stopped, std::optional<std::int64_t> rows_left) const;

 private:
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<resilience::CostBudget> budget_;
  std::string key_;  // empty: this process's own budget
};

// What a --resume still has to judge: `pending` (rows read and not recorded) plus, for a
// dataset in a regular file, the rows of this run (shard, --limit) not read yet and not already
// recorded. Reads the rest of the file. nullopt when the rest cannot be counted without waiting
// (stdin, a URL).
std::optional<std::int64_t> rows_left(dataset::JsonlReader& reader, bool regular_file,
                                      const output::ResumeIndex* resume, std::int64_t limit, std::int64_t rows_read,
                                      std::int64_t pending);

}  // namespace llmeval::cli
