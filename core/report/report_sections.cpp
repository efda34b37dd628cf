#include "core/report/report_sections.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "core/report/html_text.h"
#include "core/report/svg_chart.h"

namespace llmeval::report {
namespace {

using nlohmann::json;

// Criteria charted before the rest fold into a <details>: a dataset can name dozens.
constexpr std::size_t kCriteriaShown = 11;

std::optional<double> optional_number(const json& value) {
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

std::string card(const std::string& label, const std::string& value, const std::string& detail,
                 const std::string& tone = "") {
  return "<div class=\"card" + (tone.empty() ? "" : " " + tone) + "\"><div class=\"label\">" + html_escape(label) +
         "</div><div class=\"value\">" + html_escape(value) + "</div><div class=\"detail\">" + html_escape(detail) +
         "</div></div>";
}

std::string cell(const std::string& text, const std::string& css_class = "") {
  return "<td" + (css_class.empty() ? "" : " class=\"" + css_class + "\"") + ">" + html_escape(text) + "</td>";
}

std::string header_row(std::initializer_list<const char*> names, std::size_t first_numeric) {
  std::string row = "<thead><tr>";
  std::size_t i = 0;
  for (const char* name : names) {
    row += i++ >= first_numeric ? "<th class=\"num\">" : "<th>";
    row += name;
    row += "</th>";
  }
  return row + "</tr></thead>";
}

std::string delta_cell(std::optional<double> now, std::optional<double> before, int decimals, double scale,
                       const std::string& suffix) {
  if (!now || !before) return cell("–", "num delta same");
  const double delta = (*now - *before) * scale;
  const std::string text = format_delta(delta, decimals, suffix);
  const std::string direction = text.rfind("±", 0) == 0 ? "same" : (delta > 0 ? "up" : "down");
  return cell(text, "num delta " + direction);
}

// "95% CI [a, b]" of a summary interval ([lo, hi] or null), as a percentage or a 0..1 number.
std::string ci_text(const json& interval, double confidence, bool as_percent) {
  if (!interval.is_array()) return "";
  auto value = [as_percent](double v) { return as_percent ? format_decimal(v * 100, 1) : format_decimal(v, 3); };
  return format_decimal(confidence * 100, confidence * 100 == std::floor(confidence * 100) ? 0 : 1) + "% CI [" +
         value(interval[0].get<double>()) + ", " + value(interval[1].get<double>()) + "]";
}

std::string dollars(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "$%.4f", value);
  return text;
}

// What the judge calls cost (unknown, never $0, when a provider has no price) and what the
// judge cache saved.
std::string cost_card(const json& s) {
  const std::int64_t hits = s.value("cache_hits", std::int64_t{0});
  std::string detail = hits > 0 ? format_count(hits) + " verdicts from the judge cache" : "no judge-cache hits";
  if (hits > 0 && s["cost_saved"].is_number()) detail += " · " + dollars(s["cost_saved"].get<double>()) + " saved";
  if (s["cost"].is_number()) return card("Cost", dollars(s["cost"].get<double>()), detail);
  std::string unpriced;
  for (const auto& name : s.value("unpriced_providers", json::array())) {
    unpriced += (unpriced.empty() ? "" : ", ") + name.get<std::string>();
  }
  return card("Cost", "unknown", "no price for " + unpriced + " · " + detail, "warn");
}

std::string budget_card(const json& budget) {
  const bool stopped = budget.value("stopped", false);
  std::string detail = "of " + dollars(budget.value("limit", 0.0));
  if (budget.contains("key")) detail += " shared";
  if (stopped) {
    const json& left = budget.value("rows_left", json());
    detail += " · stopped, " + (left.is_number() ? format_count(left.get<std::int64_t>()) : std::string("?")) +
              " rows left";
  }
  return card("Budget", dollars(budget.value("spent", 0.0)) + " spent", detail, stopped ? "warn" : "");
}

}  // namespace

std::string headline_section(const ReportOverview& overview) {
  const json& s = overview.summary_json;
  const std::int64_t ok = s["ok"], errors = s["error"], invalid = s["invalid"];
  std::string html = "<section id=\"headline\"><div class=\"cards\">";
  html += card("Rows", format_count(overview.rows),
               format_count(ok) + " judged · " + format_count(errors) + " error · " + format_count(invalid) +
                   " invalid");
  html += card("Pass rate", format_percent(optional_number(s["pass_rate"])),
               format_count(s["passed"].get<std::int64_t>()) + " of " + format_count(ok) + " judged rows passed" +
                   (s["pass_rate_ci"].is_array() ? " · " + ci_text(s["pass_rate_ci"], s.value("confidence", 0.95), true)
                                                 : ""));
  const std::optional<double> mean_score = ok > 0 ? std::optional<double>(overview.stats.row_score_sum() /
                                                                          static_cast<double>(ok))
                                                  : std::nullopt;
  html += card("Mean score", mean_score ? format_decimal(*mean_score, 3) : "–", "weighted, normalized to 0–1");
  std::string top_kind;
  std::int64_t top_count = 0;
  for (const auto& [kind, entry] : s["errors_by_kind"].items()) {
    if (entry["count"].get<std::int64_t>() > top_count) {
      top_count = entry["count"];
      top_kind = kind;
    }
  }
  html += card("Errors", format_count(errors + invalid),
               top_count > 0 ? "most: " + top_kind + " (" + format_count(top_count) + ")" : "none",
               errors + invalid > 0 ? "bad" : "good");
  const json& latency = s["latency_ms"];
  if (overview.stats.llm_calls() > 0) {
    html += card("Judge latency p50", format_ms(latency["p50"].get<double>()),
                 "p95 " + format_ms(latency["p95"].get<double>()) + " · p99 " +
                     format_ms(latency["p99"].get<double>()));
  }
  const std::int64_t tokens_in = s["tokens"]["input"], tokens_out = s["tokens"]["output"];
  const std::int64_t tokens_cached = s["tokens"].value("cached_input", std::int64_t{0});
  html += card("Tokens", format_compact(tokens_in + tokens_out),
               format_count(tokens_in) + " in" +
                   (tokens_cached > 0 ? " (" + format_count(tokens_cached) + " cached)" : "") + " · " +
                   format_count(tokens_out) + " out");
  html += cost_card(s);
  if (overview.budget.is_object()) html += budget_card(overview.budget);
  html += card("Judge calls", format_count(s["provider_requests"].get<std::int64_t>()),
               format_count(s["retries"].get<std::int64_t>()) + " retries · " +
                   format_count(s["fallbacks"].get<std::int64_t>()) + " fallbacks",
               s["fallbacks"].get<std::int64_t>() > 0 ? "warn" : "");
  return html + "</div></section>";
}

std::string compare_section(const ReportOverview& overview) {
  const RunComparison& comparison = *overview.comparison;
  const ChangeCounts counts = comparison.counts();
  const json before = comparison.baseline_summary().to_json(comparison.baseline_summary().counters_from_rows(), 0);
  const json& now = overview.summary_json;

  std::string html = "<section id=\"compare\"><h2>Compared with baseline <code>" +
                     html_escape(display_file_name(comparison.baseline_path())) + "</code></h2><div class=\"cards\">";
  const auto pass_now = optional_number(now["pass_rate"]), pass_before = optional_number(before["pass_rate"]);
  std::string pass_delta = "–";
  if (pass_now && pass_before) pass_delta = format_delta((*pass_now - *pass_before) * 100, 1, " pp");
  html += card("Pass rate", pass_delta, format_percent(pass_before) + " → " + format_percent(pass_now),
               pass_now && pass_before ? (*pass_now < *pass_before ? "bad" : (*pass_now > *pass_before ? "good" : ""))
                                       : "");
  html += card("Regressed", format_count(counts.regressed), "passed before, fail now",
               counts.regressed > 0 ? "bad" : "good");
  html += card("Fixed", format_count(counts.fixed), "failed before, pass now", counts.fixed > 0 ? "good" : "");
  html += card("New errors", format_count(counts.new_error), format_count(counts.recovered) + " recovered from errors",
               counts.new_error > 0 ? "bad" : "");
  html += card("Other changes", format_count(counts.changed), "same verdict, a criterion's verdict changed");
  html += card("Unmatched rows", format_count(counts.added + counts.baseline_only),
               format_count(counts.added) + " only here · " + format_count(counts.baseline_only) + " only in baseline",
               counts.added + counts.baseline_only > 0 ? "warn" : "");
  html += "</div>";
  if (overview.paired) {
    // The same text `llmeval compare` prints, digit for digit.
    const bool significant = overview.paired->any_significant();
    html += "<h3>Beyond noise?</h3><pre class=\"significance" + std::string(significant ? " significant" : "") + "\">" +
            html_escape(overview.paired->to_table()) + "</pre>";
  }
  html += "<table class=\"grid\">";
  html += header_row({"Criterion", "Mean before", "Mean now", "Δ mean", "Pass before", "Pass now", "Δ pass", "Rows"},
                     1);
  html += "<tbody>";
  // Biggest drops in pass rate first; criteria only one run has go last.
  std::vector<std::string> names = overview.stats.criterion_order();
  for (const auto& [name, stats] : before["criteria"].items()) {
    if (!now["criteria"].contains(name)) names.push_back(name);
  }
  const json none = json::object();
  auto stats_of = [&none](const json& run, const std::string& name) -> const json& {
    return run["criteria"].contains(name) ? run["criteria"][name] : none;
  };
  auto pass_change = [&](const std::string& name) {
    const auto a = optional_number(stats_of(before, name).value("pass_rate", json()));
    const auto b = optional_number(stats_of(now, name).value("pass_rate", json()));
    return a && b ? *b - *a : std::numeric_limits<double>::infinity();
  };
  std::stable_sort(names.begin(), names.end(),
                   [&](const std::string& x, const std::string& y) { return pass_change(x) < pass_change(y); });
  for (const std::string& name : names) {
    const json& a = stats_of(before, name);
    const json& b = stats_of(now, name);
    auto mean_a = optional_number(a.value("mean", json())), mean_b = optional_number(b.value("mean", json()));
    auto rate_a = optional_number(a.value("pass_rate", json())), rate_b = optional_number(b.value("pass_rate", json()));
    html += "<tr>" + cell(name) + cell(mean_a ? format_decimal(*mean_a, 2) : "–", "num") +
            cell(mean_b ? format_decimal(*mean_b, 2) : "–", "num") + delta_cell(mean_b, mean_a, 2, 1, "") +
            cell(format_percent(rate_a), "num") + cell(format_percent(rate_b), "num") +
            delta_cell(rate_b, rate_a, 1, 100, " pp") +
            cell(format_count(a.value("count", std::int64_t{0})) + " → " +
                     format_count(b.value("count", std::int64_t{0})),
                 "num") +
            "</tr>";
  }
  return html + "</tbody></table><p class=\"note\">Rows are matched by id. Pick “Changed vs baseline” in the row " +
         "table below to see every row whose verdict moved.</p></section>";
}

// What one criterion's block shows: its pass rate and mean (0..1), each with its interval
// ([lo, hi] from the summary JSON, or null), and its score distribution.
struct CriterionView {
  std::string title;
  std::string stats_line;
  std::optional<double> pass_rate;
  json pass_ci;
  std::optional<double> mean;  // normalized, 0..1
  json mean_ci;
  double confidence = 0.95;
  std::vector<Bar> bars;
};

// An interval drawn as an error bar over a 0..1 track: a line with end caps.
std::string error_bar(const json& interval) {
  if (!interval.is_array()) return "";
  const double lo = std::clamp(interval[0].get<double>(), 0.0, 1.0) * 100;
  const double hi = std::clamp(interval[1].get<double>(), 0.0, 1.0) * 100;
  return "<div class=\"ci\" style=\"left:" + format_decimal(lo, 1) + "%;width:" + format_decimal(hi - lo, 1) +
         "%\"></div>";
}

std::string criterion_block(const CriterionView& view) {
  std::string html = "<div class=\"criterion\"><h3>" + html_escape(view.title) + "</h3><div class=\"stats\">" +
                     html_escape(view.stats_line) + "</div>";
  if (view.pass_rate) {
    html += "<div class=\"passbar\" title=\"pass rate " + format_percent(view.pass_rate) +
            (view.pass_ci.is_array() ? ", " + ci_text(view.pass_ci, view.confidence, true) : "") +
            "\"><div class=\"pass\" style=\"width:" + format_decimal(*view.pass_rate * 100, 1) + "%\"></div>" +
            error_bar(view.pass_ci) + "</div>";
  }
  if (view.mean) {
    html += "<div class=\"meanbar\" title=\"mean " + format_decimal(*view.mean, 3) + " of 0–1" +
            (view.mean_ci.is_array() ? ", " + ci_text(view.mean_ci, view.confidence, false) : "") + "\">" +
            error_bar(view.mean_ci) +
            "<div class=\"dot\" style=\"left:" + format_decimal(std::clamp(*view.mean, 0.0, 1.0) * 100, 1) +
            "%\"></div></div>";
  }
  return html + bar_chart_svg(view.bars, view.title + " score distribution") + "</div>";
}

std::string criteria_section(const ReportOverview& overview) {
  const json& s = overview.summary_json;
  std::string html = "<section id=\"criteria\"><h2>Criteria</h2><div class=\"criteria-grid\">";
  const std::int64_t ok = s["ok"];
  if (ok > 0) {
    const double confidence = s.value("confidence", 0.95);
    const double mean = overview.stats.row_score_sum() / static_cast<double>(ok);
    html += criterion_block(CriterionView{
        "Row score (all criteria)",
        "mean " + format_decimal(mean, 3) +
            (s["mean_ci"].is_array() ? " (" + ci_text(s["mean_ci"], confidence, false) + ")" : "") + " · pass " +
            format_percent(optional_number(s["pass_rate"])) +
            (s["pass_rate_ci"].is_array() ? " (" + ci_text(s["pass_rate_ci"], confidence, true) + ")" : "") + " · " +
            format_count(ok) + " judged rows",
        optional_number(s["pass_rate"]), s["pass_rate_ci"], mean, s["mean_ci"], confidence,
        overview.stats.row_score_bars()});
  }
  const auto& names = overview.stats.criterion_order();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (i == kCriteriaShown && names.size() > kCriteriaShown + 1) {
      html += "</div><details class=\"more-criteria\"><summary>" +
              format_count(static_cast<std::int64_t>(names.size() - i)) +
              " more criteria</summary><div class=\"criteria-grid\">";
    }
    const json& c = s["criteria"][name];
    const auto pass_rate = optional_number(c["pass_rate"]);
    const double confidence = s.value("confidence", 0.95);
    html += criterion_block(CriterionView{
        name,
        "mean " + format_decimal(c["mean"].get<double>(), 2) + " (" + format_decimal(c["min"].get<double>(), 2) + "–" +
            format_decimal(c["max"].get<double>(), 2) + ") · pass " + format_percent(pass_rate) +
            (c["pass_rate_ci"].is_array() ? " (" + ci_text(c["pass_rate_ci"], confidence, true) + ")" : "") + " · " +
            format_count(c["count"].get<std::int64_t>()) + " rows",
        pass_rate, c["pass_rate_ci"], optional_number(c["normalized_mean"]), c["mean_ci"], confidence,
        overview.stats.scores().at(name).bars()});
  }
  if (ok == 0 && names.empty()) html += "<p class=\"none\">No row was judged.</p>";
  html += "</div>";
  if (names.size() > kCriteriaShown + 1) html += "</details>";
  return html + "</section>";
}

