#include "core/output/shard_merge.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/files.h"

using llmeval::output::MergeOptions;
using llmeval::output::ShardMerge;
using llmeval::output::Summary;
using llmeval::testing::read_lines;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

namespace {

// A result row as `run` writes it (only the fields merge reads matter).
std::string result(std::int64_t line, const std::string& id) {
  return json{{"id", id}, {"line", line}, {"status", "ok"}, {"pass", true}, {"score", 1.0},
              {"criteria", json::object()}, {"metadata", json::object()}, {"error", nullptr}}
             .dump() +
         "\n";
}

// Part I of N for lines 1..lines, in a scrambled (completion) order, skipping `skip`.
std::string part(int index, int count, int lines, std::vector<int> skip = {}) {
  std::vector<std::string> rows;
  for (int line = index + 1; line <= lines; line += count) {
    if (std::find(skip.begin(), skip.end(), line) != skip.end()) continue;
    rows.push_back(result(line, "row-" + std::to_string(line)));
  }
  std::reverse(rows.begin(), rows.end());
  std::string text;
  for (const auto& row : rows) text += row;
  return text;
}

std::string dataset(int lines, const std::string& prefix = "row-") {
  std::string text;
  for (int line = 1; line <= lines; ++line) {
    text += json{{"id", prefix + std::to_string(line)}, {"output", "x"}, {"criteria", "c"}}.dump() + "\n";
  }
  return text;
}

std::vector<std::string> write_parts(TempDir& dir, const std::vector<std::string>& texts) {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    paths.push_back(dir.file("part-" + std::to_string(i) + ".jsonl"));
    write_file(paths.back(), texts[i]);
  }
  return paths;
}

}  // namespace

TEST_CASE("merge puts the rows of all shards in line order, bytes unchanged", "[output][merge]") {
  TempDir dir;
  auto parts = write_parts(dir, {part(0, 3, 10), part(1, 3, 10), part(2, 3, 10)});
  write_file(dir.file("dataset.jsonl"), dataset(10));
  ShardMerge merge(parts, MergeOptions{dir.file("dataset.jsonl"), false});
  const auto report = merge.check().value();
  CHECK(report.problems.empty());
  CHECK(report.missing_count == 0);
  CHECK(report.end_checked);
  Summary summary;
  REQUIRE(merge.write(dir.file("merged.jsonl"), summary).ok());
  auto lines = read_lines(dir.file("merged.jsonl"));
  REQUIRE(lines.size() == 10);
  for (int line = 1; line <= 10; ++line) CHECK(lines[static_cast<std::size_t>(line - 1)] + "\n" == result(line, "row-" + std::to_string(line)));
  CHECK(summary.rows() == 10);
}

TEST_CASE("merge refuses overlapping parts and parts of different shard counts", "[output][merge]") {
  TempDir dir;
  SECTION("a shard given twice") {
    auto parts = write_parts(dir, {part(0, 2, 8), part(1, 2, 8), part(1, 2, 8)});
    ShardMerge merge(parts, MergeOptions{});
    const auto report = merge.check().value();
    REQUIRE_FALSE(report.problems.empty());
    CHECK_THAT(report.problems.front(), Catch::Contains("is recorded in both") && Catch::Contains("overlap"));
  }
  SECTION("shards of 2 and of 3") {
    auto parts = write_parts(dir, {part(0, 2, 12), part(1, 3, 12)});
    ShardMerge merge(parts, MergeOptions{});
    const auto report = merge.check().value();
    REQUIRE_FALSE(report.problems.empty());
    std::string all;
    for (const auto& p : report.problems) all += p + "\n";
    CHECK_THAT(all, Catch::Contains("different shard counts"));
  }
}

TEST_CASE("merge finds missing rows, inside and (with the dataset) at the end", "[output][merge]") {
  TempDir dir;
  write_file(dir.file("dataset.jsonl"), dataset(10));
  // Shard 1 of 2 stopped after line 6: lines 8 and 10 are missing; line 4 is missing inside.
  auto parts = write_parts(dir, {part(0, 2, 10), part(1, 2, 6, {4})});
  SECTION("without the dataset only the gap is seen") {
    ShardMerge merge(parts, MergeOptions{});
    const auto report = merge.check().value();
    CHECK(report.problems.empty());
    CHECK(report.missing == std::vector<std::int64_t>{4, 8});
    CHECK_FALSE(report.end_checked);
  }
  SECTION("with the dataset the end is counted too") {
    ShardMerge merge(parts, MergeOptions{dir.file("dataset.jsonl"), true});
    const auto report = merge.check().value();
    CHECK(report.problems.empty());
    CHECK(report.missing == std::vector<std::int64_t>{4, 8, 10});
    Summary summary;
    REQUIRE(merge.write(dir.file("merged.jsonl"), summary).ok());
    CHECK(read_lines(dir.file("merged.jsonl")).size() == 7);
  }
}

