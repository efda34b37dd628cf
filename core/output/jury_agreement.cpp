#include "core/output/jury_agreement.h"

#include <cmath>
#include <cstdio>

#include "core/dataset/criteria_parser.h"
#include "core/output/summary_format.h"

namespace llmeval::output {
namespace {

stats::KappaWeights weights_for(const std::string& scale) {
  return scale == "binary" ? stats::KappaWeights::kNone : stats::KappaWeights::kQuadratic;
}

}  // namespace

std::size_t JuryAgreement::juror_index(Entry& entry, const std::string& provider) const {
  for (std::size_t i = 0; i < entry.jurors.size(); ++i) {
    if (entry.jurors[i] == provider) return i;
  }
  entry.jurors.push_back(provider);
  entry.distribution.emplace_back(static_cast<std::size_t>(entry.max - entry.min + 1), 0);
  return entry.jurors.size() - 1;
}

void JuryAgreement::add(const CriterionResult& criterion) {
  dataset::Scale scale{};
  if (criterion.jury.empty() || !criterion.winner.empty() || !dataset::parse_scale(criterion.scale, scale)) return;
  const dataset::ScaleRange range = dataset::range_of(scale);
  const auto metric = scale == dataset::Scale::kBinary ? stats::KrippendorffAlpha::Metric::kNominal
                                                       : stats::KrippendorffAlpha::Metric::kInterval;
  auto [it, inserted] = criteria_.try_emplace(
      criterion.name,
      Entry{criterion.scale, range.min, range.max, {}, stats::KrippendorffAlpha(range.min, range.max, metric), {}, {}});
  Entry& entry = it->second;
  if (entry.scale != criterion.scale) return;  // rows disagree on the scale: keep the first

  std::vector<std::optional<int>> values(entry.jurors.size());
  for (const JurorVerdict& juror : criterion.jury) {
    const std::size_t index = juror_index(entry, juror.provider);
    if (index >= values.size()) values.resize(index + 1);
    if (!juror.score) continue;  // abstained: a missing value
    const int value = static_cast<int>(std::lround(*juror.score));
    values[index] = value;
    if (value >= entry.min && value <= entry.max)
      ++entry.distribution[index][static_cast<std::size_t>(value - entry.min)];
  }
  entry.alpha.add_unit(values);
  for (std::size_t a = 0; a < values.size(); ++a) {
    for (std::size_t b = a + 1; b < values.size(); ++b) {
      if (!values[a] || !values[b]) continue;
      auto pair = entry.pairs.try_emplace({a, b}, entry.min, entry.max).first;
      pair->second.add(*values[a], *values[b]);
    }
  }
}

nlohmann::json JuryAgreement::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, entry] : criteria_) {
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& [indexes, table] : entry.pairs) {
      pairs.push_back({{"a", entry.jurors[indexes.first]},
                       {"b", entry.jurors[indexes.second]},
                       {"n", table.n()},
                       {"kappa", optional_number(table.kappa(weights_for(entry.scale)))}});
    }
    nlohmann::json scores = nlohmann::json::array(), distribution = nlohmann::json::object();
    for (int score = entry.min; score <= entry.max; ++score) scores.push_back(score);
    for (std::size_t j = 0; j < entry.jurors.size(); ++j) distribution[entry.jurors[j]] = entry.distribution[j];
    out[name] = {{"jurors", entry.jurors},
                 {"scale", entry.scale},
                 {"units", entry.alpha.units()},
                 {"alpha", optional_number(entry.alpha.alpha())},
                 {"alpha_metric", entry.scale == "binary" ? "nominal" : "interval"},
                 {"kappa_weights", entry.scale == "binary" ? "none" : "quadratic"},
                 {"pairs", pairs},
                 {"scores", scores},
                 {"distribution", distribution}};
  }
  return out;
}

std::string JuryAgreement::to_table() const {
  std::string out;
  for (const auto& [name, entry] : criteria_) {
    char text[64];
    const std::optional<double> alpha = entry.alpha.alpha();
    std::snprintf(text, sizeof text, alpha ? "%.3f" : "-", alpha.value_or(0.0));
    std::string line = name + ": Krippendorff's alpha " + text + " over " + std::to_string(entry.jurors.size()) +
                       " jurors, " + std::to_string(entry.alpha.units()) + " rows";
    for (const auto& [indexes, table] : entry.pairs) {
      const std::optional<double> kappa = table.kappa(weights_for(entry.scale));
      std::snprintf(text, sizeof text, kappa ? "%.3f" : "-", kappa.value_or(0.0));
      line += "; kappa " + entry.jurors[indexes.first] + "/" + entry.jurors[indexes.second] + " " + text;
    }
    char row[1024];
    std::snprintf(row, sizeof row, "  %-18s %s\n", "jury agreement", line.c_str());
    out += row;
  }
  return out;
}

}  // namespace llmeval::output