namespace {

// A statistic as the summary table prints it (%.3f), "–" when the summary has null.
std::string stat3(const json& value) { return format_fixed(optional_number(value), 3); }

std::string kappa_weights_text(const json& weights) { return weights == "quadratic" ? "quadratic" : "unweighted"; }

std::vector<std::string> score_labels(const json& scores) {
  std::vector<std::string> labels;
  for (const json& score : scores) labels.push_back(score.dump());
  return labels;
}

// One bar per score of the scale, for a juror's score distribution.
std::vector<Bar> score_bars(const json& scores, const json& counts, const std::string& who) {
  std::vector<Bar> bars;
  for (std::size_t i = 0; i < scores.size() && i < counts.size(); ++i) {
    const std::int64_t count = counts[i].get<std::int64_t>();
    bars.push_back(
        Bar{scores[i].dump(), count, "",
            who + " gave " + scores[i].dump() + ": " + format_count(count) + (count == 1 ? " row" : " rows")});
  }
  return bars;
}

}  // namespace

std::string agreement_section(const ReportOverview& overview) {
  const json& s = overview.summary_json;
  if (!s.contains("agreement") || s["agreement"].empty()) return "";
  const json& agreement = s["agreement"];
  std::string html =
      "<section id=\"agreement\"><h2>Human agreement</h2><p class=\"note\">The judge's score against the "
      "dataset's <code>labels</code>, over the judged rows that have one (a score that is not a whole number is "
      "rounded to the nearest point of the scale). Cohen's κ corrects for agreement by chance: quadratic-weighted "
      "on 1-5 and 1-10 scales, unweighted on binary ones.</p><table class=\"grid agreement\">";
  html += header_row({"Criterion", "Scale", "κ weights", "Labelled", "Exact", "Within one", "Cohen's κ", "Spearman",
                      "Kendall τ-b"},
                     3);
  html += "<tbody>";
  for (const auto& [name, a] : agreement.items()) {
    html += "<tr>" + cell(name) + cell(a["scale"].get<std::string>()) + cell(kappa_weights_text(a["kappa_weights"])) +
            cell(format_count(a["n"].get<std::int64_t>()), "num") +
            cell(format_percent(optional_number(a["exact"])), "num") +
            cell(format_percent(optional_number(a["within_one"])), "num") + cell(stat3(a["kappa"]), "num") +
            cell(stat3(a["spearman"]), "num") + cell(stat3(a["kendall_tau_b"]), "num") + "</tr>";
  }
  html += "</tbody></table><div class=\"criteria-grid\">";
  for (const auto& [name, a] : agreement.items()) {
    const json& confusion = a["confusion"];
    Heatmap heatmap;
    heatmap.row_labels = score_labels(confusion["scores"]);
    heatmap.column_labels = heatmap.row_labels;
    for (const json& row : confusion["counts"]) heatmap.counts.push_back(row.get<std::vector<std::int64_t>>());
    heatmap.row_title = "judge";
    heatmap.column_title = "label";
    html += "<div class=\"criterion confusion\"><h3>" + html_escape(name) + "</h3><div class=\"stats\">" +
            "judge score (rows) × human label (columns); agreement on the outlined diagonal</div>" +
            heatmap_svg(heatmap, name + ": judge score by human label") + "</div>";
  }
  return html + "</div></section>";
}

