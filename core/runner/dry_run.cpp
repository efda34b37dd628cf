#include "core/runner/dry_run.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <variant>

#include "core/cache/cache_key.h"
#include "core/output/summary_format.h"
#include "core/provider/price_table.h"

namespace llmeval::runner {
namespace {

using output::optional_number;

constexpr int kRowsPerPump = 256;  // then yield to the loop, so lookups are answered

std::string approx_dollars(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "~$%.4f", v);
  return text;
}

class DryRunner {
 public:
  DryRunner(LibeventLoop& loop, dataset::JsonlReader& reader, const std::vector<ProviderSlot>& chain,
            const DryRunOptions& options)
      : tallies(options.jury ? chain.size() : 1), loop_(loop), reader_(reader), chain_(chain), options_(options) {}

  void run() {
    loop_.post([this] { pump(); });
    loop_.run();
  }

  // What one provider would be asked (chain[0]; with a jury, each juror).
  struct Tally {
    std::int64_t calls = 0, cached = 0, input_tokens = 0;
    std::int64_t hit_output_tokens = 0, hits_with_usage = 0;
    provider::TokenUsage saved;
  };

  DryRunEstimate estimate;
  std::vector<Tally> tallies;  // by chain index

 private:
  void pump() {
    pump_scheduled_ = false;
    for (int budget = kRowsPerPump; budget > 0 && !reader_done_ && outstanding_ < options_.lookups_in_flight;
         --budget) {
      if (options_.limit >= 0 && rows_read_ >= options_.limit) {
        reader_done_ = true;
        break;
      }
      std::optional<dataset::ReadItem> next = reader_.next();
      if (!next && reader_.would_block()) {
        loop_.when_readable(reader_.fd(), [this] { pump(); });
        return;
      }
      if (!next) {
        reader_done_ = true;
        break;
      }
      ++rows_read_;
      take(*next);
    }
    if (!reader_done_ && outstanding_ < options_.lookups_in_flight) schedule_pump();
    finish_if_done();
  }

  void take(const dataset::ReadItem& next) {
    const auto* invalid = std::get_if<dataset::InvalidLine>(&next);
    if (options_.resume != nullptr) {
      std::int64_t line = invalid != nullptr ? invalid->line : std::get<dataset::EvalItem>(next).line;
      const nlohmann::json& id = invalid != nullptr ? invalid->id : std::get<dataset::EvalItem>(next).id;
      if (options_.resume->check(line, id) == output::ResumeIndex::Match::kRecorded) {
        ++estimate.skipped;
        return;
      }
    }
    ++estimate.rows;
    if (invalid != nullptr) {
      ++estimate.invalid;
      return;
    }
    const auto& item = std::get<dataset::EvalItem>(next);
    for (const auto& criterion : item.criteria) {
      if (!criterion.llm) continue;
      // The run's calls: each juror (else chain[0]) x samples x orders (pairwise_request: two).
      const int samples = criterion.pairwise ? 1 : std::max(1, options_.repeat);
      for (int order = 0; order < (criterion.pairwise ? 2 : 1); ++order) {
        provider::CompletionRequest request = criterion.pairwise
                                                  ? judge::build_pairwise_request(item, criterion, order == 1,
                                                                                  options_.judge)
                                                  : judge::build_judge_request(item, criterion, options_.judge);
        for (std::size_t juror = 0; juror < tallies.size(); ++juror) {
          for (int sample = 0; sample < samples; ++sample) look_up(juror, request, sample);
        }
      }
    }
  }

  // The same key a run's first call of this request to chain[juror] would ask the cache for.
  void look_up(std::size_t juror, const provider::CompletionRequest& request, int sample) {
    ++estimate.judge_calls;
    const std::int64_t input = judge::estimate_input_tokens(request);
    Tally& tally = tallies[juror];
    std::string identity;
    if (options_.cache != nullptr && cache::reads(options_.cache_mode))
      identity = chain_[juror].provider->request_identity(request);
    if (identity.empty()) {
      count_call(tally, input);
      return;
    }
    ++outstanding_;
    options_.cache->lookup(cache::cache_key(identity, sample),
                           [this, &tally, input, min = request.score_min,
                            max = request.score_max](std::optional<cache::CachedVerdict> hit) {
                             --outstanding_;
                             if (hit && hit->score >= min && hit->score <= max) {
                               count_hit(tally, *hit);
                             } else {
                               count_call(tally, input);
                             }
                             if (!reader_done_) schedule_pump();
                             finish_if_done();
                           });
  }

  static void count_call(Tally& tally, std::int64_t input) {
    ++tally.calls;
    tally.input_tokens += input;
  }

  static void count_hit(Tally& tally, const cache::CachedVerdict& hit) {
    ++tally.cached;
    tally.saved.input += hit.tokens.input;
    tally.saved.output += hit.tokens.output;
    tally.saved.cached_input += hit.tokens.cached_input;
    tally.saved.cache_write += hit.tokens.cache_write;
    if (hit.tokens.output > 0) {
      tally.hit_output_tokens += hit.tokens.output;
      ++tally.hits_with_usage;
    }
  }

