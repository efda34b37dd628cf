// DryRun: `run --dry-run` (docs/cost.md). Reads the dataset exactly as a run does (shard,
// --limit, --resume), builds every judge request a run would send to the first provider of the
// chain, asks the judge cache for each, and counts instead of calling: rows, judge calls, calls
// the cache already answers, estimated tokens and cost. Nothing is sent to any provider.
//
// Input tokens are estimated from the request text (judge::estimate_input_tokens). Output
// tokens are the mean of what the cached verdicts found here used, when there are any (the
// same judge on the same kind of rows), else kDefaultOutputTokens per call. Costs are at each
// provider's price (config or built-in table); a provider without one has cost unknown.
//
// All collaborators are borrowed. Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cache/judge_cache.h"
#include "core/common/event_loop.h"
#include "core/dataset/jsonl_reader.h"
#include "core/judge/judge_prompt.h"
#include "core/output/resume_index.h"
#include "core/runner/evaluator.h"

namespace llmeval::runner {

// A judge verdict, {"reason": "<a sentence or two>", "score": N}, as today's judges write it
// when there is no history to go by.
constexpr std::int64_t kDefaultOutputTokens = 100;

struct DryRunOptions {
  judge::JudgeOptions judge;
  cache::JudgeCache* cache = nullptr;  // optional
  cache::CacheMode cache_mode = cache::CacheMode::kReadWrite;
  int repeat = 1;     // calls per LLM criterion (--repeat), samples 0..N-1
  bool jury = false;  // --jury: every provider of the chain gets every call, else chain[0] alone
  const output::ResumeIndex* resume = nullptr;  // rows already recorded are not counted
  std::int64_t limit = -1;
  std::size_t lookups_in_flight = 256;  // cache lookups outstanding at once
};

struct ProviderEstimate {
  std::string provider;
  std::string model;
  std::string price_source;          // "config", "table YYYY-MM-DD" or empty (no price)
  std::int64_t calls = 0;            // judge calls to make (not cached)
  std::int64_t cached = 0;           // answered by the cache
  std::int64_t input_tokens = 0;     // estimated, of the calls to make
  std::int64_t output_tokens = 0;    // estimated, of the calls to make
  std::string output_basis;          // how output_tokens was estimated
  std::optional<double> cost;        // of the calls to make; nullopt: no price
  std::optional<double> cost_saved;  // what the cached calls cost when they were made
};

struct DryRunEstimate {
  std::int64_t rows = 0;     // rows a run would judge or record
  std::int64_t invalid = 0;  // of those, rows a run would record as invalid
  std::int64_t skipped = 0;  // already recorded (--resume)
  std::int64_t judge_calls = 0;
  std::int64_t cached_calls = 0;
  std::vector<ProviderEstimate> providers;
  std::optional<double> cost;  // total; nullopt when a provider with calls has no price
  std::string price_date;      // the built-in price table's

  nlohmann::json to_json() const;
  std::string to_table() const;
};

// Calls go to chain[0] (with a jury, to each provider), at its price; price_sources[i] says
// where chain[i]'s price came from. Pairwise criteria count two calls, one per order.
DryRunEstimate dry_run(LibeventLoop& loop, dataset::JsonlReader& reader, const std::vector<ProviderSlot>& chain,
                       const std::vector<std::string>& price_sources, const DryRunOptions& options);

}  // namespace llmeval::runner
