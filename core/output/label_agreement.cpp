#include "core/output/label_agreement.h"

#include <cmath>
#include <cstdio>

#include "core/dataset/criteria_parser.h"
#include "core/output/summary_format.h"

namespace llmeval::output {
namespace {

std::string number_or_dash(std::optional<double> v, const char* format) {
  if (!v) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, *v);
  return text;
}

}  // namespace

void LabelAgreement::add(const CriterionResult& criterion) {
  dataset::Scale scale{};
  if (!criterion.label || !dataset::parse_scale(criterion.scale, scale)) return;
  const dataset::ScaleRange range = dataset::range_of(scale);
  auto [it, inserted] = tables_.try_emplace(criterion.name, Entry{criterion.scale, {range.min, range.max}});
  if (!inserted && it->second.scale != criterion.scale) return;  // rows disagree on the scale: keep the first
  it->second.table.add(static_cast<int>(std::lround(criterion.score)), static_cast<int>(std::lround(*criterion.label)));
}

nlohmann::json LabelAgreement::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, entry] : tables_) {
    const stats::AgreementTable& t = entry.table;
    const bool binary = entry.scale == "binary";
    nlohmann::json scores = nlohmann::json::array(), counts = nlohmann::json::array();
    for (int judge = t.min(); judge <= t.max(); ++judge) {
      scores.push_back(judge);
      nlohmann::json row = nlohmann::json::array();
      for (int label = t.min(); label <= t.max(); ++label) row.push_back(t.count(judge, label));
      counts.push_back(std::move(row));
    }
    nlohmann::json agreement = {
        {"n", t.n()},
        {"scale", entry.scale},
        {"exact", optional_number(t.exact())},
        {"within_one", binary ? nlohmann::json(nullptr) : optional_number(t.within_one())},
        {"kappa", optional_number(t.kappa(binary ? stats::KappaWeights::kNone : stats::KappaWeights::kQuadratic))},
        {"kappa_weights", binary ? "none" : "quadratic"},
        {"spearman", optional_number(t.spearman())},
        {"kendall_tau_b", optional_number(t.kendall_tau_b())},
        {"confusion", {{"scores", scores}, {"counts", counts}}}};
    out[name] = std::move(agreement);
  }
  return out;
}

std::string LabelAgreement::to_table() const {
  std::string out;
  const auto percent = [](std::optional<double> share) {
    return number_or_dash(share ? std::optional<double>(*share * 100) : std::nullopt, "%.1f%%");
  };
  for (const auto& [name, entry] : tables_) {
    const stats::AgreementTable& t = entry.table;
    const bool binary = entry.scale == "binary";
    const auto weights = binary ? stats::KappaWeights::kNone : stats::KappaWeights::kQuadratic;
    std::string text = name + ": " + std::to_string(t.n()) + " labelled, exact " + percent(t.exact());
    if (!binary) text += ", within one " + percent(t.within_one());
    text += ", kappa " + number_or_dash(t.kappa(weights), "%.3f") + (binary ? " (unweighted)" : " (quadratic)") +
            ", spearman " + number_or_dash(t.spearman(), "%.3f") + ", tau-b " +
            number_or_dash(t.kendall_tau_b(), "%.3f");
    char line[1024];
    std::snprintf(line, sizeof line, "  %-18s %s\n", "human agreement", text.c_str());
    out += line;
  }
  return out;
}

}  // namespace llmeval::output
