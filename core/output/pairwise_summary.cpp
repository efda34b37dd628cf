#include "core/output/pairwise_summary.h"

#include <algorithm>
#include <cstdio>

#include "core/output/summary_format.h"
#include "core/stats/bradley_terry.h"
#include "core/stats/proportion.h"

namespace llmeval::output {
namespace {

constexpr int kBootstrapResamples = 1000;
constexpr std::uint64_t kBootstrapSeed = 0x5eed;  // the same rows give the same intervals

}  // namespace

std::size_t PairwiseSummary::model_index(Entry& entry, const std::string& model) {
  for (std::size_t i = 0; i < entry.models.size(); ++i) {
    if (entry.models[i] == model) return i;
  }
  entry.models.push_back(model);
  return entry.models.size() - 1;
}

void PairwiseSummary::add(const ResultRecord& record, const CriterionResult& criterion) {
  if (criterion.winner.empty()) return;
  Entry& entry = criteria_[criterion.name];
  if (criterion.winner == "a") ++entry.wins_a;
  else if (criterion.winner == "b") ++entry.wins_b;
  else ++entry.ties;
  if (criterion.orders.size() == 2) {
    ++entry.with_orders;
    if (criterion.position_inconsistent) ++entry.inconsistent;
  }
  for (const JurorVerdict& juror : criterion.jury) {  // with a jury, each juror judged both orders
    if (!juror.score) continue;
    ++entry.with_orders;
    if (juror.position_inconsistent) ++entry.inconsistent;
  }
  if (record.model_a.empty() || record.model_b.empty() || record.model_a == record.model_b) return;
  std::size_t a = model_index(entry, record.model_a), b = model_index(entry, record.model_b);
  const bool a_first = a < b;
  Outcomes& outcomes = entry.by_models[a_first ? std::make_pair(a, b) : std::make_pair(b, a)];
  if (criterion.winner == "tie") ++outcomes.ties;
  else if ((criterion.winner == "a") == a_first) ++outcomes.first_wins;
  else ++outcomes.second_wins;
}

nlohmann::json PairwiseSummary::ranking(const Entry& entry, double confidence) const {
  if (entry.models.size() <= 2) return nullptr;
  std::vector<stats::PairRecord> pairs;
  std::vector<std::int64_t> comparisons(entry.models.size(), 0);
  for (const auto& [models, outcomes] : entry.by_models) {
    pairs.push_back({models.first, models.second, outcomes.first_wins, outcomes.second_wins, outcomes.ties});
    const std::int64_t n = outcomes.first_wins + outcomes.second_wins + outcomes.ties;
    comparisons[models.first] += n;
    comparisons[models.second] += n;
  }
  auto ratings = stats::bradley_terry(entry.models.size(), pairs, confidence, kBootstrapResamples, kBootstrapSeed);
  if (!ratings) return nullptr;  // models never compared with the others: no common scale
  std::vector<std::size_t> order(entry.models.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y) { return (*ratings)[x].strength > (*ratings)[y].strength; });
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i : order) {
    const stats::BradleyTerryRating& r = (*ratings)[i];
    out.push_back({{"model", entry.models[i]},
                   {"strength", r.strength},
                   {"ci", nlohmann::json::array({r.low, r.high})},
                   {"comparisons", comparisons[i]}});
  }
  return out;
}

nlohmann::json PairwiseSummary::to_json(double confidence) const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, e] : criteria_) {
    const auto decided = static_cast<std::uint64_t>(e.wins_a + e.wins_b);
    std::optional<stats::Interval> ci = stats::wilson_interval(static_cast<std::uint64_t>(e.wins_b), decided,
                                                               confidence);
    out[name] = {
        {"pairs", e.wins_a + e.wins_b + e.ties},
        {"wins_a", e.wins_a},
        {"wins_b", e.wins_b},
        {"ties", e.ties},
        {"b_win_rate", decided > 0 ? nlohmann::json(static_cast<double>(e.wins_b) / static_cast<double>(decided))
                                   : nlohmann::json(nullptr)},
        {"b_win_rate_ci", ci ? nlohmann::json::array({ci->lo, ci->hi}) : nlohmann::json(nullptr)},
        {"position_consistency",
         optional_number(e.with_orders > 0 ? std::optional<double>(1.0 - static_cast<double>(e.inconsistent) /
                                                                             static_cast<double>(e.with_orders))
                                           : std::nullopt)},
        {"position_inconsistent", e.inconsistent},
        {"ranking", ranking(e, confidence)}};
  }
  return out;
}

std::string PairwiseSummary::to_table(double confidence) const {
  std::string out;
  const nlohmann::json summary = to_json(confidence);
  for (const auto& [name, s] : summary.items()) {
    std::string line = name + ": b wins " + std::to_string(s["wins_b"].get<std::int64_t>()) + ", a wins " +
                       std::to_string(s["wins_a"].get<std::int64_t>()) + ", ties " +
                       std::to_string(s["ties"].get<std::int64_t>());
    if (!s["b_win_rate"].is_null()) {
      line += "; b's win rate " + fixed(s["b_win_rate"].get<double>() * 100, 1) + "%";
      if (!s["b_win_rate_ci"].is_null()) {
        line += " [" + fixed(s["b_win_rate_ci"][0].get<double>() * 100, 1) + ", " +
                fixed(s["b_win_rate_ci"][1].get<double>() * 100, 1) + "]";
      }
    }
    if (!s["position_consistency"].is_null()) {
      line += "; position-consistent " + fixed(s["position_consistency"].get<double>() * 100, 1) + "%";
    }
    char row[1024];
    std::snprintf(row, sizeof row, "  %-18s %s\n", "pairwise", line.c_str());
    out += row;
    if (s["ranking"].is_array()) {
      std::string ranking, last;
      for (const auto& r : s["ranking"]) {
        const std::string strength = fixed(r["strength"].get<double>(), 2);
        // Equal strengths (as shown) are not an order.
        ranking += (ranking.empty()    ? ""
                    : strength == last ? " = "
                                       : " > ") +
                   r["model"].get<std::string>() + " " + strength;
        last = strength;
      }
      std::snprintf(row, sizeof row, "  %-18s %s\n", "  ranking", ranking.c_str());
      out += row;
    }
  }
  return out;
}

}  // namespace llmeval::output
