#include "core/output/result_record.h"

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

nlohmann::ordered_json judge_json(const JudgeInfo& judge) {
  nlohmann::ordered_json j = {{"provider", judge.provider},
                      {"model", judge.model},
                      {"attempts", judge.attempts},
                      {"fallback", judge.fallback},
                      {"latency_ms", judge.latency_ms},
                      {"tokens", {{"input", judge.tokens.input}, {"output", judge.tokens.output}}}};
  if (judge.simulated) j["simulated"] = true;
  return j;
}

nlohmann::ordered_json criterion_json(const CriterionResult& c) {
  nlohmann::ordered_json j = {{"score", c.score}, {"normalized", c.normalized}, {"pass", c.pass}, {"reason", c.reason}};
  if (!c.check.empty()) j["type"] = c.check;
  if (c.weight != 1.0) j["weight"] = c.weight;
  if (c.judge) j["judge"] = judge_json(*c.judge);
  return j;
}

}  // namespace

nlohmann::ordered_json to_json(const ResultRecord& record) {
  nlohmann::ordered_json criteria = nlohmann::ordered_json::object();
  for (const auto& c : record.criteria) criteria[c.name] = criterion_json(c);
  nlohmann::ordered_json j = {{"id", record.id}, {"line", record.line}, {"status", to_string(record.status)}};
  if (record.status == Status::kOk) {
    j["pass"] = record.pass();
    j["score"] = record.score();
  } else {
    j["pass"] = nullptr;
    j["score"] = nullptr;
  }
  j["criteria"] = std::move(criteria);
  j["metadata"] = record.metadata;
  if (record.error) {
    j["error"] = {{"kind", record.error->kind}, {"message", record.error->message}};
  } else {
    j["error"] = nullptr;
  }
  return j;
}

}  // namespace llmeval::output
