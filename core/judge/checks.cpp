#include "core/judge/checks.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dataset/criterion_regex.h"

namespace llmeval::judge {
namespace {

using dataset::CheckType;
using dataset::Criterion;
using nlohmann::json;

// Long expected texts are cut in reasons; a reason is a one-line hint, not a diff.
constexpr std::size_t kMaxQuoted = 60;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n\f\v");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(first, last - first + 1);
}

// Counts UTF-8 code points: every byte that is not a continuation byte (10xxxxxx) starts one.
std::int64_t code_points(std::string_view text) {
  std::int64_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

// "text" in double quotes, cut to kMaxQuoted code points with "..." when longer.
std::string quote_text(std::string_view text) {
  std::string out = "\"";
  std::size_t points = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const bool starts_point = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts_point && points++ == kMaxQuoted) break;
    out += text[i];
  }
  if (i < text.size()) out += "...";
  out += '"';
  return out;
}

CheckOutcome pass(std::string reason) { return {true, std::move(reason)}; }
CheckOutcome fail(std::string reason) { return {false, std::move(reason)}; }

// The needles of contains / not_contains: a string, or an array of strings (all of them).
std::optional<std::vector<std::string_view>> needles(const json& value) {
  std::vector<std::string_view> out;
  if (value.is_string()) {
    out.push_back(value.get_ref<const std::string&>());
    return out;
  }
  if (!value.is_array() || value.empty()) return std::nullopt;
  for (const auto& v : value) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get_ref<const std::string&>());
  }
  return out;
}

CheckOutcome check_contains(const Criterion& c, std::string_view output, bool want) {
  const auto wanted = needles(c.value);
  if (!wanted) return fail("check value must be a string or an array of strings");
  for (std::string_view needle : *wanted) {
    const bool found = output.find(needle) != std::string_view::npos;
    if (found != want) {
      return fail((found ? "output contains " : "output does not contain ") + quote_text(needle));
    }
  }
  if (wanted->size() == 1) {
    return pass((want ? "output contains " : "output does not contain ") +
                quote_text(wanted->front()));
  }
  return pass(want ? "output contains all " + std::to_string(wanted->size()) + " texts"
                   : "output contains none of the " + std::to_string(wanted->size()) + " texts");
}

CheckOutcome check_equals(const Criterion& c, std::string_view output) {
  if (!c.value.is_string()) return fail("check value must be a string");
  const auto& expected = c.value.get_ref<const std::string&>();
  if (trim(output) == expected) return pass("output equals " + quote_text(expected));
  return fail("output does not equal " + quote_text(expected));
}

CheckOutcome check_regex(const Criterion& c, std::string_view output) {
  if (!c.value.is_string()) return fail("check value must be a regex string");
  const std::string& pattern = c.value.get_ref<const std::string&>();
  const std::string shown = "/" + pattern + "/";
  // The criteria parser compiles the pattern once; compiling here only covers a Criterion
  // built by hand without it.
  std::shared_ptr<const re2::RE2> regex = c.regex;
  if (!regex) {
    auto compiled = dataset::compile_regex(pattern);
    if (!compiled.ok()) return fail("regex " + shown + " " + compiled.error().message);
    regex = std::move(compiled).value();
  }
  // RE2 is linear in the output, whatever its size: the verdict is always the true answer.
  if (dataset::regex_search(*regex, output)) return pass("output matches " + shown);
  return fail("output does not match " + shown);
}

CheckOutcome check_json(const Criterion& c, std::string_view output) {
  json parsed;
  try {
    parsed = json::parse(trim(output));
  } catch (const json::parse_error& e) {
    return fail("output is not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  }
  std::vector<std::string_view> keys;
  if (c.value.is_string()) {
    keys.push_back(c.value.get_ref<const std::string&>());
  } else if (c.value.is_array()) {
    for (const auto& key : c.value) {
      if (!key.is_string()) return fail("check value must be an array of key names");
      keys.push_back(key.get_ref<const std::string&>());
    }
  } else if (!c.value.is_null()) {
    return fail("check value must be an array of key names");
  }
  if (keys.empty()) return pass("output is valid JSON");
  if (!parsed.is_object()) return fail("output is valid JSON but not an object");
  std::string missing;
  for (std::string_view key : keys) {
    if (parsed.contains(key)) continue;
    missing += missing.empty() ? "" : ", ";
    missing += quote_text(key);
  }
  if (!missing.empty()) return fail("output JSON is missing keys: " + missing);
  return pass("output is a JSON object with all " + std::to_string(keys.size()) + " keys");
}

std::optional<std::int64_t> integer_value(const json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_unsigned()) return static_cast<std::int64_t>(value.get<std::uint64_t>());
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::abs(d) < 9e18 && d == std::trunc(d)) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

CheckOutcome check_length(const Criterion& c, std::string_view output, bool is_max) {
  const auto limit = integer_value(c.value);
  if (!limit) return fail("check value must be an integer");
  const std::int64_t n = code_points(output);
  const bool ok = is_max ? n <= *limit : n >= *limit;
  const char* op = is_max ? (ok ? " <= max " : " > max ") : (ok ? " >= min " : " < min ");
  return {ok, std::to_string(n) + " chars" + op + std::to_string(*limit)};
}

}  // namespace

CheckOutcome run_check(const Criterion& criterion, std::string_view output) {
  switch (criterion.check) {
    case CheckType::kContains: return check_contains(criterion, output, true);
    case CheckType::kNotContains: return check_contains(criterion, output, false);
    case CheckType::kEquals: return check_equals(criterion, output);
    case CheckType::kRegex: return check_regex(criterion, output);
    case CheckType::kJson: return check_json(criterion, output);
    case CheckType::kMaxChars: return check_length(criterion, output, true);
    case CheckType::kMinChars: return check_length(criterion, output, false);
  }
  return fail("unknown check type");
}

}  // namespace llmeval::judge
