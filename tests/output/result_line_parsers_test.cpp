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
#include "core/output/resume_index.h"
#include "core/output/shard_merge.h"
#include "core/output/summary.h"
#include "tests/support/build_paths.h"
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
      testing::read_lines(std::string(llmeval::testing::source_dir()) + "/tests/data/golden/results.jsonl");
  lines.push_back(
      R"({"id":{"nested":[1,-2,3.5,true,null]},"line":9,"status":"ok","pass":true,"score":1,"criteria":{"b":{"score":1,"normalized":1,"pass":true,"reason":"\u00e9\ud83d\ude00","weight":2.5,"judge":{"provider":"p","model":"m","attempts":3,"fallback":true,"latency_ms":12,"tokens":{"input":7,"output":9},"simulated":true}},"a":{"score":0,"normalized":0,"pass":false,"reason":"","type":"regex"}},"metadata":{"z":1,"a":{"k":"v"}},"error":null})");
  // Every token field, as append_json writes them; and a row of an older version, without the
  // cache and reasoning counts (the one above has none either).
  lines.push_back(
      R"({"id":"t","line":5,"status":"ok","pass":true,"score":1,"criteria":{"c":{"score":5,"normalized":1,"pass":true,"reason":"r","judge":{"provider":"p","model":"m","attempts":1,"fallback":false,"latency_ms":3,"tokens":{"input":10000,"output":500,"cached_input":8000,"cache_write":1000,"reasoning":200}}}},"metadata":{},"error":null})");
  lines.push_back(
      R"({"id":"u","line":6,"status":"ok","pass":true,"score":1,"criteria":{"c":{"score":5,"normalized":1,"pass":true,"reason":"r","judge":{"provider":"p","model":"m","attempts":1,"fallback":false,"latency_ms":3,"tokens":{"reasoning":7,"cached_input":3,"input":4,"output":9,"later":{"x":1}}}}},"metadata":{},"error":null})");
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
      R"("tokens":[],)", R"("judge":7,)", R"("criteria":[],)", R"("k\u0069nd":"x",)", R"("cached_input":1.5,)",
      R"("cache_write":"x",)", R"("reasoning":-7,)", R"("cached_input":18446744073709551615,)",
      R"("cache_write":null,)", R"("input":3,)"};
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

namespace {

output::ResultRecord judged_row(std::int64_t line, const std::string& provider, llmeval::provider::TokenUsage tokens) {
  output::ResultRecord record;
  record.id = "row-" + std::to_string(line);
  record.line = line;
  output::CriterionResult c;
  c.name = "quality";
  c.score = 5;
  c.normalized = 1;
  c.pass = true;
  c.judge = output::JudgeInfo{provider, "m", 1, false, 20, tokens, false};
  record.criteria.push_back(c);
  return record;
}

std::string line_of(const output::ResultRecord& record) {
  std::string line;
  output::append_json(line, record);
  return line;
}

}  // namespace