std::string jury_section(const ReportOverview& overview) {
  const json& s = overview.summary_json;
  if (!s.contains("jury_agreement") || s["jury_agreement"].empty()) return "";
  std::string html =
      "<section id=\"jury\"><h2>Jury agreement</h2><p class=\"note\">How well the jurors of <code>--jury</code> "
      "agree with each other: Krippendorff's α over all jurors (an abstaining juror is a missing value), Cohen's κ "
      "of each pair over the rows both scored, and each juror's scores.</p>";
  for (const auto& [name, j] : s["jury_agreement"].items()) {
    const std::int64_t jurors = static_cast<std::int64_t>(j["jurors"].size());
    html += "<div class=\"jury-criterion\"><h3>" + html_escape(name) + "</h3><p class=\"stats\">Krippendorff's α " +
            html_escape(stat3(j["alpha"])) + " (" + html_escape(j["alpha_metric"].get<std::string>()) + ") · " +
            format_count(jurors) + (jurors == 1 ? " juror" : " jurors") + " · " +
            format_count(j["units"].get<std::int64_t>()) + " rows · scale " +
            html_escape(j["scale"].get<std::string>()) + "</p>";
    if (!j["pairs"].empty()) {
      html += "<table class=\"grid jury-pairs\">" +
              header_row({"Juror", "Juror", "κ weights", "Rows both scored", "Cohen's κ"}, 3) + "<tbody>";
      for (const json& pair : j["pairs"]) {
        html += "<tr>" + cell(pair["a"].get<std::string>()) + cell(pair["b"].get<std::string>()) +
                cell(kappa_weights_text(j["kappa_weights"])) +
                cell(format_count(pair["n"].get<std::int64_t>()), "num") + cell(stat3(pair["kappa"]), "num") + "</tr>";
      }
      html += "</tbody></table>";
    }
    html += "<div class=\"criteria-grid\">";
    for (const json& juror : j["jurors"]) {
      const std::string who = juror.get<std::string>();
      const json& counts = j["distribution"][who];
      std::int64_t scored = 0;
      for (const json& count : counts) scored += count.get<std::int64_t>();
      html += "<div class=\"criterion juror\"><h3>" + html_escape(who) + "</h3><div class=\"stats\">" +
              format_count(scored) + " of " + format_count(j["units"].get<std::int64_t>()) + " rows scored</div>" +
              bar_chart_svg(score_bars(j["scores"], counts, who), who + " score distribution for " + name) + "</div>";
    }
    html += "</div></div>";
  }
  return html + "</section>";
}

