#include "core/dataset/criteria_parser.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/dataset/criterion_regex.h"
#include "core/dataset/message_text.h"

namespace llmeval::dataset {

namespace {

using nlohmann::json;
using MaybeError = std::optional<CriteriaError>;

constexpr const char* kCheckTypeList =
    "\"contains\", \"not_contains\", \"equals\", \"regex\", \"json\", \"max_chars\" or \"min_chars\"";
// Long patterns are refused: checks never need patterns this long, and the compiled-pattern
// cache below stays small (RE2 also refuses nesting deeper than 1000 by itself).
constexpr std::size_t kMaxRegexBytes = 2000;
constexpr std::string_view kCriterionKeys[] = {"name",   "rubric", "scale", "threshold",
                                               "weight", "type",   "value"};

MaybeError invalid(std::string message) { return CriteriaError{"invalid_criteria", std::move(message)}; }

std::string prefix(const std::string& name) { return "criterion " + quote_for_message(name) + ": "; }

bool is_blank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

bool is_criterion_key(const std::string& key) {
  return std::find(std::begin(kCriterionKeys), std::end(kCriterionKeys), key) != std::end(kCriterionKeys);
}

// `{"name": "x", "rubric": "..."}` is one criterion; `{"tone": "...", "accuracy": "..."}` maps
// names to rubrics. An object is one criterion when it has a rubric or a type, or a name and
// nothing but criterion keys.
bool is_single_criterion(const json& object) {
  if (object.contains("rubric") || object.contains("type")) return true;
  if (!object.contains("name")) return false;
  return std::all_of(object.items().begin(), object.items().end(),
                     [](const auto& item) { return is_criterion_key(item.key()); });
}

std::optional<CheckType> parse_check_type(const std::string& text) {
  static const std::pair<std::string_view, CheckType> kTypes[] = {
      {"contains", CheckType::kContains}, {"not_contains", CheckType::kNotContains},
      {"equals", CheckType::kEquals},     {"regex", CheckType::kRegex},
      {"json", CheckType::kJson},         {"max_chars", CheckType::kMaxChars},
      {"min_chars", CheckType::kMinChars}};
  for (const auto& [name, type] : kTypes) {
    if (name == text) return type;
  }
  return std::nullopt;
}

Criterion llm_criterion(std::string name, std::string rubric, Scale scale) {
  Criterion criterion;
  criterion.name = std::move(name);
  criterion.rubric = std::move(rubric);
  criterion.scale = scale;
  criterion.threshold = default_threshold(scale);
  return criterion;
}

MaybeError parse_llm_fields(const json& object, Criterion& out, Scale default_scale) {
  if (object.contains("value")) {
    return invalid(prefix(out.name) + "\"value\" only applies to a deterministic check; add a \"type\" (" +
                   kCheckTypeList + ") or remove \"value\"");
  }
  auto rubric = object.find("rubric");
  if (rubric == object.end()) {
    return invalid(prefix(out.name) +
                   "missing \"rubric\" (what the judge should look for); or give a \"type\" for " +
                   "a deterministic check");
  }
  if (!rubric->is_string() || is_blank(rubric->get_ref<const std::string&>())) {
    return invalid(prefix(out.name) + "\"rubric\" must be a non-empty string (got " +
                   describe_value(*rubric) + ")");
  }
  out.rubric = rubric->get<std::string>();
  out.scale = default_scale;
  if (auto scale = object.find("scale"); scale != object.end()) {
    if (!scale->is_string() || !parse_scale(scale->get_ref<const std::string&>(), out.scale)) {
      return invalid(prefix(out.name) + "\"scale\" must be \"1-5\", \"1-10\" or \"binary\" (got " +
                     describe_value(*scale) + ")");
    }
  }
  const ScaleRange range = range_of(out.scale);
  out.threshold = default_threshold(out.scale);
  if (auto threshold = object.find("threshold"); threshold != object.end()) {
    const double value = threshold->is_number() ? threshold->get<double>() : NAN;
    if (!(value >= range.min && value <= range.max)) {
      return invalid(prefix(out.name) + "\"threshold\" must be a number from " + std::to_string(range.min) +
                     " to " + std::to_string(range.max) + " on the \"" + to_string(out.scale) +
                     "\" scale (got " + describe_value(*threshold) + ")");
    }
    out.threshold = value;
  }
  return std::nullopt;
}

// Compiling a pattern costs microseconds to milliseconds, and datasets repeat the same pattern
// on many rows, so compiled patterns are shared through a small per-thread cache. A compiled
// RE2 may be matched from any thread. Refusals are not cached: they are rare, and cheap to find.
Result<std::shared_ptr<const re2::RE2>> compile_cached(const std::string& pattern) {
  constexpr std::size_t kCacheEntries = 256;
  thread_local std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> cache;
  if (auto hit = cache.find(pattern); hit != cache.end()) return hit->second;
  auto regex = compile_regex(pattern);
  if (!regex.ok()) return regex;
  if (cache.size() >= kCacheEntries) cache.clear();
  cache.emplace(pattern, regex.value());
  return regex;
}

MaybeError parse_regex(const json& value, Criterion& out) {
  const auto& pattern = value.get_ref<const std::string&>();
  if (pattern.size() > kMaxRegexBytes) {
    return invalid(prefix(out.name) + "\"value\" regex is " + std::to_string(pattern.size()) +
                   " bytes; keep it under " + std::to_string(kMaxRegexBytes));
  }
  auto regex = compile_cached(pattern);
  if (!regex.ok()) {
    return CriteriaError{"invalid_regex",
                         prefix(out.name) + "\"value\" " + quote_for_message(pattern) + " " + regex.error().message};
  }
  out.regex = std::move(regex).value();
  return std::nullopt;
}

MaybeError parse_check_value(const json& object, Criterion& out) {
  static const json kNone;
  auto found = object.find("value");
  const json& value = found == object.end() ? kNone : *found;
  auto needs = [&](const char* what) {
    return invalid(prefix(out.name) + "a \"" + to_string(out.check) + "\" check needs " + what + " (got " +
                   (found == object.end() ? std::string("none") : describe_value(value)) + ")");
  };
  switch (out.check) {
    case CheckType::kContains:
    case CheckType::kNotContains:
    case CheckType::kRegex:
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        return needs("a non-empty string \"value\"");
      }
      break;
    case CheckType::kEquals:
      if (!value.is_string()) return needs("a string \"value\"");
      break;
    case CheckType::kMaxChars:
    case CheckType::kMinChars:
      if (!value.is_number_integer() || (!value.is_number_unsigned() && value.get<std::int64_t>() < 0)) {
        return needs("a whole number of characters >= 0 as \"value\"");
      }
      break;
    case CheckType::kJson: {
      const bool keys_ok =
          value.is_null() || (value.is_array() && std::all_of(value.begin(), value.end(), [](const json& k) {
                                return k.is_string() && !k.get_ref<const std::string&>().empty();
                              }));
      if (!keys_ok) {
        return invalid(prefix(out.name) + "the \"value\" of a \"json\" check is optional and must list " +
                       "required keys, e.g. [\"answer\", \"sources\"] (got " + describe_value(value) + ")");
      }
      break;
    }
  }
  out.value = value;
  return out.check == CheckType::kRegex ? parse_regex(value, out) : std::nullopt;
}

// {"name": ..., "type": "pairwise", "rubric": "what makes one answer better"}: judged on the
// row's output_a and output_b (jsonl_reader.cpp checks the row has them).
MaybeError parse_pairwise_fields(const json& object, Criterion& out) {
  for (const char* key : {"scale", "threshold", "value"}) {
    if (object.contains(key)) {
      return invalid(prefix(out.name) + "\"" + key + "\" does not apply to a \"pairwise\" criterion (the judge " +
                     "picks the better of output_a and output_b); remove it");
    }
  }
  auto rubric = object.find("rubric");
  if (rubric == object.end() || !rubric->is_string() || is_blank(rubric->get_ref<const std::string&>())) {
    return invalid(prefix(out.name) + "a \"pairwise\" criterion needs a \"rubric\": what makes one answer " +
                   "better than the other");
  }
  out.pairwise = true;
  out.rubric = rubric->get<std::string>();
  out.scale = Scale::kBinary;  // its score is answer b's points, 0..1 (see criterion.h)
  out.threshold = 0.5;         // b passes when it is at least as good as a
  return std::nullopt;
}

MaybeError parse_check_fields(const json& object, Criterion& out) {
  const json& type = object["type"];
  std::optional<CheckType> check;
  if (type.is_string()) check = parse_check_type(type.get_ref<const std::string&>());
  if (!check) {
    return invalid(prefix(out.name) + "unknown \"type\" " + describe_value(type) + "; use " + kCheckTypeList +
                   ", \"pairwise\" to compare output_a with output_b, or leave out \"type\" and give a " +
                   "\"rubric\" for an LLM-judged criterion");
  }
  out.llm = false;
  out.check = *check;
  for (const char* key : {"rubric", "scale", "threshold"}) {
    if (object.contains(key)) {
      return invalid(prefix(out.name) + "\"" + key + "\" does not apply to a \"" + to_string(out.check) +
                     "\" check (it passes or fails); remove it");
    }
  }
  return parse_check_value(object, out);
}

MaybeError parse_weight(const json& object, Criterion& out) {
  auto weight = object.find("weight");
  if (weight == object.end()) return std::nullopt;
  const double value = weight->is_number() ? weight->get<double>() : NAN;
  if (!(value > 0) || !std::isfinite(value)) {
    return invalid(prefix(out.name) + "\"weight\" must be a number greater than 0 (got " +
                   describe_value(*weight) + ")");
  }
  out.weight = value;
  return std::nullopt;
}

MaybeError parse_object(const json& object, std::string default_name, Scale default_scale, Criterion& out) {
  out.name = std::move(default_name);
  if (auto name = object.find("name"); name != object.end()) {
    if (!name->is_string() || name->get_ref<const std::string&>().empty()) {
      return invalid(prefix(out.name) + "\"name\" must be a non-empty string (got " + describe_value(*name) +
                     ")");
    }
    out.name = name->get<std::string>();
  }
  for (const auto& item : object.items()) {
    if (!is_criterion_key(item.key())) {
      return invalid(prefix(out.name) + "unknown key " + quote_for_message(item.key()) +
                     "; a criterion has \"name\", \"rubric\", \"scale\", \"threshold\", \"weight\" " +
                     "(LLM-judged) or \"name\", \"type\", \"value\", \"weight\" (deterministic)");
    }
  }
  const auto type = object.find("type");
  MaybeError error = type == object.end()  ? parse_llm_fields(object, out, default_scale)
                     : *type == "pairwise" ? parse_pairwise_fields(object, out)
                                           : parse_check_fields(object, out);
  return error ? error : parse_weight(object, out);
}

MaybeError add(std::vector<Criterion>& criteria, Criterion criterion) {
  for (const Criterion& existing : criteria) {
    if (existing.name == criterion.name) {
      return invalid(prefix(criterion.name) + "the name appears more than once; give each criterion a " +
                     "unique \"name\"");
    }
  }
  criteria.push_back(std::move(criterion));
  return std::nullopt;
}

MaybeError parse_mapping(const json& object, Scale default_scale, std::vector<Criterion>& out) {
  for (const auto& item : object.items()) {
    if (item.key().empty()) return invalid("criteria: a criterion name must not be empty");
    const json& rubric = item.value();
    if (!rubric.is_string() || is_blank(rubric.get_ref<const std::string&>())) {
      return invalid(prefix(item.key()) + "in the {\"name\": \"rubric\"} form each value must be a " +
                     "non-empty rubric string (got " + describe_value(rubric) + "); to set a scale, " +
                     "threshold or check type use an array of criterion objects");
    }
    if (auto error = add(out, llm_criterion(item.key(), rubric.get<std::string>(), default_scale))) {
      return error;
    }
  }
  return std::nullopt;
}

MaybeError parse_array(const json& array, Scale default_scale, std::vector<Criterion>& out) {
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& element = array[i];
    std::string name = "c" + std::to_string(i + 1);
    Criterion criterion;
    if (element.is_string()) {
      if (is_blank(element.get_ref<const std::string&>())) {
        return invalid(prefix(name) + "the rubric is empty; write what the judge should look for");
      }
      criterion = llm_criterion(std::move(name), element.get<std::string>(), default_scale);
    } else if (element.is_object()) {
      if (auto error = parse_object(element, std::move(name), default_scale, criterion)) return error;
    } else {
      return invalid(prefix(name) + "each element of a \"criteria\" array must be a rubric string or a " +
                     "criterion object (got " + describe_value(element) + ")");
    }
    if (auto error = add(out, std::move(criterion))) return error;
  }
  return std::nullopt;
}