TEST_CASE("token counts round-trip through both result-line parsers", "[output][result_reader]") {
  const llmeval::provider::TokenUsage all{.input = 10'000, .output = 500, .cached_input = 8'000, .cache_write = 1'000,
                                          .reasoning = 200};
  const std::string line = line_of(judged_row(1, "p", all));
  // The key order is part of the format: input, output, cached_input, then the optional two.
  CHECK_THAT(line, Catch::Contains(
                       R"("tokens":{"input":10000,"output":500,"cached_input":8000,"cache_write":1000,"reasoning":200})"));
  for (auto parse : {&output::parse_result_line, &output::parse_result_line_nlohmann}) {
    auto record = parse(line);
    REQUIRE(record);
    REQUIRE(record.value().criteria.size() == 1);
    REQUIRE(record.value().criteria[0].judge);
    const auto& tokens = record.value().criteria[0].judge->tokens;
    CHECK(tokens.input == 10'000);
    CHECK(tokens.output == 500);
    CHECK(tokens.cached_input == 8'000);
    CHECK(tokens.cache_write == 1'000);
    CHECK(tokens.reasoning == 200);
    CHECK(line_of(record.value()) == line);
  }
}

TEST_CASE("cached_input is always written, cache_write and reasoning only when not zero", "[output][result_reader]") {
  CHECK_THAT(line_of(judged_row(1, "p", {.input = 5, .output = 1})),
             Catch::Contains(R"("tokens":{"input":5,"output":1,"cached_input":0}})"));
  CHECK_THAT(line_of(judged_row(1, "p", {.input = 5, .output = 1, .reasoning = 1})),
             Catch::Contains(R"("tokens":{"input":5,"output":1,"cached_input":0,"reasoning":1}})"));
  CHECK_THAT(line_of(judged_row(1, "p", {.input = 5, .output = 1, .cached_input = 2, .cache_write = 3})),
             Catch::Contains(R"("tokens":{"input":5,"output":1,"cached_input":2,"cache_write":3}})"));
}

TEST_CASE("rows written before the cache counts existed read them as zero", "[output][result_reader]") {
  const std::string old =
      R"({"id":"q","line":1,"status":"ok","pass":true,"score":1,"criteria":{"c":{"score":5,"normalized":1,"pass":true,"reason":"","judge":{"provider":"p","model":"m","attempts":1,"fallback":false,"latency_ms":3,"tokens":{"input":7,"output":9}}}},"metadata":{},"error":null})";
  for (auto parse : {&output::parse_result_line, &output::parse_result_line_nlohmann}) {
    auto record = parse(old);
    REQUIRE(record);
    const auto& tokens = record.value().criteria.at(0).judge->tokens;
    CHECK(tokens.input == 7);
    CHECK(tokens.output == 9);
    CHECK(tokens.cached_input == 0);
    CHECK(tokens.cache_write == 0);
    CHECK(tokens.reasoning == 0);
  }
}

TEST_CASE("merge and --resume carry the cache and reasoning counts into the summary", "[output][result_reader]") {
  testing::TempDir dir;
  const llmeval::provider::TokenUsage a{.input = 100, .output = 10, .cached_input = 60, .cache_write = 0, .reasoning = 4};
  const llmeval::provider::TokenUsage b{.input = 50, .output = 5, .cached_input = 0, .cache_write = 30, .reasoning = 0};
  testing::write_file(dir.file("part-0.jsonl"), line_of(judged_row(1, "p", a)) + "\n");
  testing::write_file(dir.file("part-1.jsonl"), line_of(judged_row(2, "p", b)) + "\n");
  auto check = [](const output::Summary& summary) {
    const auto& total = summary.token_usage();
    CHECK(total.input == 150);
    CHECK(total.output == 15);
    CHECK(total.cached_input == 60);
    CHECK(total.cache_write == 30);
    CHECK(total.reasoning == 4);
  };
  SECTION("merge") {
    output::ShardMerge merge({dir.file("part-0.jsonl"), dir.file("part-1.jsonl")}, output::MergeOptions{});
    REQUIRE(merge.check().value().problems.empty());
    output::Summary summary;
    REQUIRE(merge.write(dir.file("merged.jsonl"), summary).ok());
    check(summary);
    // The rows' bytes are copied unchanged, token details included.
    CHECK(testing::read_file(dir.file("merged.jsonl")) ==
          testing::read_file(dir.file("part-0.jsonl")) + testing::read_file(dir.file("part-1.jsonl")));
  }
  SECTION("resume") {
    testing::write_file(dir.file("results.jsonl"), testing::read_file(dir.file("part-0.jsonl")) +
                                                       testing::read_file(dir.file("part-1.jsonl")));
    output::Summary summary;
    auto index = output::ResumeIndex::load(dir.file("results.jsonl"), false,
                                           [&summary](const output::ResultRecord& row) { summary.add(row); });
    REQUIRE(index.ok());
    CHECK(index.value().size() == 2);
    check(summary);
  }
}
