// Summary: streaming statistics over ResultRecords (docs/formats.md §4), in constant memory whatever the
// number of rows: Welford mean/variance per criterion, a 1 ms latency histogram, counters.
// Used by run (and later merge and serve). Not thread-safe.
//
// pass_rate counts only rows that were judged (status ok): a judge that failed is an error,
// never a failing verdict. It is null when no row was judged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/output/jury_agreement.h"
#include "core/output/label_agreement.h"
#include "core/output/pairwise_summary.h"
#include "core/output/result_record.h"
#include "core/provider/provider_config.h"
#include "core/stats/streaming_mean.h"

namespace llmeval::output {

// Counters only the runner knows (results alone cannot tell them).
struct RunCounters {
  std::int64_t provider_requests = 0;
  std::int64_t retries = 0;
  std::int64_t fallbacks = 0;
  std::int64_t breaker_openings = 0;
  std::int64_t rate_limit_waits = 0;
};

class Summary {
 public:
  // Prices per provider name, for cost. A provider not named here is priced by the model its
  // rows name, from the built-in table (provider/price_table.h); one that has neither makes the
  // cost unknown (null), never $0.
  void set_prices(std::map<std::string, provider::Price> prices) { prices_ = std::move(prices); }

  void add(const ResultRecord& record);

  // Counters as the rows' judge info tells them, for a serve batch or a merge, where no run
  // counted them: provider_requests = attempts, retries = attempts after the first (repairs and
  // fallbacks included), fallbacks; rate-limit waits and breaker openings stay 0.
  const RunCounters& counters_from_rows() const { return row_counters_; }

  std::int64_t rows() const { return rows_; }
  std::int64_t ok() const { return ok_; }
  std::int64_t errors() const { return errors_; }
  // Input plus output tokens (cache reads and writes are part of input, reasoning of output).
  std::int64_t tokens() const { return tokens_.input + tokens_.output; }
  // Every token count summed over all judge calls so far.
  const provider::TokenUsage& token_usage() const { return tokens_; }
  // Dollars for the tokens so far: each provider's tokens at its own price (provider::cost_of:
  // cache reads and writes at their prices where set), a batch's at the batch price. nullopt
  // (unknown) when a provider that used tokens has no price.
  std::optional<double> cost() const;
  // Providers that used tokens and have no price: why cost() is unknown.
  std::vector<std::string> unpriced() const;
  // Criteria answered by the judge cache, and what they would have cost (the same prices).
  std::int64_t cache_hits() const { return cache_hits_; }
  std::optional<double> cost_saved() const;
  std::int64_t invalid() const { return invalid_; }
  std::optional<double> pass_rate() const;

  // Intervals at this two-sided confidence (--confidence; default 0.95).
  void set_confidence(double confidence) { confidence_ = confidence; }
  // The pass rate's Wilson score interval; nullopt when no row was judged.
  std::optional<stats::Interval> pass_rate_ci() const;
  // The mean row score (0..1) of judged rows, with its t-interval, or clustered by the rows'
  // `group` when rows share one (stats::StreamingMean).
  std::optional<stats::MeanEstimate> mean_score_ci() const;

  // docs/formats.md §4 JSON. wall_seconds is the run's elapsed time.
  nlohmann::json to_json(const RunCounters& counters, double wall_seconds) const;
  // The same numbers as an aligned table for people.
  std::string to_table(const RunCounters& counters, double wall_seconds) const;

 private:
  struct CriterionStats {
    std::int64_t count = 0;
    std::int64_t passed = 0;
    double mean = 0;
    double m2 = 0;  // Welford's running sum of squared differences
    double min = 0;
    double max = 0;
    stats::StreamingMean normalized;  // by the rows' group
    // --repeat: rows judged more than once, their mean within-row stddev, and those whose
    // samples' verdicts (pass/fail) differ.
    std::int64_t repeated = 0;
    double within_stddev_sum = 0;
    std::int64_t disagreeing = 0;
  };
  struct ErrorStats {
    std::int64_t count = 0;
    std::vector<std::int64_t> first_lines;  // up to 5
  };

  std::optional<double> latency_percentile(double p) const;
  static nlohmann::json interval_json(const std::optional<stats::Interval>& interval);
  // One judgment's calls, tokens and latency (a criterion's, or each sample's with --repeat).
  // answered false: a juror that abstained; its failed calls count, with no latency.
  void add_judge(const JudgeInfo& judge, bool answered = true);
  // Dollars for `by_provider`'s tokens; nullopt when one that used tokens has no price.
  std::optional<double> priced(const std::map<std::string, provider::TokenUsage>& by_provider) const;
  std::optional<provider::Price> price_of(const std::string& provider) const;

  std::int64_t rows_ = 0, ok_ = 0, errors_ = 0, invalid_ = 0, passed_ = 0;
  RunCounters row_counters_;
  provider::TokenUsage tokens_;
  std::map<std::string, provider::TokenUsage> tokens_by_provider_;
  // run --batch: of those, the tokens of calls a provider batch answered (at the batch price),
  // and how many such calls, and calls meant for a batch that went online instead.
  std::map<std::string, provider::TokenUsage> batch_tokens_by_provider_;
  std::int64_t batch_calls_ = 0, batch_fallbacks_ = 0;
  // Criteria answered by the judge cache, and what their original calls used (not spent now).
  std::int64_t cache_hits_ = 0;
  std::map<std::string, provider::TokenUsage> saved_by_provider_;
  std::map<std::string, provider::Price> prices_;
  std::map<std::string, std::string> model_of_;  // by provider: the model its first judged row names
  std::map<std::string, CriterionStats> criteria_;
  LabelAgreement label_agreement_;  // judged rows' labelled criteria
  JuryAgreement jury_agreement_;    // judged rows' jury criteria
  PairwiseSummary pairwise_;        // judged rows' pairwise criteria
  double confidence_ = 0.95;
  stats::StreamingMean row_score_;  // judged rows' score, by group
  std::map<std::string, ErrorStats> errors_by_kind_;
  std::vector<std::uint32_t> latency_ms_hist_;  // index = ms, last bucket = overflow
  std::int64_t latency_count_ = 0;
  bool simulated_ = false;
};

}  // namespace llmeval::output