  void schedule_pump() {
    if (pump_scheduled_) return;
    pump_scheduled_ = true;
    loop_.post([this] { pump(); });
  }

  void finish_if_done() {
    if (reader_done_ && outstanding_ == 0) loop_.stop();
  }

  LibeventLoop& loop_;
  dataset::JsonlReader& reader_;
  const std::vector<ProviderSlot>& chain_;
  const DryRunOptions& options_;
  std::int64_t rows_read_ = 0;
  std::size_t outstanding_ = 0;
  bool reader_done_ = false;
  bool pump_scheduled_ = false;
};

}  // namespace

DryRunEstimate dry_run(LibeventLoop& loop, dataset::JsonlReader& reader, const std::vector<ProviderSlot>& chain,
                       const std::vector<std::string>& price_sources, const DryRunOptions& options) {
  DryRunner runner(loop, reader, chain, options);
  runner.run();
  DryRunEstimate estimate = runner.estimate;
  estimate.price_date = provider::price_table_date();
  estimate.cost = 0.0;
  for (std::size_t i = 0; i < runner.tallies.size(); ++i) {
    const DryRunner::Tally& tally = runner.tallies[i];
    const ProviderSlot& slot = chain[i];
    estimate.cached_calls += tally.cached;
    ProviderEstimate p;
    p.provider = slot.provider->name();
    p.model = slot.provider->model();
    p.price_source = i < price_sources.size() ? price_sources[i] : std::string();
    p.calls = tally.calls;
    p.cached = tally.cached;
    p.input_tokens = tally.input_tokens;
    std::int64_t per_call = kDefaultOutputTokens;
    p.output_basis = "default " + std::to_string(kDefaultOutputTokens) + " tokens a call (no cached verdicts to go by)";
    if (tally.hits_with_usage > 0) {
      per_call = (tally.hit_output_tokens + tally.hits_with_usage / 2) / tally.hits_with_usage;
      p.output_basis = "mean of " + std::to_string(tally.hits_with_usage) + " cached verdicts";
    }
    p.output_tokens = per_call * tally.calls;
    if (slot.price) {
      provider::TokenUsage usage;
      usage.input = p.input_tokens;
      usage.output = p.output_tokens;
      p.cost = provider::cost_of(usage, *slot.price);
      p.cost_saved = provider::cost_of(tally.saved, *slot.price);
    }
    if (p.calls > 0)
      estimate.cost = p.cost && estimate.cost ? std::optional<double>(*estimate.cost + *p.cost) : std::nullopt;
    estimate.providers.push_back(std::move(p));
  }
  return estimate;
}

nlohmann::json DryRunEstimate::to_json() const {
  nlohmann::json by_provider = nlohmann::json::array();
  for (const auto& p : providers) {
    by_provider.push_back(
        {{"provider", p.provider},
         {"model", p.model},
         {"price_source", p.price_source.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.price_source)},
         {"calls", p.calls},
         {"cached", p.cached},
         {"input_tokens", p.input_tokens},
         {"output_tokens", p.output_tokens},
         {"output_tokens_basis", p.output_basis},
         {"cost", optional_number(p.cost)},
         {"cost_saved", optional_number(p.cost_saved)}});
  }
  return {{"dry_run", true},
          {"rows", rows},
          {"invalid", invalid},
          {"skipped", skipped},
          {"judge_calls", judge_calls},
          {"cached_calls", cached_calls},
          {"calls_to_make", judge_calls - cached_calls},
          {"providers", by_provider},
          {"cost", optional_number(cost)},
          {"price_date", price_date}};
}

std::string DryRunEstimate::to_table() const {
  std::string out = "llmeval dry run (nothing was sent to any provider)\n";
  auto line = [&out](const std::string& label, const std::string& value) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "  %-18s %s\n", label.c_str(), value.c_str());
    out += buf;
  };
  line("rows", std::to_string(rows) + "  (invalid " + std::to_string(invalid) + ", already recorded " +
                   std::to_string(skipped) + ")");
  line("judge calls", std::to_string(judge_calls) + "  (cached " + std::to_string(cached_calls) + ", to make " +
                          std::to_string(judge_calls - cached_calls) + ")");
  for (const auto& p : providers) {
    line("provider", p.provider + "  " + p.model +
                         "  (price: " + (p.price_source.empty() ? std::string("none") : p.price_source) + ")");
    line("  input tokens", "~" + std::to_string(p.input_tokens) + "  (request bytes / 4)");
    line("  output tokens", "~" + std::to_string(p.output_tokens) + "  (" + p.output_basis + ")");
    line("  cost", p.cost ? approx_dollars(*p.cost) : std::string("unknown (no price: set \"price\" in the config)"));
    if (p.cached > 0 && p.cost_saved) line("  cache saves", approx_dollars(*p.cost_saved));
  }
  line("total cost", cost ? approx_dollars(*cost) + "  (prices of " + price_date + " unless set in the config)"
                          : std::string("unknown"));
  return out;
}

}  // namespace llmeval::runner
