#include "core/output/result_reader.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "core/common/json_dom.h"
#include "core/dataset/message_text.h"

namespace llmeval::output {
namespace {

using Json = nlohmann::ordered_json;  // criteria keep the order they were written in

Error bad(const std::string& why) { return Error{ErrorKind::kParse, "not a result row: " + why}; }

// A field's place in the row, as a person finds it: criteria.tone.score, or
// criteria["my tone"].score for a name that is not one word.
std::string path_of(const std::string& parent, const std::string& key) {
  const bool word = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (!word) return parent + "[" + Json(key).dump() + "]";
  return parent.empty() ? key : parent + "." + key;
}

// A value as shown after "got": null, true, 42, "text" (cut), an array, an object.
std::string describe(const Json& value) {
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_string()) return dataset::quote_for_message(value.get_ref<const std::string&>(), 40);
  return value.dump();
}

bool fits_int64(const Json& value) {
  if (value.is_number_unsigned()) {
    return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  return value.is_number_integer();
}

// Reads the fields of one row by their path, keeping the first one of the wrong type as the
// row's error (`field "criteria.tone.score" must be a number, got null`). A field that is not
// there keeps its default: rows of older versions have fewer fields.
class TypedFields {
 public:
  const std::optional<Error>& error() const { return error_; }

  void read(const Json& object, const char* key, const std::string& parent, double& out) {
    if (const Json* value = find(object, key)) {
      if (!value->is_number()) return wrong(parent, key, "a number", *value);
      out = value->get<double>();
    }
  }
  void read(const Json& object, const char* key, const std::string& parent, bool& out) {
    if (const Json* value = find(object, key)) {
      if (!value->is_boolean()) return wrong(parent, key, "true or false", *value);
      out = value->get<bool>();
    }
  }
  void read(const Json& object, const char* key, const std::string& parent, std::string& out) {
    if (const Json* value = find(object, key)) {
      if (!value->is_string()) return wrong(parent, key, "a string", *value);
      out = value->get<std::string>();
    }
  }
  void read(const Json& object, const char* key, const std::string& parent, std::int64_t& out) {
    if (const Json* value = find(object, key)) {
      if (!fits_int64(*value)) return wrong(parent, key, "a whole number", *value);
      out = value->get<std::int64_t>();
    }
  }
  void read(const Json& object, const char* key, const std::string& parent, int& out) {
    std::int64_t wide = out;
    read(object, key, parent, wide);
    if (error_) return;
    if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
      return wrong(parent, key, "a whole number", object.at(key));
    }
    out = static_cast<int>(wide);
  }
  void wrong(const std::string& parent, const std::string& key, const char* expected, const Json& got) {
    if (error_) return;
    error_ = bad("field " + dataset::quote_for_message(path_of(parent, key), 120) + " must be " + expected + ", got " +
                 describe(got));
  }

 private:
  const Json* find(const Json& object, const char* key) const {
    if (error_) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }
  std::optional<Error> error_;
};

Result<Status> parse_status(const Json& row, TypedFields& fields) {
  auto it = row.find("status");
  if (it == row.end()) return bad("no \"status\"");
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (text == "ok") return Status::kOk;
    if (text == "error") return Status::kError;
    if (text == "invalid") return Status::kInvalid;
  }
  fields.wrong("", "status", "\"ok\", \"error\" or \"invalid\"", *it);
  return *fields.error();
}

