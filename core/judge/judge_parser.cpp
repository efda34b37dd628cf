#include "core/judge/judge_parser.h"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/common/ascii.h"

namespace llmeval::judge {
namespace {

using nlohmann::json;

// Replies are bounded by max_tokens, but a misbehaving server is not; trying every '{' of a
// long brace-heavy reply would be quadratic, so only the first few candidates are tried.
constexpr int kMaxCandidates = 32;

constexpr std::array<std::string_view, 2> kScoreKeys = {"score", "rating"};
constexpr std::array<std::string_view, 4> kReasonKeys = {"reason", "explanation", "rationale",
                                                         "justification"};

Error parse_error(std::string message) { return Error{ErrorKind::kParse, std::move(message), {}}; }

std::string number_text(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  return std::string(buf, end);
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Brace matching that skips over JSON strings (with their escapes), so a '}' inside a
// reason string does not end the object. Returns the index of the matching '}', or npos.
std::size_t matching_brace(std::string_view text, std::size_t open) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// The first key of `names` the object has, exact spelling first, then any capitalisation.
const json* find_key(const json& object, const auto& names) {
  for (std::string_view name : names) {
    if (auto it = object.find(name); it != object.end()) return &*it;
  }
  for (auto it = object.begin(); it != object.end(); ++it) {
    for (std::string_view name : names) {
      if (iequals(it.key(), name)) return &it.value();
    }
  }
  return nullptr;
}

constexpr std::array<std::string_view, 3> kWinnerKeys = {"winner", "better", "preferred"};

// The first balanced {...} in the text that parses as a JSON object with one of `keys` (the
// score's, or a pairwise winner's). Code fences and prose around the object need no special
// case: they are skipped like any other text.
std::optional<json> find_verdict_object(std::string_view text, const auto& keys) {
  int tried = 0;
  for (std::size_t open = text.find('{'); open != std::string_view::npos && tried < kMaxCandidates;
       ++tried) {
    const std::size_t close = matching_brace(text, open);
    if (close == std::string_view::npos) {
      open = text.find('{', open + 1);
      continue;
    }
    json parsed = json::parse(text.substr(open, close - open + 1), nullptr, false);
    if (parsed.is_object() && find_key(parsed, keys) != nullptr) return parsed;
    // A valid object without a score is skipped whole: a score nested inside it (one of a list
    // of sub-scores, say) is not the verdict. Text that did not parse may hide one inside.
    open = text.find('{', parsed.is_discarded() ? open + 1 : close + 1);
  }
  return std::nullopt;
}

std::optional<double> binary_word(std::string_view word) {
  for (std::string_view yes : {"true", "yes", "pass", "passed"}) {
    if (iequals(word, yes)) return 1.0;
  }
  for (std::string_view no : {"false", "no", "fail", "failed"}) {
    if (iequals(word, no)) return 0.0;
  }
  return std::nullopt;
}

// The whole (trimmed) text as a number, or nothing.
std::optional<double> plain_number(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "4", " 4.0 ", "4/5" -> 4. The denominator must be a number too, but is not checked against
// the scale: the numerator alone is the score, and the range check judges it.
std::optional<double> number_in_string(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return plain_number(text);
  if (!plain_number(text.substr(slash + 1))) return std::nullopt;
  return plain_number(text.substr(0, slash));
}

Result<double> score_value(const json& score, dataset::Scale scale) {
  const bool binary = scale == dataset::Scale::kBinary;
  if (score.is_number()) return score.get<double>();
  if (score.is_boolean() && binary) return score.get<bool>() ? 1.0 : 0.0;
  if (score.is_string()) {
    const auto& text = score.get_ref<const std::string&>();
    if (auto value = number_in_string(text)) return *value;
    if (binary) {
      if (auto value = binary_word(trim(text))) return *value;
    }
  }
  return parse_error("score " + score.dump() + " is not a number");
}

Result<double> checked_score(const json& score, dataset::Scale scale) {
  Result<double> value = score_value(score, scale);
  if (!value) return value;
  const double v = value.value();
  if (!std::isfinite(v)) return parse_error("score " + score.dump() + " is not a finite number");
  const dataset::ScaleRange range = dataset::range_of(scale);
  if (scale == dataset::Scale::kBinary) {
    if (v != 0 && v != 1) {
      return parse_error("score " + number_text(v) + " is not 0 or 1 (binary scale)");
    }
  } else if (v < range.min || v > range.max) {
    return parse_error("score " + number_text(v) + " is outside the " + std::to_string(range.min) +
                       "-" + std::to_string(range.max) + " scale");
  }
  return v;
}

}  // namespace

Result<Verdict> parse_judge_reply(std::string_view text, dataset::Scale scale) {
  if (trim(text).empty()) return parse_error("the reply is empty");
  std::optional<json> object = find_verdict_object(text, kScoreKeys);
  if (!object) {
    if (text.find('{') == std::string_view::npos) {
      return parse_error("the reply contains no JSON object");
    }
    return parse_error("the reply contains no JSON object with a \"score\"");
  }
  Result<double> score = checked_score(*find_key(*object, kScoreKeys), scale);
  if (!score) return score.error();

  Verdict verdict;
  verdict.score = score.value();
  // The judge's own "pass" is ignored: pass is computed from the score and the threshold.
  if (const json* reason = find_key(*object, kReasonKeys); reason && reason->is_string()) {
    verdict.reason = reason->get<std::string>();
  }
  return verdict;
}

Result<Verdict> parse_pairwise_reply(std::string_view text) {
  if (trim(text).empty()) return parse_error("the reply is empty");
  std::optional<json> object = find_verdict_object(text, kWinnerKeys);
  if (!object) {
    if (text.find('{') == std::string_view::npos) return parse_error("the reply contains no JSON object");
    return parse_error("the reply contains no JSON object with a \"winner\"");
  }
  const json& winner = *find_key(*object, kWinnerKeys);
  std::string_view name = winner.is_string() ? trim(winner.get_ref<const std::string&>()) : std::string_view();
  // "Answer A" and "a" name A as well; a tie may be called a draw.
  if (name.size() > 7 && iequals(name.substr(0, 7), "answer ")) name.remove_prefix(7);
  Verdict verdict;
  if (iequals(name, "A")) {
    verdict.score = static_cast<double>(Shown::kA);
  } else if (iequals(name, "B")) {
    verdict.score = static_cast<double>(Shown::kB);
  } else if (iequals(name, "tie") || iequals(name, "draw")) {
    verdict.score = static_cast<double>(Shown::kTie);
  } else {
    return parse_error("winner " + winner.dump() + " is not \"A\", \"B\" or \"tie\"");
  }
  if (const json* reason = find_key(*object, kReasonKeys); reason && reason->is_string()) {
    verdict.reason = reason->get<std::string>();
  }
  return verdict;
}

const char* to_string(Shown shown) {
  switch (shown) {
    case Shown::kA: return "A";
    case Shown::kB: return "B";
    case Shown::kTie: return "tie";
  }
  return "tie";
}

}  // namespace llmeval::judge
