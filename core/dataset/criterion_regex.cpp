#include "core/dataset/criterion_regex.h"

#include <re2/re2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/dataset/message_text.h"

namespace llmeval::dataset {
namespace {

// RE2 takes counts up to 1000; a larger one it refuses, except one of 10 or more digits, which
// (like a count with a leading zero) it reads as literal text: "a{05}" would match "a{05}".
constexpr int kMaxRepeatCount = 1000;

// A width probe gives up on programs past this many bytes (a few thousand instructions) at
// once, instead of compiling a huge one only to refuse it.
constexpr std::int64_t kProbeMemory = 256 * 1024;

Error refused(std::string message) { return Error{ErrorKind::kParse, std::move(message)}; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A repeat count (its digits): false when RE2 would not take it as written.
bool acceptable_count(std::string_view digits) {
  if (digits.size() > 1 && digits.front() == '0') return false;
  if (digits.size() > 4) return false;
  return std::stoi(std::string(digits)) <= kMaxRepeatCount;
}

// The first {m}, {m,} or {m,n} repeat (outside [...], not escaped) whose counts RE2 would not
// take as written, as its text. Anything else with braces is literal text to RE2 and to
// ECMAScript alike ("{", "x{,3}", "{a}").
std::optional<std::string_view> bad_repeat(std::string_view pattern) {
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      // A ']' first in a class ("[]a]", "[^]a]") is a member, not its end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') ++i;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;
    } else if (c == '{') {
      std::size_t j = i + 1;
      while (j < pattern.size() && is_digit(pattern[j])) ++j;
      const std::string_view min = pattern.substr(i + 1, j - i - 1);
      std::string_view max;
      if (j < pattern.size() && pattern[j] == ',') {
        const std::size_t from = ++j;
        while (j < pattern.size() && is_digit(pattern[j])) ++j;
        max = pattern.substr(from, j - from);
      }
      if (min.empty() || j >= pattern.size() || pattern[j] != '}') continue;
      if (!acceptable_count(min) || (!max.empty() && !acceptable_count(max))) {
        return pattern.substr(i, j - i + 1);
      }
    }
  }
  return std::nullopt;
}

// RE2's complaint, safe to put in a message: short and valid UTF-8 (it quotes the pattern).
std::string re2_complaint(const re2::RE2& regex) {
  const std::string& text = regex.error();
  if (text.size() <= 120 && find_invalid_utf8(text) == std::string::npos) return text;
  return quote_for_message(text, 120);
}

Error syntax_error(const re2::RE2& regex) {
  return refused("is not a valid regex (RE2 syntax, which has no backreferences such as \\1 and no lookaround "
                 "such as (?=...) or (?<=...)): " +
                 re2_complaint(regex));
}

Error too_complex(const std::string& width) {
  return refused("is too complex for a regex check (" + width + " positions, at most " +
                 std::to_string(kMaxRegexWidth) +
                 "): large counted repeats such as .{0,1000} make every byte of the output cost that many steps; "
                 "use smaller counts, or a max_chars or min_chars check for lengths");
}

RE2::Options options(RE2::Options::Encoding encoding) {
  RE2::Options options;
  options.set_encoding(encoding);
  options.set_log_errors(false);    // RE2 would print to stderr; the error goes in the row
  options.set_never_capture(true);  // a check only asks whether it matches
  return options;
}

// The pattern's width: its program compiled with one instruction per character class
// (Latin-1, where \p{L} or "." is one range, not one per UTF-8 byte sequence), at most
// kProbeMemory of it. The error is RE2's, for a pattern it cannot parse.
Result<std::string> width_of(std::string_view pattern) {
  RE2::Options latin1 = options(RE2::Options::EncodingLatin1);
  latin1.set_max_mem(kProbeMemory);
  const re2::RE2 probe(re2::StringPiece(pattern.data(), pattern.size()), latin1);
  if (probe.error_code() == RE2::ErrorPatternTooLarge) return std::string("thousands of");
  if (!probe.ok()) return syntax_error(probe);
  if (probe.ProgramSize() > kMaxRegexWidth) return std::to_string(probe.ProgramSize());
  return std::string();
}

}  // namespace

Result<std::shared_ptr<const re2::RE2>> compile_regex(std::string_view pattern) {
  if (auto repeat = bad_repeat(pattern)) {
    return refused("has the repeat " + quote_for_message(*repeat, 40) + ", which RE2 would read as literal text or "
                   "refuse: repeat counts are 0 to " + std::to_string(kMaxRepeatCount) +
                   ", written without leading zeros");
  }
  Result<std::string> too_wide = width_of(pattern);
  if (!too_wide.ok()) return too_wide.error();
  if (!too_wide.value().empty()) return too_complex(too_wide.value());
  auto regex = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                                options(RE2::Options::EncodingUTF8));
  if (regex->error_code() == RE2::ErrorPatternTooLarge) return too_complex("too many");
  if (!regex->ok()) return syntax_error(*regex);
  return std::shared_ptr<const re2::RE2>(std::move(regex));
}

bool regex_search(const re2::RE2& regex, std::string_view text) {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), regex);
}

}  // namespace llmeval::dataset
