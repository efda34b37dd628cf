// parse_result_line reads well-formed rows with simdjson and hands every other line to the
// nlohmann parser. Both must give the same outcome for every line: the same record, the same
// error, or the same exception. Checked on real result rows and on thousands of seeded
// mutations of them (a small deterministic fuzzer: repeated keys, wrong types, cut lines,
// escapes, huge numbers).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/output/result_reader.h"
#include "core/output/result_record.h"
#include "tests/support/files.h"

namespace {

using namespace llmeval;

// What a parser made of a line, as comparable text.
std::string outcome(Result<output::ResultRecord> (*parse)(std::string_view), const std::string& line) {
  try {
    auto record = parse(line);
    if (!record) return "error: " + record.error().message;
    std::string text = "record: ";
    output::append_json(text, record.value());
    for (const auto& c : record.value().criteria) {
      // Fields append_json leaves out or derives.
      text += " | " + c.name + " llm=" + std::to_string(c.llm) + " weight=" + std::to_string(c.weight);
      if (c.judge) text += " simulated=" + std::to_string(c.judge->simulated);
    }
    return text;
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
}

std::vector<std::string> base_lines() {
  std::vector<std::string> lines =
      testing::read_lines(std::string(LLMEVAL_SOURCE_DIR) + "/tests/data/golden/results.jsonl");
  lines.push_back(
      R"({"id":{"nested":[1,-2,3.5,true,null]},"line":9,"status":"ok","pass":true,"score":1,"criteria":{"b":{"score":1,"normalized":1,"pass":true,"reason":"\u00e9\ud83d\ude00","weight":2.5,"judge":{"provider":"p","model":"m","attempts":3,"fallback":true,"latency_ms":12,"tokens":{"input":7,"output":9},"simulated":true}},"a":{"score":0,"normalized":0,"pass":false,"reason":"","type":"regex"}},"metadata":{"z":1,"a":{"k":"v"}},"error":null})");
  lines.push_back(R"({"id":18446744073709551615,"line":1,"status":"invalid","criteria":{},"error":{"kind":"k","message":"m"}})");
  lines.push_back(R"({"line":2,"status":"ok"})");
  return lines;
}

// Seeded mutations that hit the parsers' edges: a byte replaced by JSON punctuation or a
// digit, a cut, a repeated key, a field given another type.
std::vector<std::string> mutations_of(const std::string& line, std::uint32_t seed) {
  static const std::string alphabet = "{}[]\",:0123456789-.eE \\nultrfase";
  static const std::vector<std::string> inserts = {
      R"("line":3,)", R"("status":"ok",)", R"("id":1e400,)", R"("score":"x",)", R"("pass":1,)",
      R"("attempts":1.5,)", R"("latency_ms":-1,)", R"("reason":null,)", R"("line":99999999999999999999,)",
      R"("tokens":[],)", R"("judge":7,)", R"("criteria":[],)", R"("k\u0069nd":"x",)"};
  std::vector<std::string> out;
  std::uint32_t state = seed;
  auto next = [&state](std::uint32_t bound) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % bound;
  };
  for (int i = 0; i < 150; ++i) {
    std::string variant = line;
    switch (next(4)) {
      case 0:
        variant[next(static_cast<std::uint32_t>(variant.size()))] = alphabet[next(static_cast<std::uint32_t>(alphabet.size()))];
        break;
      case 1:
        variant.resize(next(static_cast<std::uint32_t>(variant.size())));
        break;
      default: {
        // After an opening brace: a key that may repeat one already there, or give it another type.
        std::vector<std::size_t> braces;
        for (std::size_t at = 0; at < variant.size(); ++at) {
          if (variant[at] == '{') braces.push_back(at);
        }
        if (braces.empty()) break;
        variant.insert(braces[next(static_cast<std::uint32_t>(braces.size()))] + 1,
                       inserts[next(static_cast<std::uint32_t>(inserts.size()))]);
      }
    }
    out.push_back(std::move(variant));
  }
  return out;
}

}  // namespace

TEST_CASE("the simdjson and nlohmann result-line parsers agree on every line", "[output][result_reader]") {
  std::size_t lines = 0, records = 0;
  std::uint32_t seed = 1;
  for (const std::string& base : base_lines()) {
    std::vector<std::string> variants = mutations_of(base, seed++);
    variants.push_back(base);
    for (const std::string& line : variants) {
      const std::string fast = outcome(&output::parse_result_line, line);
      const std::string slow = outcome(&output::parse_result_line_nlohmann, line);
      INFO(line);
      REQUIRE(fast == slow);
      ++lines;
      records += fast.rfind("record: ", 0) == 0 ? 1 : 0;
    }
  }
  // The mutations must leave many lines readable, or the comparison would prove little.
  CHECK(lines > 1000);
  CHECK(records > lines / 4);
}

TEST_CASE("well-formed rows keep their criteria in file order", "[output][result_reader]") {
  auto record = output::parse_result_line(
      R"({"id":"x","line":4,"status":"ok","criteria":{"zeta":{"score":1,"normalized":1,"pass":true,"reason":""},"alpha":{"score":0,"normalized":0,"pass":false,"reason":""}}})");
  REQUIRE(record);
  REQUIRE(record.value().criteria.size() == 2);
  CHECK(record.value().criteria[0].name == "zeta");
  CHECK(record.value().criteria[1].name == "alpha");
}
