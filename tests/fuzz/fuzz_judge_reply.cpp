// libFuzzer target: the judge-reply parser. The input is a judge's reply text (prose, code
// fences, JSON with scores as numbers, strings or booleans), parsed on every scale.
//
// Invariants (judge_parser.h): a verdict's score is finite and inside the scale (0 or 1 on the
// binary scale) and its reason is valid UTF-8; a failure is a kParse error with a valid UTF-8
// message (it is sent back to the judge in the repair request, as JSON).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/dataset/message_text.h"
#include "core/judge/judge_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using llmeval::dataset::Scale;
using llmeval::fuzz::require;

bool utf8(const std::string& text) { return llmeval::dataset::find_invalid_utf8(text) == std::string::npos; }

void parse_with(std::string_view reply, Scale scale) {
  auto verdict = llmeval::judge::parse_judge_reply(reply, scale);
  if (!verdict) {
    require(verdict.error().kind == llmeval::ErrorKind::kParse, "a failure that is not kParse");
    require(!verdict.error().message.empty(), "empty error message");
    require(utf8(verdict.error().message), "error message is not UTF-8");
    return;
  }
  const double score = verdict.value().score;
  const auto range = llmeval::dataset::range_of(scale);
  require(std::isfinite(score), "score is not finite");
  require(score >= range.min && score <= range.max, "score outside the scale");
  require(scale != Scale::kBinary || score == 0 || score == 1, "binary score is not 0 or 1");
  require(utf8(verdict.value().reason), "reason is not UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view reply(reinterpret_cast<const char*>(data), size);
  for (Scale scale : {Scale::k1to5, Scale::k1to10, Scale::kBinary}) parse_with(reply, scale);
  return 0;
}
