#include "core/output/result_record.h"

#include "core/common/json_text.h"

namespace llmeval::output {

const char* to_string(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kError: return "error";
    case Status::kInvalid: return "invalid";
  }
  return "error";
}

double ResultRecord::score() const {
  double weighted = 0;
  double weights = 0;
  for (const auto& c : criteria) {
    weighted += c.weight * c.normalized;
    weights += c.weight;
  }
  return weights > 0 ? weighted / weights : 0;
}

bool ResultRecord::pass() const {
  if (status != Status::kOk) return false;
  for (const auto& c : criteria) {
    if (!c.pass) return false;
  }
  return true;
}

namespace {

// Small JSON values (ids, metadata) go through nlohmann; the empty object is common enough to
// skip it.
void append_value(std::string& out, const nlohmann::json& value) {
  if (value.is_object() && value.empty()) {
    out += "{}";
    return;
  }
  out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out.push_back(':');
}

void append_bool(std::string& out, bool value) { out += value ? "true" : "false"; }

void append_judge(std::string& out, const JudgeInfo& judge) {
  out += "{\"provider\":";
  append_json_string(out, judge.provider);
  out += ",\"model\":";
  append_json_string(out, judge.model);
  out += ",\"attempts\":";
  append_json_number(out, std::int64_t{judge.attempts});
  out += ",\"fallback\":";
  append_bool(out, judge.fallback);
  out += ",\"latency_ms\":";
  append_json_number(out, judge.latency_ms);
  out += ",\"tokens\":{\"input\":";
  append_json_number(out, judge.tokens.input);
  out += ",\"output\":";
  append_json_number(out, judge.tokens.output);
  out += ",\"cached_input\":";
  append_json_number(out, judge.tokens.cached_input);
  if (judge.tokens.cache_write != 0) {
    out += ",\"cache_write\":";
    append_json_number(out, judge.tokens.cache_write);
  }
  if (judge.tokens.reasoning != 0) {
    out += ",\"reasoning\":";
    append_json_number(out, judge.tokens.reasoning);
  }
  out += "}";
  if (judge.simulated) out += ",\"simulated\":true";
  if (judge.cached) out += ",\"cached\":true";
  if (!judge.batch.empty()) {
    out += ",\"batch\":";
    append_json_string(out, judge.batch);
  }
  if (!judge.batch_fallback.empty()) {
    out += ",\"batch_fallback\":";
    append_json_string(out, judge.batch_fallback);
  }
  out += "}";
}

void append_juror(std::string& out, const JurorVerdict& juror, bool comma) {
  if (comma) out += ',';
  out += "{\"provider\":";
  append_json_string(out, juror.provider);
  out += ",\"model\":";
  append_json_string(out, juror.model);
  out += ",\"score\":";
  if (juror.score) {
    append_json_number(out, *juror.score);
  } else {
    out += "null";
  }
  out += ",\"reason\":";
  append_json_string(out, juror.reason);
  out += ",\"status\":";
  append_json_string(out, juror.status);
  if (!juror.winner.empty()) {
    out += ",\"winner\":";
    append_json_string(out, juror.winner);
    out += ",\"position_inconsistent\":";
    append_bool(out, juror.position_inconsistent);
  }
  out += ",\"judge\":";
  append_judge(out, juror.judge);
  out += '}';
}

void append_criterion(std::string& out, const CriterionResult& c) {
  append_key(out, c.name);
  out += "{\"score\":";
  append_json_number(out, c.score);
  out += ",\"normalized\":";
  append_json_number(out, c.normalized);
  out += ",\"pass\":";
  append_bool(out, c.pass);
  out += ",\"reason\":";
  append_json_string(out, c.reason);
  if (!c.check.empty()) {
    out += ",\"type\":";
    append_json_string(out, c.check);
  }
  if (c.weight != 1.0) {
    out += ",\"weight\":";
    append_json_number(out, c.weight);
  }
  if (c.judge) {
    out += ",\"judge\":";
    append_judge(out, *c.judge);
  }
  if (!c.samples.empty()) {
    out += ",\"stddev\":";
    append_json_number(out, c.stddev.value_or(0.0));
    if (c.samples_failed > 0) {
      out += ",\"samples_failed\":";
      append_json_number(out, std::int64_t{c.samples_failed});
    }
    out += ",\"samples\":[";
    for (std::size_t i = 0; i < c.samples.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"score\":";
      append_json_number(out, c.samples[i].score);
      out += ",\"pass\":";
      append_bool(out, c.samples[i].pass);
      out += ",\"reason\":";
      append_json_string(out, c.samples[i].reason);
      out += ",\"judge\":";
      append_judge(out, c.samples[i].judge);
      out += '}';
    }
    out += ']';
  }
  if (!c.scale.empty() && (c.label || !c.jury.empty())) {
    out += ",\"scale\":";
    append_json_string(out, c.scale);
  }
  if (c.label) {
    out += ",\"label\":";
    append_json_number(out, *c.label);
  }
  if (c.tie) out += ",\"tie\":true";
  if (!c.jury.empty()) {
    out += ",\"jury\":[";
    for (std::size_t i = 0; i < c.jury.size(); ++i) append_juror(out, c.jury[i], i > 0);
    out += ']';
  }
  if (!c.winner.empty()) {
    out += ",\"winner\":";
    append_json_string(out, c.winner);
    out += ",\"position_inconsistent\":";
    append_bool(out, c.position_inconsistent);
    if (!c.orders.empty()) out += ",\"orders\":[";
    for (std::size_t i = 0; i < c.orders.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"shown_as_a\":";
      append_json_string(out, c.orders[i].shown_as_a);
      out += ",\"winner\":";
      append_json_string(out, c.orders[i].winner);
      out += ",\"reason\":";
      append_json_string(out, c.orders[i].reason);
      out += ",\"judge\":";
      append_judge(out, c.orders[i].judge);
      out += '}';
    }
    if (!c.orders.empty()) out += ']';
  }
  out += "}";
}

}  // namespace

void append_json(std::string& out, const ResultRecord& record) {
  out += "{\"id\":";
  append_value(out, record.id);
  out += ",\"line\":";
  append_json_number(out, record.line);
  if (!record.group.is_null()) {
    out += ",\"group\":";
    append_value(out, record.group);
  }
  if (!record.model_a.empty() || !record.model_b.empty()) {
    out += ",\"model_a\":";
    append_json_string(out, record.model_a);
    out += ",\"model_b\":";
    append_json_string(out, record.model_b);
  }
  out += ",\"status\":";
  append_json_string(out, to_string(record.status));
  if (record.status == Status::kOk) {
    out += ",\"pass\":";
    append_bool(out, record.pass());
    out += ",\"score\":";
    append_json_number(out, record.score());
  } else {
    out += ",\"pass\":null,\"score\":null";
  }
  out += ",\"criteria\":{";
  for (std::size_t i = 0; i < record.criteria.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_criterion(out, record.criteria[i]);
  }
  out += "},\"metadata\":";
  append_value(out, record.metadata);
  out += ",\"error\":";
  if (record.error) {
    out += "{\"kind\":";
    append_json_string(out, record.error->kind);
    out += ",\"message\":";
    append_json_string(out, record.error->message);
    out += "}";
  } else {
    out += "null";
  }
  out += "}";
}

std::string id_text(const nlohmann::json& id) {
  if (id.is_string()) return id.get<std::string>();
  return id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace llmeval::output
