// libFuzzer target: the criteria parser. The input is the JSON text of a row's "criteria"
// field; text that is not JSON is skipped (fuzz_jsonl_line covers the JSON parser). Each input
// is parsed with every default scale, and each deterministic criterion it yields is run
// against a few outputs, so regex criteria go through RE2 too.
//
// Invariants (criteria_parser.h): a result is a non-empty list of uniquely named criteria
// with thresholds inside their scale and a compiled regex for each regex check, or an error
// of kind invalid_criteria / invalid_regex with a valid UTF-8 message.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/dataset/criteria_parser.h"
#include "core/dataset/message_text.h"
#include "core/judge/checks.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using llmeval::dataset::CheckType;
using llmeval::dataset::Criterion;
using llmeval::dataset::Scale;
using llmeval::fuzz::require;

constexpr std::string_view kOutputs[] = {
    "",
    "Paris is the capital of France. It has been since 987.",
    R"({"name": "Ada", "email": "ada@example.com", "sources": [1, 2]})",
    "I'm sorry, I can't help with that. \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
};

void check_criterion(const Criterion& criterion) {
  require(!criterion.name.empty(), "criterion without a name");
  require(std::isfinite(criterion.weight) && criterion.weight > 0, "weight is not a positive number");
  if (criterion.llm) {
    const auto range = llmeval::dataset::range_of(criterion.scale);
    require(criterion.threshold >= range.min && criterion.threshold <= range.max, "threshold outside its scale");
    require(!criterion.rubric.empty(), "LLM criterion without a rubric");
    return;
  }
  require(criterion.check != CheckType::kRegex || criterion.regex != nullptr, "regex check without a regex");
  for (std::string_view output : kOutputs) {
    auto outcome = llmeval::judge::run_check(criterion, output);
    require(llmeval::dataset::find_invalid_utf8(outcome.reason) == std::string::npos, "check reason is not UTF-8");
  }
  if (criterion.value.is_string()) (void)llmeval::judge::run_check(criterion, criterion.value.get<std::string>());
}

void parse_with(const nlohmann::json& criteria, Scale scale) {
  auto result = llmeval::dataset::parse_criteria(criteria, scale);
  if (const auto* error = std::get_if<llmeval::dataset::CriteriaError>(&result)) {
    require(error->kind == "invalid_criteria" || error->kind == "invalid_regex", "undocumented error kind");
    require(!error->message.empty(), "empty error message");
    require(llmeval::dataset::find_invalid_utf8(error->message) == std::string::npos, "error message is not UTF-8");
    return;
  }
  const auto& list = std::get<std::vector<Criterion>>(result);
  require(!list.empty(), "parsed criteria are empty");
  std::set<std::string> names;
  for (const Criterion& criterion : list) {
    require(names.insert(criterion.name).second, "two criteria share a name");
    check_criterion(criterion);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* text = reinterpret_cast<const char*>(data);
  nlohmann::json criteria = nlohmann::json::parse(text, text + size, nullptr, /*allow_exceptions=*/false);
  if (criteria.is_discarded()) return 0;
  for (Scale scale : {Scale::k1to5, Scale::k1to10, Scale::kBinary}) parse_with(criteria, scale);
  return 0;
}