std::string pairwise_section(const ReportOverview& overview) {
  const json& s = overview.summary_json;
  if (!s.contains("pairwise") || s["pairwise"].empty()) return "";
  const double confidence = s.value("confidence", 0.95);
  std::string html =
      "<section id=\"pairwise\"><h2>Pairwise</h2><p class=\"note\">Answer a (<code>output_a</code>) against answer "
      "b (<code>output_b</code>). b's win rate is over the pairs that were not tied, with its Wilson interval; a "
      "pair is position-consistent when its two orders (each answer shown first once) named the same answer.</p>"
      "<div class=\"criteria-grid pairwise-grid\">";
  for (const auto& [name, p] : s["pairwise"].items()) {
    const std::int64_t pairs = p["pairs"], wins_a = p["wins_a"], wins_b = p["wins_b"], ties = p["ties"];
    const auto share = [pairs](std::int64_t n) {
      return format_decimal(pairs > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(pairs) : 0, 1);
    };
    html += "<div class=\"criterion pairwise\"><h3>" + html_escape(name) + "</h3><div class=\"stats\">" +
            format_count(pairs) + (pairs == 1 ? " pair" : " pairs") + "</div>";
    html += "<div class=\"winbar\" role=\"img\" aria-label=\"a wins " + format_count(wins_a) + ", ties " +
            format_count(ties) + ", b wins " + format_count(wins_b) +
            "\"><div class=\"a\" style=\"width:" + share(wins_a) +
            "%\"></div><div class=\"tie\" style=\"width:" + share(ties) +
            "%\"></div><div class=\"b\" style=\"width:" + share(wins_b) + "%\"></div></div>";
    html += "<div class=\"winlegend\"><span class=\"a\">a wins " + format_count(wins_a) +
            "</span><span class=\"tie\">ties " + format_count(ties) + "</span><span class=\"b\">b wins " +
            format_count(wins_b) + "</span></div>";
    const auto rate = optional_number(p["b_win_rate"]);
    html += "<div class=\"stats\">b's win rate " + format_percent(rate) +
            (p["b_win_rate_ci"].is_array() ? " (" + ci_text(p["b_win_rate_ci"], confidence, true) + ")" : "") +
            "</div>";
    if (rate) {
      html += "<div class=\"meanbar\" title=\"b's win rate " + format_percent(rate) + "\">" +
              error_bar(p["b_win_rate_ci"]) +
              "<div class=\"dot\" style=\"left:" + format_decimal(std::clamp(*rate, 0.0, 1.0) * 100, 1) +
              "%\"></div></div>";
    }
    const auto consistency = optional_number(p["position_consistency"]);
    html += "<div class=\"stats\">position-consistent " + format_percent(consistency) +
            (consistency ? " · " + format_count(p["position_inconsistent"].get<std::int64_t>()) + " inconsistent"
                         : " (no pair was judged in both orders by one judge)") +
            "</div>";
    if (p["ranking"].is_array()) {
      html += "<table class=\"grid ranking\">" + header_row({"#", "Model", "Strength", "Interval", "Comparisons"}, 2) +
              "<tbody>";
      std::int64_t rank = 0;
      for (const json& r : p["ranking"]) {
        html += "<tr>" + cell(std::to_string(++rank)) + cell(r["model"].get<std::string>()) +
                cell(format_fixed(r["strength"].get<double>(), 2), "num") +
                cell("[" + format_fixed(r["ci"][0].get<double>(), 2) + ", " +
                         format_fixed(r["ci"][1].get<double>(), 2) + "]",
                     "num") +
                cell(format_count(r["comparisons"].get<std::int64_t>()), "num") + "</tr>";
      }
      html +=
          "</tbody></table><p class=\"note\">Bradley–Terry log-strengths (mean 0; a difference is the log-odds "
          "of one model beating the other) with " +
          format_decimal(confidence * 100, 1) + "% bootstrap intervals.</p>";
    }
    html += "</div>";
  }
  return html + "</div></section>";
}

