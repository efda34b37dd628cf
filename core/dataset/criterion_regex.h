// The pattern of a `regex` criterion, compiled and matched with RE2.
//
// RE2 matches in time linear in the text (a DFA, or an NFA simulation when the DFA would need
// too much memory) and never recurses on the text, so no pattern makes it backtrack
// exponentially or overflow the stack, and every check gives the true answer whatever the
// output's size. Its syntax is close to ECMAScript's (\d \w \s \b, classes, groups, lazy
// quantifiers, (?i) and the other inline flags) but has no backreferences (\1) and no lookaround
// ((?=...), (?!...), (?<=...)); such patterns are refused when compiled.
//
// Linear, not free: the NFA's cost per byte grows with the number of positions the pattern can
// be at once, which large counted repeats multiply (".{0,1000}y.{0,1000}z" has thousands: about
// 30 us per byte of some texts). compile_regex refuses patterns wider than kMaxRegexWidth, which
// bounds a check to a few seconds per MB of output at worst, milliseconds for ordinary patterns.
//
// Pure functions; a compiled RE2 is immutable and may be matched from any thread.
#pragma once

#include <memory>
#include <string_view>

#include "core/common/error.h"

namespace re2 {
class RE2;
}

namespace llmeval::dataset {

// The widest pattern compile_regex accepts: RE2 program instructions, counted with one
// instruction per character class (Latin-1), which is about the number of NFA states.
// "^.{1,280}$" is 841, "\b(19|20)\d{2}\b" 12.
inline constexpr int kMaxRegexWidth = 1000;

// The pattern compiled for matching (UTF-8, no capture groups kept), or an Error (kParse) whose
// message says what is wrong and how to fix it: RE2's own complaint ("invalid escape sequence:
// \1") with a note on what RE2 syntax lacks, a repeat count RE2 would read as literal text
// ({05}, {99999999999}) or not take (over 1000), or a pattern wider than kMaxRegexWidth.
Result<std::shared_ptr<const re2::RE2>> compile_regex(std::string_view pattern);

// Whether `regex` matches anywhere in `text` (a search, like ECMAScript's RegExp.test).
bool regex_search(const re2::RE2& regex, std::string_view text);

}  // namespace llmeval::dataset
