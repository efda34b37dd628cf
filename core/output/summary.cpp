#include "core/output/summary.h"

#include "core/output/summary_format.h"
#include "core/provider/price_table.h"
#include "core/stats/proportion.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace llmeval::output {
namespace {

// Criterion names longer than this are cut (with a ~) in the stderr table; the JSON keeps them whole.
constexpr int kMaxNameWidth = 40;

constexpr std::size_t kLatencyBuckets = 120'001;  // 0..120 s in 1 ms steps, then overflow
constexpr std::size_t kFirstLinesKept = 5;

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string percent(std::optional<double> v) { return v ? fixed(*v * 100, 1) + "%" : "-"; }

void add_usage(provider::TokenUsage& total, const provider::TokenUsage& usage) {
  total.input += usage.input;
  total.output += usage.output;
  total.cached_input += usage.cached_input;
  total.cache_write += usage.cache_write;
  total.reasoning += usage.reasoning;
}

}  // namespace

void Summary::add(const ResultRecord& record) {
  ++rows_;
  switch (record.status) {
    case Status::kOk: ++ok_; break;
    case Status::kError: ++errors_; break;
    case Status::kInvalid: ++invalid_; break;
  }
  if (record.status == Status::kOk && record.pass()) ++passed_;
  const std::string cluster = record.group.is_null() ? std::string() : record.group.dump();
  if (record.status == Status::kOk) row_score_.add(record.score(), cluster);
  if (record.error) {
    auto& e = errors_by_kind_[record.error->kind];
    ++e.count;
    if (e.first_lines.size() < kFirstLinesKept) e.first_lines.push_back(record.line);
  }
  for (const auto& c : record.criteria) {
    // The calls are each juror's (one that abstained made none that we know of), each
    // sample's, each order's, or the one judge's.
    if (!c.jury.empty()) {
      for (const auto& juror : c.jury) {
        add_judge(juror.judge, juror.score.has_value());
      }
    } else if (!c.samples.empty()) {
      for (const auto& sample : c.samples) add_judge(sample.judge);
    } else if (!c.orders.empty()) {
      for (const auto& order : c.orders) add_judge(order.judge);
    } else if (c.judge) {
      add_judge(*c.judge);
    }
    if (record.status != Status::kOk) continue;  // scores of failed rows would skew the means
    label_agreement_.add(c);
    jury_agreement_.add(c);
    pairwise_.add(record, c);
    auto& s = criteria_[c.name];
    ++s.count;
    if (c.pass) ++s.passed;
    if (s.count == 1) {
      s.min = s.max = c.score;
    } else {
      s.min = std::min(s.min, c.score);
      s.max = std::max(s.max, c.score);
    }
    double delta = c.score - s.mean;
    s.mean += delta / static_cast<double>(s.count);
    s.m2 += delta * (c.score - s.mean);
    s.normalized.add(c.normalized, cluster);
    if (c.samples.size() > 1) {
      ++s.repeated;
      s.within_stddev_sum += c.stddev.value_or(0.0);
      bool all_pass = true, any_pass = false;
      for (const auto& sample : c.samples) {
        all_pass = all_pass && sample.pass;
        any_pass = any_pass || sample.pass;
      }
      if (all_pass != any_pass) ++s.disagreeing;
    }
  }
}

void Summary::add_judge(const JudgeInfo& judge, bool answered) {
  if (!model_of_.count(judge.provider)) model_of_[judge.provider] = judge.model;
  if (judge.cached) {
    // No call was made: its tokens are saved, not spent, and its latency is not this run's.
    ++cache_hits_;
    add_usage(saved_by_provider_[judge.provider], judge.tokens);
    if (judge.fallback) ++row_counters_.fallbacks;
    return;
  }
  row_counters_.provider_requests += judge.attempts;
  row_counters_.retries += std::max(0, judge.attempts - 1);
  if (judge.fallback) ++row_counters_.fallbacks;
  add_usage(tokens_, judge.tokens);
  add_usage(tokens_by_provider_[judge.provider], judge.tokens);
  if (!judge.batch.empty()) {
    ++batch_calls_;
    add_usage(batch_tokens_by_provider_[judge.provider], judge.tokens);
  }
  if (!judge.batch_fallback.empty()) ++batch_fallbacks_;
  if (!answered) return;  // no successful call, so no latency to count
  if (latency_ms_hist_.empty()) latency_ms_hist_.assign(kLatencyBuckets, 0);
  auto bucket = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(0, judge.latency_ms)),
                                      kLatencyBuckets - 1);
  ++latency_ms_hist_[bucket];
  ++latency_count_;
  simulated_ = simulated_ || judge.simulated;
}

