#include "core/output/result_reader.h"

#include <fstream>
#include <limits>
#include <optional>
#include <string>

#include "core/common/json_dom.h"

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
    info.tokens.cached_input = tokens->value("cached_input", std::int64_t{0});
    info.tokens.cache_write = tokens->value("cache_write", std::int64_t{0});
    info.tokens.reasoning = tokens->value("reasoning", std::int64_t{0});
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

// --- The fast path: simdjson's DOM, straight into a ResultRecord. ---------------------------
//
// It takes only rows shaped the way append_json writes them: every field it reads has the type
// it expects and no key it reads is repeated. Anything else is left to the nlohmann path below
// (nullopt), which decides and words the error exactly as before; a test checks that both paths
// give the same record for every row the fast one takes. simdjson keeps an object's keys in
// document order, so criteria keep theirs, as with ordered_json.

using simdjson::dom::element;
using simdjson::dom::element_type;

bool is_integer(element value) {
  return value.type() == element_type::INT64 || value.type() == element_type::UINT64;
}

bool is_number(element value) { return is_integer(value) || value.type() == element_type::DOUBLE; }

std::optional<std::int64_t> int64_of(element value) {
  if (value.type() == element_type::INT64) return std::int64_t(value);
  if (value.type() == element_type::UINT64 &&
      std::uint64_t(value) <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(std::uint64_t(value));
  }
  return std::nullopt;
}

// A criterion's or judge's fields: stores each one the fast path knows, and says no (false)
// to a wrong type or a repeated key.
class FieldReader {
 public:
  bool first_time(std::string_view key) {
    for (std::string_view seen : seen_) {
      if (seen == key) return false;
    }
    seen_.push_back(key);
    return true;
  }

 private:
  std::vector<std::string_view> seen_;
};

bool read_judge(simdjson::dom::object object, JudgeInfo& info) {
  FieldReader fields;
  for (auto [key, value] : object) {
    if (!fields.first_time(key)) return false;
    if (key == "provider" || key == "model") {
      if (value.type() != element_type::STRING) return false;
      (key == "provider" ? info.provider : info.model) = std::string(std::string_view(value));
    } else if (key == "attempts") {
      auto attempts = int64_of(value);
      if (!attempts || *attempts > std::numeric_limits<int>::max() || *attempts < std::numeric_limits<int>::min()) {
        return false;
      }
      info.attempts = static_cast<int>(*attempts);
    } else if (key == "latency_ms") {
      auto latency = int64_of(value);
      if (!latency) return false;
      info.latency_ms = *latency;
    } else if (key == "fallback" || key == "simulated") {
      if (value.type() != element_type::BOOL) return false;
      (key == "fallback" ? info.fallback : info.simulated) = bool(value);
    } else if (key == "tokens") {
      if (value.type() != element_type::OBJECT) continue;  // ignored, as below
      FieldReader token_fields;
      for (auto [kind, count] : simdjson::dom::object(value)) {
        if (!token_fields.first_time(kind)) return false;
        std::int64_t* target = kind == "input"          ? &info.tokens.input
                               : kind == "output"       ? &info.tokens.output
                               : kind == "cached_input" ? &info.tokens.cached_input
                               : kind == "cache_write"  ? &info.tokens.cache_write
                               : kind == "reasoning"    ? &info.tokens.reasoning
                                                        : nullptr;
        if (target == nullptr) continue;  // a key of a later version: ignored, as below
        auto tokens = int64_of(count);
        if (!tokens) return false;
        *target = *tokens;
      }
    }
  }
  return true;
}

bool read_criterion(std::string_view name, element value, CriterionResult& c) {
  if (value.type() != element_type::OBJECT) return false;
  c.name = std::string(name);
  FieldReader fields;
  for (auto [key, field] : simdjson::dom::object(value)) {
    if (!fields.first_time(key)) return false;
    if (key == "score" || key == "normalized" || key == "weight") {
      if (!is_number(field)) return false;
      const double number = is_integer(field) ? (field.type() == element_type::INT64 ? double(std::int64_t(field))
                                                                                      : double(std::uint64_t(field)))
                                              : double(field);
      (key == "score" ? c.score : key == "normalized" ? c.normalized : c.weight) = number;
    } else if (key == "pass") {
      if (field.type() != element_type::BOOL) return false;
      c.pass = bool(field);
    } else if (key == "reason" || key == "type") {
      if (field.type() != element_type::STRING) return false;
      (key == "reason" ? c.reason : c.check) = std::string(std::string_view(field));
    } else if (key == "judge" && field.type() == element_type::OBJECT) {
      JudgeInfo info;
      if (!read_judge(simdjson::dom::object(field), info)) return false;
      c.judge = std::move(info);
    }
  }
  c.llm = c.check.empty();
  return true;
}

std::optional<ResultRecord> parse_with_simdjson(std::string_view line) {
  element root;
  if (thread_json_parser().parse(line.data(), line.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  if (root.type() != element_type::OBJECT) return std::nullopt;
  ResultRecord record;
  bool has_line = false, has_status = false;
  FieldReader fields;
  for (auto [key, value] : simdjson::dom::object(root)) {
    if (!fields.first_time(key)) return std::nullopt;
    if (key == "line") {
      auto number = int64_of(value);
      if (!number || *number < 1) return std::nullopt;
      record.line = *number;
      has_line = true;
    } else if (key == "status") {
      if (value.type() != element_type::STRING) return std::nullopt;
      const std::string_view text(value);
      if (text == "ok") record.status = Status::kOk;
      else if (text == "error") record.status = Status::kError;
      else if (text == "invalid") record.status = Status::kInvalid;
      else return std::nullopt;
      has_status = true;
    } else if (key == "id") {
      record.id = to_nlohmann(value);
    } else if (key == "criteria" && value.type() == element_type::OBJECT) {
      for (auto [name, criterion] : simdjson::dom::object(value)) {
        for (const CriterionResult& earlier : record.criteria) {
          if (earlier.name == name) return std::nullopt;  // a repeated name: nlohmann keeps the last
        }
        CriterionResult c;
        if (!read_criterion(name, criterion, c)) return std::nullopt;
        record.criteria.push_back(std::move(c));
      }
    } else if (key == "metadata" && value.type() == element_type::OBJECT) {
      record.metadata = to_nlohmann(value);
    } else if (key == "error" && value.type() == element_type::OBJECT) {
      ResultError error;
      FieldReader error_fields;
      for (auto [name, text] : simdjson::dom::object(value)) {
        if (!error_fields.first_time(name)) return std::nullopt;
        if (name != "kind" && name != "message") continue;
        if (text.type() != element_type::STRING) return std::nullopt;
        (name == "kind" ? error.kind : error.message) = std::string(std::string_view(text));
      }
      record.error = std::move(error);
    }
  }
  if (!has_line || !has_status) return std::nullopt;
  return record;
}

}  // namespace

Result<ResultRecord> parse_result_line(std::string_view line) {
  if (auto record = parse_with_simdjson(line)) return std::move(*record);
  return parse_result_line_nlohmann(line);
}

Result<ResultRecord> parse_result_line_nlohmann(std::string_view line) {
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