TEST_CASE("merge refuses parts of another dataset and torn parts", "[output][merge]") {
  TempDir dir;
  SECTION("ids differ from the dataset's") {
    write_file(dir.file("dataset.jsonl"), dataset(6, "other-"));
    auto parts = write_parts(dir, {part(0, 2, 6), part(1, 2, 6)});
    ShardMerge merge(parts, MergeOptions{dir.file("dataset.jsonl"), false});
    const auto report = merge.check().value();
    REQUIRE(report.problems.size() == 1);
    CHECK_THAT(report.problems.front(), Catch::Contains("different dataset"));
  }
  SECTION("a part longer than the dataset") {
    write_file(dir.file("dataset.jsonl"), dataset(4));
    auto parts = write_parts(dir, {part(0, 2, 6), part(1, 2, 6)});
    ShardMerge merge(parts, MergeOptions{dir.file("dataset.jsonl"), false});
    const auto report = merge.check().value();
    REQUIRE_FALSE(report.problems.empty());
    CHECK_THAT(report.problems.back(), Catch::Contains("has only 4 lines"));
  }
  SECTION("a torn last line") {
    std::string torn = part(1, 2, 6);
    torn += result(7, "row-7").substr(0, 20);
    auto parts = write_parts(dir, {part(0, 2, 6), torn});
    ShardMerge merge(parts, MergeOptions{});
    const auto report = merge.check().value();
    REQUIRE(report.problems.size() == 1);
    CHECK_THAT(report.problems.front(), Catch::Contains("torn line") && Catch::Contains("--resume"));
  }
}

TEST_CASE("merge returns what it cannot read or write as errors, leaving nothing behind", "[output][merge]") {
  TempDir dir;
  auto parts = write_parts(dir, {part(0, 2, 6), part(1, 2, 6)});
  SECTION("a part that does not exist") {
    parts.push_back(dir.file("part-9.jsonl"));
    ShardMerge merge(parts, MergeOptions{});
    auto report = merge.check();
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().kind == llmeval::ErrorKind::kIo);
    CHECK(report.error().message == "cannot read " + dir.file("part-9.jsonl") + ": No such file or directory");
  }
  SECTION("a dataset that does not exist") {
    ShardMerge merge(parts, MergeOptions{dir.file("nope.jsonl"), false});
    auto report = merge.check();
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().message == "cannot open " + dir.file("nope.jsonl") + ": No such file or directory");
  }
  SECTION("an output that cannot be created") {
    ShardMerge merge(parts, MergeOptions{});
    REQUIRE(merge.check().value().problems.empty());
    Summary summary;
    auto written = merge.write(dir.file("no/merged.jsonl"), summary);
    REQUIRE_FALSE(written.ok());
    CHECK(written.error().kind == llmeval::ErrorKind::kBadRequest);
    CHECK(written.error().message == "cannot open " + dir.file("no/merged.jsonl") + ".tmp: No such file or directory");
  }
  SECTION("a part that changed after the check") {
    ShardMerge merge(parts, MergeOptions{});
    REQUIRE(merge.check().value().problems.empty());
    write_file(parts[1], "");
    Summary summary;
    auto written = merge.write(dir.file("merged.jsonl"), summary);
    REQUIRE_FALSE(written.ok());
    CHECK(written.error().kind == llmeval::ErrorKind::kParse);
    CHECK_THAT(written.error().message, Catch::Contains("did it change during the merge?"));
    CHECK_FALSE(std::filesystem::exists(dir.file("merged.jsonl")));
    CHECK_FALSE(std::filesystem::exists(dir.file("merged.jsonl.tmp")));
  }
}

TEST_CASE("merge names the part, the line and the field of a row with a wrong type", "[output][merge]") {
  TempDir dir;
  std::string bad = result(4, "row-4");
  bad.replace(bad.find("\"status\":\"ok\""), 13, "\"status\":5");
  auto parts = write_parts(dir, {part(0, 2, 4), result(2, "row-2") + bad});
  ShardMerge merge(parts, MergeOptions{});
  const auto report = merge.check().value();
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems.front() ==
        parts[1] + R"(:2: not a result row: field "status" must be "ok", "error" or "invalid", got 5)");
}