nlohmann::json Summary::interval_json(const std::optional<stats::Interval>& interval) {
  if (!interval) return nullptr;
  return nlohmann::json::array({interval->lo, interval->hi});
}

std::optional<stats::Interval> Summary::pass_rate_ci() const {
  return stats::wilson_interval(static_cast<std::uint64_t>(passed_), static_cast<std::uint64_t>(ok_), confidence_);
}

std::optional<stats::MeanEstimate> Summary::mean_score_ci() const { return row_score_.interval(confidence_); }

std::optional<double> Summary::pass_rate() const {
  if (ok_ == 0) return std::nullopt;
  return static_cast<double>(passed_) / static_cast<double>(ok_);
}

std::optional<double> Summary::latency_percentile(double p) const {
  if (latency_count_ == 0) return std::nullopt;
  auto rank = static_cast<std::int64_t>(std::ceil(p * static_cast<double>(latency_count_)));
  rank = std::max<std::int64_t>(rank, 1);
  std::int64_t seen = 0;
  for (std::size_t ms = 0; ms < latency_ms_hist_.size(); ++ms) {
    seen += latency_ms_hist_[ms];
    if (seen >= rank) return static_cast<double>(ms);
  }
  return static_cast<double>(kLatencyBuckets - 1);
}

std::optional<provider::Price> Summary::price_of(const std::string& provider) const {
  if (auto it = prices_.find(provider); it != prices_.end()) return it->second;
  auto model = model_of_.find(provider);
  if (model == model_of_.end()) return std::nullopt;
  if (auto row = provider::table_price(model->second)) return row->price;
  return std::nullopt;
}

std::optional<double> Summary::priced(const std::map<std::string, provider::TokenUsage>& by_provider) const {
  double total = 0;
  for (const auto& [provider, usage] : by_provider) {
    if (usage.input == 0 && usage.output == 0) continue;
    std::optional<provider::Price> price = price_of(provider);
    if (!price) return std::nullopt;
    total += provider::cost_of(usage, *price);
  }
  return total;
}

std::vector<std::string> Summary::unpriced() const {
  std::vector<std::string> names;
  for (const auto& [provider, usage] : tokens_by_provider_) {
    if ((usage.input != 0 || usage.output != 0) && !price_of(provider)) names.push_back(provider);
  }
  return names;
}

std::optional<double> Summary::cost() const {
  std::optional<double> online = priced(tokens_by_provider_);
  if (!online || batch_tokens_by_provider_.empty()) return online;
  // The batch-answered share was priced in full above: take off what the batch price saves.
  return *online - (1.0 - provider::kBatchPriceFactor) * priced(batch_tokens_by_provider_).value_or(0.0);
}

std::optional<double> Summary::cost_saved() const { return priced(saved_by_provider_); }