MaybeError parse_into(const json& criteria, Scale default_scale, std::vector<Criterion>& out) {
  switch (criteria.type()) {
    case json::value_t::string:
      if (is_blank(criteria.get_ref<const std::string&>())) break;
      out.push_back(llm_criterion("default", criteria.get<std::string>(), default_scale));
      return std::nullopt;
    case json::value_t::object:
      if (criteria.empty()) break;
      if (!is_single_criterion(criteria)) return parse_mapping(criteria, default_scale, out);
      out.emplace_back();
      return parse_object(criteria, "default", default_scale, out.back());
    case json::value_t::array:
      if (criteria.empty()) break;
      return parse_array(criteria, default_scale, out);
    default:
      return invalid("\"criteria\" must be a rubric string, an object {\"name\": \"rubric\"} or an array " +
                     std::string("of criteria (got ") + describe_value(criteria) + ")");
  }
  return invalid("\"criteria\" is empty; give at least one criterion, e.g. \"criteria\": \"The answer is " +
                 std::string("correct.\"; or leave the field out to use the config file's criteria"));
}

}  // namespace

bool parse_scale(const std::string& text, Scale& scale) {
  for (Scale candidate : {Scale::k1to5, Scale::k1to10, Scale::kBinary}) {
    if (text == to_string(candidate)) {
      scale = candidate;
      return true;
    }
  }
  return false;
}

CriteriaResult parse_criteria(const nlohmann::json& criteria, Scale default_scale) {
  std::vector<Criterion> out;
  if (MaybeError error = parse_into(criteria, default_scale, out)) return *std::move(error);
  return out;
}

}  // namespace llmeval::dataset
