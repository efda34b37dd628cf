// A std::regex search with bounded time and stack, for the `regex` check.
//
// libstdc++'s default std::regex matcher backtracks recursively: its stack grows with the
// text (a 20 KB output can overflow an 8 MiB stack) and its time can explode ("(a+)+x").
// Patterns must therefore be compiled with std::regex_constants::__polynomial (the dataset's
// criteria parser does), which selects the breadth-first matcher: bounded stack, no
// backreferences. Its search is still quadratic in the worst case (".*x" tries every start),
// so bounded_regex_search counts the characters the matcher examines and gives up past a
// budget. It runs on the caller's thread. Thread-safe: a const std::regex may be shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <regex>
#include <string_view>

namespace llmeval::judge {

enum class RegexSearch {
  kMatch,
  kNoMatch,
  kTooLong,     // the text is longer than RegexLimits::max_bytes; nothing was matched
  kTooComplex,  // the step budget ran out, or the matcher failed (no memory, no thread)
};

struct RegexLimits {
  // Characters examined (iterator steps and reads) before giving up: max_steps plus
  // steps_per_byte for each byte of the text. A linear search takes 1-5 steps per byte (more
  // with many alternatives), so the budget decides it; a runaway search is stopped within
  // tens of milliseconds on short texts and within about a second on the longest.
  std::int64_t max_steps = 1'000'000;
  std::int64_t steps_per_byte = 32;
  // Longer texts are refused rather than searched. 1 MiB is about 250k tokens of output.
  std::size_t max_bytes = 1024 * 1024;
};

RegexSearch bounded_regex_search(const std::regex& regex, std::string_view text,
                                 const RegexLimits& limits = {});

}  // namespace llmeval::judge