nlohmann::json Summary::to_json(const RunCounters& counters, double wall_seconds) const {
  const std::optional<stats::MeanEstimate> mean_ci = mean_score_ci();
  nlohmann::json criteria = nlohmann::json::object();
  for (const auto& [name, s] : criteria_) {
    double stddev = s.count > 1 ? std::sqrt(s.m2 / static_cast<double>(s.count - 1)) : 0.0;
    auto mean_ci = s.normalized.interval(confidence_);
    criteria[name] = {
        {"count", s.count},
        {"mean", s.mean},
        {"stddev", stddev},
        {"min", s.min},
        {"max", s.max},
        {"pass_rate", static_cast<double>(s.passed) / static_cast<double>(s.count)},
        {"pass_rate_ci", interval_json(stats::wilson_interval(static_cast<std::uint64_t>(s.passed),
                                                              static_cast<std::uint64_t>(s.count), confidence_))},
        {"normalized_mean", s.normalized.mean().value_or(0.0)},
        {"mean_ci", interval_json(mean_ci ? std::optional<stats::Interval>(mean_ci->interval) : std::nullopt)}};
    if (s.repeated > 0) {
      criteria[name]["consistency"] = {{"rows", s.repeated},
                                       {"mean_stddev", s.within_stddev_sum / static_cast<double>(s.repeated)},
                                       {"disagreement",
                                        static_cast<double>(s.disagreeing) / static_cast<double>(s.repeated)}};
    }
  }
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [kind, e] : errors_by_kind_) errors[kind] = {{"count", e.count}, {"first_lines", e.first_lines}};
  nlohmann::json j = {
      {"rows", rows_},
      {"ok", ok_},
      {"error", errors_},
      {"invalid", invalid_},
      {"passed", passed_},
      {"pass_rate", optional_number(pass_rate())},
      {"confidence", confidence_},
      {"pass_rate_ci", interval_json(pass_rate_ci())},
      {"mean_score", optional_number(row_score_.mean())},
      {"mean_ci", interval_json(mean_ci ? std::optional<stats::Interval>(mean_ci->interval) : std::nullopt)},
      {"ci_method", mean_ci && row_score_.clustered() ? "clustered" : "t"},
      {"clusters", mean_ci ? nlohmann::json(mean_ci->clusters) : nlohmann::json(nullptr)},
      {"criteria", criteria},
      {"errors_by_kind", errors},
      {"latency_ms",
       {{"p50", optional_number(latency_percentile(0.50))},
        {"p95", optional_number(latency_percentile(0.95))},
        {"p99", optional_number(latency_percentile(0.99))}}},
      {"tokens",
       {{"input", tokens_.input},
        {"output", tokens_.output},
        {"cached_input", tokens_.cached_input},
        {"cache_write", tokens_.cache_write},
        {"reasoning", tokens_.reasoning}}},
      {"cost", optional_number(cost())},
      {"unpriced_providers", unpriced()},
      {"cache_hits", cache_hits_},
      {"cost_saved", optional_number(cost_saved())},
      {"batch_calls", batch_calls_},
      {"batch_fallbacks", batch_fallbacks_},
      {"provider_requests", counters.provider_requests},
      {"retries", counters.retries},
      {"fallbacks", counters.fallbacks},
      {"breaker_openings", counters.breaker_openings},
      {"rate_limit_waits", counters.rate_limit_waits},
      {"wall_seconds", wall_seconds},
      {"rows_per_second", wall_seconds > 0 ? static_cast<double>(rows_) / wall_seconds : 0.0},
  };
  if (!label_agreement_.empty()) j["agreement"] = label_agreement_.to_json();
  if (!jury_agreement_.empty()) j["jury_agreement"] = jury_agreement_.to_json();
  if (!pairwise_.empty()) j["pairwise"] = pairwise_.to_json(confidence_);
  if (simulated_) j["simulated"] = true;
  return j;
}

