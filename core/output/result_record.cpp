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
  out += "}";
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
