#include "core/report/row_data.h"

#include "core/common/json_text.h"
#include "core/report/html_text.h"

namespace llmeval::report {
namespace {

const char* status_text(output::Status status) { return output::to_string(status); }

void append_verdict(std::string& out, output::Status status, bool pass, double score) {
  const bool judged = status == output::Status::kOk;
  out += "\"s\":\"";
  out += status_text(status);
  out += "\",\"p\":";
  out += judged ? (pass ? "true" : "false") : "null";
  out += ",\"sc\":";
  if (judged) {
    append_json_number(out, score);
  } else {
    out += "null";
  }
}

// "provider/model" for LLM criteria, "jury of N" for --jury ones, "check:TYPE" for deterministic ones.
std::string judge_text(const output::CriterionResult& criterion) {
  if (criterion.judge) return criterion.judge->provider + "/" + criterion.judge->model;
  if (!criterion.jury.empty()) return "jury of " + std::to_string(criterion.jury.size());
  return "check:" + criterion.check;
}

// The criterion's human label, jurors and pairwise verdicts, as the 9th element of its entry
// ({"lb", "j", "t", "w", "pi", "or"}; row_data.h), only when it has any of them.
void append_criterion_extras(std::string& out, const output::CriterionResult& criterion, std::size_t max_text_bytes) {
  if (!criterion.label && criterion.jury.empty() && criterion.winner.empty()) return;
  out += ",{";
  bool first = true;
  auto key = [&](const char* name) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += name;
    out += "\":";
  };
  if (criterion.label) {
    key("lb");
    append_json_number(out, *criterion.label);
  }
  if (!criterion.jury.empty()) {
    key("j");
    out += '[';
    for (std::size_t i = 0; i < criterion.jury.size(); ++i) {
      const output::JurorVerdict& juror = criterion.jury[i];
      if (i > 0) out += ',';
      out += '[';
      append_json_string(out, juror.provider);
      out += ',';
      append_json_string(out, juror.model);
      out += ',';
      if (juror.score) {
        append_json_number(out, *juror.score);
      } else {
        out += "null";
      }
      out += ',';
      append_json_string(out, juror.status);
      out += ',';
      append_json_string(out, cut_text(juror.reason, max_text_bytes));
      out += ',';
      append_json_string(out, juror.winner);
      out += ']';
    }
    out += ']';
    if (criterion.tie) {
      key("t");
      out += '1';
    }
  }
  if (!criterion.winner.empty()) {
    key("w");
    append_json_string(out, criterion.winner);
    key("pi");
    out += criterion.position_inconsistent ? '1' : '0';
    key("or");
    out += '[';
    for (std::size_t i = 0; i < criterion.orders.size(); ++i) {
      const output::PairwiseOrder& order = criterion.orders[i];
      if (i > 0) out += ',';
      out += '[';
      append_json_string(out, order.shown_as_a);
      out += ',';
      append_json_string(out, order.winner);
      out += ',';
      append_json_string(out, cut_text(order.reason, max_text_bytes));
      out += ',';
      append_json_string(out, order.judge.provider + "/" + order.judge.model);
      out += ']';
    }
    out += ']';
  }
  out += '}';
}

void append_baseline(std::string& out, const BaselineRow& baseline,
                     const std::map<std::string, std::size_t>& criterion_index) {
  out += ",\"b\":{";
  append_verdict(out, baseline.status, baseline.pass, baseline.score);
  out += ",\"c\":[";
  bool first = true;
  for (const BaselineRow::Criterion& criterion : baseline.criteria) {
    auto column = criterion_index.find(criterion.name);
    if (column == criterion_index.end()) continue;  // a criterion this run no longer has
    if (!first) out += ',';
    first = false;
    out += '[';
    append_json_number(out, static_cast<std::int64_t>(column->second));
    out += ',';
    append_json_number(out, criterion.normalized);
    out += criterion.pass ? ",1]" : ",0]";
  }
  out += "]}";
}

}  // namespace

void append_row_data(std::string& out, const output::ResultRecord& row, const RowContext& context) {
  out += "{\"l\":";
  append_json_number(out, row.line);
  out += ",\"i\":";
  append_json_string(out, output::id_text(row.id));
  out += ',';
  append_verdict(out, row.status, row.pass(), row.score());
  out += ",\"c\":[";
  for (std::size_t i = 0; i < row.criteria.size(); ++i) {
    const output::CriterionResult& criterion = row.criteria[i];
    if (i > 0) out += ',';
    out += '[';
    append_json_number(out, static_cast<std::int64_t>(context.criterion_index->at(criterion.name)));
    out += ',';
    append_json_number(out, criterion.score);
    out += ',';
    append_json_number(out, criterion.normalized);
    out += criterion.pass ? ",1," : ",0,";
    append_json_string(out, cut_text(criterion.reason, context.max_text_bytes));
    out += ',';
    append_json_string(out, judge_text(criterion));
    out += ',';
    append_json_number(out, criterion.judge ? criterion.judge->latency_ms : std::int64_t{0});
    out += criterion.judge && criterion.judge->fallback ? ",1" : ",0";
    append_criterion_extras(out, criterion, context.max_text_bytes);
    out += ']';
  }
  out += ']';
  if (!row.model_a.empty() || !row.model_b.empty()) {
    out += ",\"ma\":";
    append_json_string(out, row.model_a);
    out += ",\"mb\":";
    append_json_string(out, row.model_b);
  }
  if (row.error) {
    out += ",\"e\":[";
    append_json_string(out, row.error->kind);
    out += ',';
    append_json_string(out, cut_text(row.error->message, context.max_text_bytes));
    out += ']';
  }
  if (context.texts != nullptr) {
    if (!context.texts->prompt.empty()) {
      out += ",\"pr\":";
      append_json_string(out, context.texts->prompt);
    }
    if (!context.texts->output.empty()) {
      out += ",\"o\":";
      append_json_string(out, context.texts->output);
    }
  }
  if (context.comparing) {
    if (context.baseline != nullptr) append_baseline(out, *context.baseline, *context.criterion_index);
    const Change change = RunComparison::classify(row, context.baseline);
    if (change != Change::kSame) {
      out += ",\"ch\":\"";
      out += to_string(change);
      out += '"';
    }
  }
  out += '}';
}

void append_baseline_only_row(std::string& out, const BaselineRow& row) {
  out += "{\"l\":";
  append_json_number(out, row.line);
  out += ",\"i\":";
  append_json_string(out, row.id);
  out += ',';
  append_verdict(out, row.status, row.pass, row.score);
  out += '}';
}

}  // namespace llmeval::report