std::string Summary::to_table(const RunCounters& counters, double wall_seconds) const {
  std::string out;
  auto line = [&out](const std::string& label, const std::string& value) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-18s %s\n", label.c_str(), value.c_str());
    out += buf;
  };
  out += simulated_ ? "llmeval summary (SIMULATED judge: scores are not real)\n" : "llmeval summary\n";
  line("rows", std::to_string(rows_) + "  (ok " + std::to_string(ok_) + ", error " + std::to_string(errors_) +
                   ", invalid " + std::to_string(invalid_) + ")");
  const std::string level = fixed(confidence_ * 100, confidence_ * 100 == std::floor(confidence_ * 100) ? 0 : 1) + "%";
  auto ci = [](const std::optional<stats::Interval>& i, bool as_percent) {
    if (!i) return std::string();
    return as_percent ? "[" + fixed(i->lo * 100, 1) + ", " + fixed(i->hi * 100, 1) + "]"
                      : "[" + fixed(i->lo, 3) + ", " + fixed(i->hi, 3) + "]";
  };
  line("pass rate", percent(pass_rate()) + "  (" + std::to_string(passed_) + " of " + std::to_string(ok_) +
                        " judged rows" + (pass_rate_ci() ? "; " + level + " CI " + ci(pass_rate_ci(), true) : "") +
                        ")");
  if (auto mean = mean_score_ci()) {
    line("mean score",
         fixed(mean->mean, 3) + "  (" + level + " CI " + ci(mean->interval, false) +
             (row_score_.clustered() ? ", clustered over " + std::to_string(mean->clusters) + " groups" : "") + ")");
  }
  if (!criteria_.empty()) {
    // The name column fits the longest name (up to kMaxNameWidth), so names are never cut short
    // in the usual case and the numbers stay in columns.
    int width = 18;
    for (const auto& [name, s] : criteria_) width = std::max(width, static_cast<int>(name.size()));
    width = std::min(width, kMaxNameWidth);
    char head[256];
    std::snprintf(head, sizeof head, "  %-*s %8s %8s %8s %8s %9s %15s %7s\n", width, "criterion", "mean", "stddev",
                  "min", "max", "pass", ("pass " + level + " CI").c_str(), "count");
    out += head;
    for (const auto& [name, s] : criteria_) {
      double stddev = s.count > 1 ? std::sqrt(s.m2 / static_cast<double>(s.count - 1)) : 0.0;
      std::string shown = name.size() > static_cast<std::size_t>(width) ? name.substr(0, width - 1) + "~" : name;
      std::string pass_ci = ci(stats::wilson_interval(static_cast<std::uint64_t>(s.passed),
                                                      static_cast<std::uint64_t>(s.count), confidence_),
                               true);
      char row[320];
      std::snprintf(row, sizeof row, "  %-*s %8.2f %8.2f %8.2f %8.2f %8.1f%% %15s %7lld\n", width, shown.c_str(),
                    s.mean, stddev, s.min, s.max, 100.0 * static_cast<double>(s.passed) / static_cast<double>(s.count),
                    pass_ci.c_str(), static_cast<long long>(s.count));
      out += row;
    }
  }
  for (const auto& [name, s] : criteria_) {
    if (s.repeated == 0) continue;
    line("consistency", name + ": within-row stddev " +
                            fixed(s.within_stddev_sum / static_cast<double>(s.repeated), 2) + ", verdicts differ in " +
                            percent(static_cast<double>(s.disagreeing) / static_cast<double>(s.repeated)) + " of " +
                            std::to_string(s.repeated) + " rows");
  }
  out += label_agreement_.to_table();
  out += jury_agreement_.to_table();
  out += pairwise_.to_table(confidence_);
  if (!errors_by_kind_.empty()) {
    std::size_t kind_width = 0;
    for (const auto& [kind, e] : errors_by_kind_) kind_width = std::max(kind_width, kind.size());
    out += "  errors by kind\n";
    for (const auto& [kind, e] : errors_by_kind_) {
      std::string lines;
      for (auto l : e.first_lines) lines += (lines.empty() ? "" : ", ") + std::to_string(l);
      if (e.count > static_cast<std::int64_t>(e.first_lines.size())) lines += ", ...";
      char row[512];
      std::snprintf(row, sizeof row, "    %-*s %7lld  (lines %s)\n", static_cast<int>(kind_width), kind.c_str(),
                    static_cast<long long>(e.count), lines.c_str());
      out += row;
    }
  }
  auto ms = [](std::optional<double> v) { return v ? fixed(*v, 0) + "ms" : std::string("-"); };
  line("judge latency", "p50 " + ms(latency_percentile(0.5)) + "  p95 " + ms(latency_percentile(0.95)) + "  p99 " +
                            ms(latency_percentile(0.99)));
  line("tokens", "in " + std::to_string(tokens_.input) +
                     (tokens_.cached_input > 0 ? " (cached " + std::to_string(tokens_.cached_input) + ")" : "") +
                     "  out " + std::to_string(tokens_.output));
  if (auto c = cost()) {
    line("cost", "$" + fixed(*c, 4));
  } else {
    line("cost", "unknown (no price for " + join(unpriced()) + "; set \"price\" in the config)");
  }
  if (batch_calls_ + batch_fallbacks_ > 0) {
    line("batch", std::to_string(batch_calls_) + " verdicts from provider batches (half price), " +
                      std::to_string(batch_fallbacks_) + " judged online instead");
  }
  if (cache_hits_ > 0) {
    auto saved = cost_saved();
    line("judge cache",
         std::to_string(cache_hits_) + " verdicts reused" + (saved ? "  ($" + fixed(*saved, 4) + " not spent)" : ""));
  }
  line("requests", std::to_string(counters.provider_requests) + "  (retries " + std::to_string(counters.retries) +
                       ", fallbacks " + std::to_string(counters.fallbacks) + ", rate-limit waits " +
                       std::to_string(counters.rate_limit_waits) + ", breaker openings " +
                       std::to_string(counters.breaker_openings) + ")");
  line("wall time", fixed(wall_seconds, 2) + "s  (" +
                        fixed(wall_seconds > 0 ? static_cast<double>(rows_) / wall_seconds : 0.0, 1) + " rows/s)");
  return out;
}

}  // namespace llmeval::output
