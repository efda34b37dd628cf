#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "core/metrics/exposition.h"

using llmeval::metrics::append_labels;
using llmeval::metrics::escape_help;
using llmeval::metrics::escape_label_value;
using llmeval::metrics::format_value;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ValueCase {
  double value;
  const char* text;
};

struct EscapeCase {
  std::string input;
  std::string label_value;
  std::string help;
};

}  // namespace

TEST_CASE("format_value writes numbers the way Prometheus clients do", "[metrics]") {
  const std::vector<ValueCase> cases = {
      {0, "0"},
      {-0.0, "0"},
      {3, "3"},
      {-2, "-2"},
      {1e6, "1000000"},  // an integer, not 1e+06
      {123456789012.0, "123456789012"},
      {9007199254740991.0, "9007199254740991"},
      {0.25, "0.25"},
      {1.5, "1.5"},
      {-0.125, "-0.125"},
      {0.005, "0.005"},
      {0.1 + 0.2, "0.30000000000000004"},  // shortest form that reads back to the same double
      {1e-7, "1e-07"},
      {1e300, "1e+300"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {kNaN, "NaN"},
  };
  for (const auto& c : cases) {
    INFO("expected " << c.text);
    CHECK(format_value(c.value) == c.text);
  }
}

TEST_CASE("Label values escape backslash, quote and newline; HELP leaves quotes alone", "[metrics]") {
  const std::vector<EscapeCase> cases = {
      {"plain", "plain", "plain"},
      {"", "", ""},
      {R"(a\b)", R"(a\\b)", R"(a\\b)"},
      {R"(say "hi")", R"(say \"hi\")", R"(say "hi")"},
      {"two\nlines", R"(two\nlines)", R"(two\nlines)"},
      {"tab\tstays", "tab\tstays", "tab\tstays"},
      {"\\\"\n", R"(\\\"\n)", R"(\\"\n)"},
      {"ünïcode", "ünïcode", "ünïcode"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    CHECK(escape_label_value(c.input) == c.label_value);
    CHECK(escape_help(c.input) == c.help);
  }
}

TEST_CASE("append_labels writes a label set, with le last for histogram buckets", "[metrics]") {
  std::string out;
  SECTION("no labels and no le writes nothing") {
    append_labels(out, {}, {});
    CHECK(out.empty());
  }
  SECTION("only le") {
    append_labels(out, {}, {}, "0.5");
    CHECK(out == R"({le="0.5"})");
  }
  SECTION("labels in the given order, values escaped") {
    append_labels(out, {"provider", "code"}, {"open\"ai", "200"});
    CHECK(out == R"({provider="open\"ai",code="200"})");
  }
  SECTION("labels then le") {
    append_labels(out, {"provider"}, {"anthropic"}, "+Inf");
    CHECK(out == R"({provider="anthropic",le="+Inf"})");
  }
}