std::string latency_section(const ReportOverview& overview) {
  std::string html = "<section id=\"latency\"><h2>Judge latency</h2>";
  if (overview.stats.llm_calls() == 0) {
    return html + "<p class=\"none\">No LLM judge calls: every criterion was a deterministic check.</p></section>";
  }
  const json& latency = overview.summary_json["latency_ms"];
  html += "<p class=\"stats\">" + format_count(overview.stats.llm_calls()) + " judge verdicts · p50 " +
          format_ms(latency["p50"].get<double>()) + " · p95 " + format_ms(latency["p95"].get<double>()) + " · p99 " +
          format_ms(latency["p99"].get<double>()) +
          " (the successful call of each criterion, or of each juror, in ms)</p>";
  return html + bar_chart_svg(overview.stats.latency_bars(), "judge latency distribution") + "</section>";
}

std::string providers_section(const ReportOverview& overview) {
  std::string html = "<section id=\"providers\"><h2>Providers</h2>";
  const ReportStats& stats = overview.stats;
  if (stats.judges().empty()) return html + "<p class=\"none\">No LLM judge calls.</p></section>";
  html += "<table class=\"grid\">";
  html += header_row({"Provider", "Model", "Criteria judged", "Share", "As fallback", "Calls", "Retries",
                      "Mean latency", "Tokens in", "Tokens out"},
                     2);
  html += "<tbody>";
  for (const auto& [key, judge] : stats.judges()) {
    const double share = static_cast<double>(judge.judged) / static_cast<double>(stats.llm_calls());
    html += "<tr>" + cell(key.first) + cell(key.second) + cell(format_count(judge.judged), "num") +
            cell(format_percent(share), "num") +
            cell(format_count(judge.as_fallback), judge.as_fallback > 0 ? "num warn" : "num") +
            cell(format_count(judge.attempts), "num") + cell(format_count(judge.attempts - judge.judged), "num") +
            cell(format_ms(static_cast<double>(judge.latency_ms_sum) / static_cast<double>(judge.judged)), "num") +
            cell(format_count(judge.tokens_in), "num") + cell(format_count(judge.tokens_out), "num") + "</tr>";
  }
  html += "</tbody></table>";
  const std::int64_t fallback_rows = stats.rows_with_fallback();
  html += "<p class=\"note\">" + format_count(fallback_rows) + (fallback_rows == 1 ? " row" : " rows") + " (" +
          format_percent(overview.rows > 0 ? static_cast<double>(fallback_rows) / static_cast<double>(overview.rows)
                                           : 0) +
          ") had a criterion judged by a fallback provider. Calls count retries and repairs of unparseable replies; " +
          "failed calls of error rows are not in the results file.</p>";
  return html + "</section>";
}

std::string errors_section(const ReportOverview& overview) {
  std::string html = "<section id=\"errors\"><h2>Errors</h2>";
  const json& kinds = overview.summary_json["errors_by_kind"];
  if (kinds.empty()) return html + "<p class=\"none\">No errors: every row was judged.</p></section>";
  html += "<table class=\"grid\">" + header_row({"Kind", "Rows", "First lines"}, 1) + "<tbody>";
  for (const auto& [kind, entry] : kinds.items()) {
    std::string lines;
    for (const json& line : entry["first_lines"]) lines += (lines.empty() ? "" : ", ") + line.dump();
    html += "<tr>" + cell(kind) + cell(format_count(entry["count"].get<std::int64_t>()), "num") + cell(lines, "num") +
            "</tr>";
  }
  return html + "</tbody></table></section>";
}

}  // namespace llmeval::report