JudgeInfo parse_judge(const Json& judge, const std::string& path, TypedFields& fields) {
  JudgeInfo info;
  fields.read(judge, "provider", path, info.provider);
  fields.read(judge, "model", path, info.model);
  fields.read(judge, "attempts", path, info.attempts);
  fields.read(judge, "fallback", path, info.fallback);
  fields.read(judge, "latency_ms", path, info.latency_ms);
  if (auto tokens = judge.find("tokens"); tokens != judge.end() && tokens->is_object()) {
    const std::string tokens_path = path_of(path, "tokens");
    fields.read(*tokens, "input", tokens_path, info.tokens.input);
    fields.read(*tokens, "output", tokens_path, info.tokens.output);
    fields.read(*tokens, "cached_input", tokens_path, info.tokens.cached_input);
    fields.read(*tokens, "cache_write", tokens_path, info.tokens.cache_write);
    fields.read(*tokens, "reasoning", tokens_path, info.tokens.reasoning);
  }
  fields.read(judge, "simulated", path, info.simulated);
  fields.read(judge, "cached", path, info.cached);
  fields.read(judge, "batch", path, info.batch);
  fields.read(judge, "batch_fallback", path, info.batch_fallback);
  return info;
}

CriterionResult parse_criterion(const std::string& name, const Json& value, TypedFields& fields) {
  const std::string path = path_of("criteria", name);
  CriterionResult c;
  c.name = name;
  if (!value.is_object()) {
    fields.wrong("criteria", name, "an object", value);
    return c;
  }
  fields.read(value, "score", path, c.score);
  fields.read(value, "normalized", path, c.normalized);
  fields.read(value, "pass", path, c.pass);
  fields.read(value, "reason", path, c.reason);
  fields.read(value, "type", path, c.check);
  c.llm = c.check.empty();
  fields.read(value, "weight", path, c.weight);
  if (auto judge = value.find("judge"); judge != value.end() && judge->is_object()) {
    c.judge = parse_judge(*judge, path_of(path, "judge"), fields);
  }
  if (auto samples = value.find("samples"); samples != value.end() && samples->is_array()) {
    double stddev = 0;
    fields.read(value, "stddev", path, stddev);
    c.stddev = stddev;
    fields.read(value, "samples_failed", path, c.samples_failed);
    for (std::size_t i = 0; i < samples->size(); ++i) {
      const Json& sample = (*samples)[i];
      const std::string sample_path = path + ".samples[" + std::to_string(i) + "]";
      if (!sample.is_object()) continue;
      Sample s;
      fields.read(sample, "score", sample_path, s.score);
      fields.read(sample, "pass", sample_path, s.pass);
      fields.read(sample, "reason", sample_path, s.reason);
      if (auto judge = sample.find("judge"); judge != sample.end() && judge->is_object()) {
        s.judge = parse_judge(*judge, path_of(sample_path, "judge"), fields);
      }
      c.samples.push_back(std::move(s));
    }
  }
  if (auto label = value.find("label"); label != value.end()) {
    double number = 0;
    fields.read(value, "label", path, number);
    c.label = number;
  }
  fields.read(value, "tie", path, c.tie);
  fields.read(value, "scale", path, c.scale);
  if (auto jury = value.find("jury"); jury != value.end() && jury->is_array()) {
    for (std::size_t i = 0; i < jury->size(); ++i) {
      const Json& entry = (*jury)[i];
      const std::string juror_path = path + ".jury[" + std::to_string(i) + "]";
      if (!entry.is_object()) continue;
      JurorVerdict juror;
      fields.read(entry, "provider", juror_path, juror.provider);
      fields.read(entry, "model", juror_path, juror.model);
      if (auto score = entry.find("score"); score != entry.end() && !score->is_null()) {
        double number = 0;
        fields.read(entry, "score", juror_path, number);
        juror.score = number;
      }
      fields.read(entry, "reason", juror_path, juror.reason);
      fields.read(entry, "status", juror_path, juror.status);
      fields.read(entry, "winner", juror_path, juror.winner);
      fields.read(entry, "position_inconsistent", juror_path, juror.position_inconsistent);
      if (auto judge = entry.find("judge"); judge != entry.end() && judge->is_object()) {
        juror.judge = parse_judge(*judge, path_of(juror_path, "judge"), fields);
      }
      c.jury.push_back(std::move(juror));
    }
  }
  fields.read(value, "winner", path, c.winner);
  fields.read(value, "position_inconsistent", path, c.position_inconsistent);
  if (auto orders = value.find("orders"); orders != value.end() && orders->is_array()) {
    for (std::size_t i = 0; i < orders->size(); ++i) {
      const Json& entry = (*orders)[i];
      const std::string order_path = path + ".orders[" + std::to_string(i) + "]";
      if (!entry.is_object()) continue;
      PairwiseOrder order;
      fields.read(entry, "shown_as_a", order_path, order.shown_as_a);
      fields.read(entry, "winner", order_path, order.winner);
      fields.read(entry, "reason", order_path, order.reason);
      if (auto judge = entry.find("judge"); judge != entry.end() && judge->is_object()) {
        order.judge = parse_judge(*judge, path_of(order_path, "judge"), fields);
      }
      c.orders.push_back(std::move(order));
    }
  }
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
    if (key == "provider" || key == "model" || key == "batch" || key == "batch_fallback") {
      if (value.type() != element_type::STRING) return false;
      (key == "provider"  ? info.provider
       : key == "model"   ? info.model
       : key == "batch"   ? info.batch
                          : info.batch_fallback) = std::string(std::string_view(value));
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
    } else if (key == "fallback" || key == "simulated" || key == "cached") {
      if (value.type() != element_type::BOOL) return false;
      (key == "fallback" ? info.fallback : key == "simulated" ? info.simulated : info.cached) = bool(value);
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
    } else if (key == "samples" || key == "stddev" || key == "samples_failed" || key == "label" || key == "tie" || key == "scale" ||
               key == "jury" || key == "winner" || key == "position_inconsistent" || key == "orders") {
      // --repeat, labels, --jury, pairwise: rare enough for the general path
      return false;
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
    } else if (key == "group" && (value.type() == element_type::STRING || is_number(value))) {
      record.group = to_nlohmann(value);
    } else if (key == "model_a" || key == "model_b") {
      return std::nullopt;  // a pairwise row: the general path
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
  TypedFields fields;
  auto line_field = row.find("line");
  if (line_field == row.end()) return bad("no positive integer \"line\"");
  if (!fits_int64(*line_field) || line_field->get<std::int64_t>() < 1) {
    fields.wrong("", "line", "a positive whole number", *line_field);
    return *fields.error();
  }
  record.line = line_field->get<std::int64_t>();
  Result<Status> status = parse_status(row, fields);
  if (!status.ok()) return status.error();
  record.status = status.value();
  if (auto id = row.find("id"); id != row.end()) record.id = nlohmann::json::parse(id->dump());
  if (auto criteria = row.find("criteria"); criteria != row.end() && criteria->is_object()) {
    for (const auto& [name, value] : criteria->items()) record.criteria.push_back(parse_criterion(name, value, fields));
  }
  if (auto metadata = row.find("metadata"); metadata != row.end() && metadata->is_object()) {
    record.metadata = nlohmann::json::parse(metadata->dump());
  }
  if (auto group = row.find("group"); group != row.end() && (group->is_string() || group->is_number())) {
    record.group = nlohmann::json::parse(group->dump());
  }
  fields.read(row, "model_a", "", record.model_a);
  fields.read(row, "model_b", "", record.model_b);
  if (auto error = row.find("error"); error != row.end() && error->is_object()) {
    ResultError result_error;
    fields.read(*error, "kind", "error", result_error.kind);
    fields.read(*error, "message", "error", result_error.message);
    record.error = std::move(result_error);
  }
  if (fields.error()) return *fields.error();
  return record;
}

Result<std::int64_t> for_each_result_row(const std::string& path, const std::function<void(const ResultRecord&)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorKind::kIo, "cannot read results file " + path};
  std::string line;
  std::int64_t number = 0, rows = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto record = parse_result_line(line);
    if (!record) return Error{ErrorKind::kParse, path + ":" + std::to_string(number) + ": " + record.error().message};
    fn(record.value());
    ++rows;
  }
  if (in.bad()) return Error{ErrorKind::kIo, "cannot read results file " + path};
  return rows;
}

}  // namespace llmeval::output
