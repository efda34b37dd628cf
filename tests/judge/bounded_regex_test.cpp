#include "core/judge/bounded_regex.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace llmeval::judge {
namespace {

// Patterns are compiled as the criteria parser compiles them: the breadth-first matcher.
std::regex bfs(const char* pattern) {
  return std::regex(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
}

struct Case {
  const char* name;
  const char* pattern;
  std::string text;
  RegexSearch expected;
};

TEST_CASE("bounded_regex_search decides ordinary searches", "[judge]") {
  const std::string long_prose(50000, 'x');
  const std::vector<Case> cases = {
      {"match", R"(\d{3})", "call 555 now", RegexSearch::kMatch},
      {"no match", R"(\d{3})", "no digits", RegexSearch::kNoMatch},
      {"empty text", "^$", "", RegexSearch::kMatch},
      {"anchored", "^Paris$", "Paris", RegexSearch::kMatch},
      {"match at the end of a long text", R"(\d{3})", long_prose + "123", RegexSearch::kMatch},
      {"no match in a long text", R"(\d{3})", long_prose, RegexSearch::kNoMatch},
      {"greedy group over a long matching text", "(a|b)*c", std::string(20000, 'a') + "c",
       RegexSearch::kMatch},
      // Exponential for a backtracking matcher; the breadth-first one decides them at once.
      {"nested quantifiers", "(a+)+b", std::string(40, 'a'), RegexSearch::kNoMatch},
      {"overlapping alternatives", "(a|aa)+$", std::string(60, 'a') + "!", RegexSearch::kNoMatch},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(bounded_regex_search(bfs(c.pattern), c.text) == c.expected);
  }
}

// Without the budget each of these runs for seconds to minutes.
TEST_CASE("bounded_regex_search gives up on runaway searches instead of crashing", "[judge]") {
  const std::vector<Case> cases = {
      {"quadratic group", "(a|b)*c", std::string(30000, 'a'), RegexSearch::kTooComplex},
      {"quadratic", ".*c", std::string(30000, 'a'), RegexSearch::kTooComplex},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(bounded_regex_search(bfs(c.pattern), c.text) == c.expected);
  }
}

TEST_CASE("bounded_regex_search refuses texts over max_bytes", "[judge]") {
  RegexLimits limits;
  limits.max_bytes = 10;
  CHECK(bounded_regex_search(bfs("a"), std::string(11, 'a'), limits) ==
        RegexSearch::kTooLong);
  CHECK(bounded_regex_search(bfs("a"), std::string(10, 'a'), limits) == RegexSearch::kMatch);
}

}  // namespace
}  // namespace llmeval::judge
