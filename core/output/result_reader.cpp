#include "core/output/result_reader.h"

#include <fstream>
#include <string>

namespace llmeval::output {
namespace {

using Json = nlohmann::ordered_json;  // criteria keep the order they were written in

Error bad(const std::string& why) { return Error{ErrorKind::kParse, "not a result row: " + why}; }

Result<Status> parse_status(const Json& row) {
  auto it = row.find("status");
  if (it == row.end() || !it->is_string()) return bad("no \"status\"");
  const std::string& text = it->get_ref<const std::string&>();
  if (text == "ok") return Status::kOk;
  if (text == "error") return Status::kError;
  if (text == "invalid") return Status::kInvalid;
  return bad("unknown status \"" + text + "\"");
}

JudgeInfo parse_judge(const Json& judge) {
  JudgeInfo info;
  info.provider = judge.value("provider", "");
  info.model = judge.value("model", "");
  info.attempts = judge.value("attempts", 0);
  info.fallback = judge.value("fallback", false);
  info.latency_ms = judge.value("latency_ms", std::int64_t{0});
  if (auto tokens = judge.find("tokens"); tokens != judge.end() && tokens->is_object()) {
    info.tokens.input = tokens->value("input", std::int64_t{0});
    info.tokens.output = tokens->value("output", std::int64_t{0});
  }
  info.simulated = judge.value("simulated", false);
  return info;
}

Result<CriterionResult> parse_criterion(const std::string& name, const Json& value) {
  if (!value.is_object()) return bad("criterion \"" + name + "\" is not an object");
  CriterionResult c;
  c.name = name;
  c.score = value.value("score", 0.0);
  c.normalized = value.value("normalized", 0.0);
  c.pass = value.value("pass", false);
  c.reason = value.value("reason", "");
  c.check = value.value("type", "");
  c.llm = c.check.empty();
  c.weight = value.value("weight", 1.0);
  if (auto judge = value.find("judge"); judge != value.end() && judge->is_object()) c.judge = parse_judge(*judge);
  return c;
}

}  // namespace

Result<ResultRecord> parse_result_line(std::string_view line) {
  Json row = Json::parse(line.begin(), line.end(), nullptr, false);
  if (row.is_discarded()) return bad("not valid JSON");
  if (!row.is_object()) return bad("not a JSON object");
  ResultRecord record;
  auto line_field = row.find("line");
  if (line_field == row.end() || !line_field->is_number_integer() || line_field->get<std::int64_t>() < 1) {
    return bad("no positive integer \"line\"");
  }
  record.line = line_field->get<std::int64_t>();
  Result<Status> status = parse_status(row);
  if (!status.ok()) return status.error();
  record.status = status.value();
  if (auto id = row.find("id"); id != row.end()) record.id = nlohmann::json::parse(id->dump());
  if (auto criteria = row.find("criteria"); criteria != row.end() && criteria->is_object()) {
    for (const auto& [name, value] : criteria->items()) {
      Result<CriterionResult> c = parse_criterion(name, value);
      if (!c.ok()) return c.error();
      record.criteria.push_back(std::move(c).value());
    }
  }
  if (auto metadata = row.find("metadata"); metadata != row.end() && metadata->is_object()) {
    record.metadata = nlohmann::json::parse(metadata->dump());
  }
  if (auto error = row.find("error"); error != row.end() && error->is_object()) {
    record.error = ResultError{error->value("kind", ""), error->value("message", "")};
  }
  return record;
}

std::int64_t for_each_result_row(const std::string& path, const std::function<void(const ResultRecord&)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FatalError("cannot read results file " + path);
  std::string line;
  std::int64_t number = 0, rows = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto record = parse_result_line(line);
    if (!record) {
      throw FatalError(path + ":" + std::to_string(number) + ": not a result row (" + record.error().message +
                       ")");
    }
    fn(record.value());
    ++rows;
  }
  if (in.bad()) throw FatalError("cannot read results file " + path);
  return rows;
}

}  // namespace llmeval::output
