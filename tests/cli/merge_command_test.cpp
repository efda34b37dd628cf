// `llmeval merge` on parts it cannot read as written: a row with a field of the wrong type is
// named by file, line and field (not by the JSON library's type_error), a part that cannot be
// read and an output that cannot be created are exit 2 as before, and nothing is written. The
// real binary; indexed_job_test.cpp covers merging a real sharded run.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::ProcessResult;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

std::string result_row(int line) {
  return json{{"id", "row-" + std::to_string(line)}, {"line", line}, {"status", "ok"}, {"pass", true}, {"score", 1.0},
              {"criteria", {{"correctness", {{"score", 5}, {"normalized", 1.0}, {"pass", true}, {"reason", "r"}}}}},
              {"metadata", json::object()}, {"error", nullptr}}
             .dump();
}

ProcessResult merge(const TempDir& dir, const std::vector<std::string>& parts) {
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "merge", "-o", dir.file("merged.jsonl"), "-q"};
  argv.insert(argv.end(), parts.begin(), parts.end());
  return run_process(argv);
}

}  // namespace

TEST_CASE("merge names the file, the line and the field of a row with a wrong type", "[cli][merge]") {
  TempDir dir;
  const std::string part0 = dir.file("part-0.jsonl"), part1 = dir.file("part-1.jsonl");
  write_file(part0, result_row(1) + "\n" + result_row(3) + "\n");
  SECTION("a criterion's score is null") {
    std::string bad = result_row(4);
    bad.replace(bad.find("\"score\":5"), 9, "\"score\":null");
    write_file(part1, result_row(2) + "\n" + bad + "\n");
    auto result = merge(dir, {part0, part1});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err == "llmeval: error: cannot merge:\n  - " + part1 +
                            R"(:2: not a result row: field "criteria.correctness.score" must be a number, got null)"
                            "\n");
  }
  SECTION("the status is a number") {
    write_file(part1, R"({"id":"row-2","line":2,"status":5,"criteria":{}})" "\n" + result_row(4) + "\n");
    auto result = merge(dir, {part0, part1});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(part1 + R"(:1: not a result row: field "status" must be "ok", "error" or "invalid", got 5)") !=
          std::string::npos);
    CHECK(result.err.find("json.exception") == std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("merged.jsonl")));
}

TEST_CASE("merge exits 2 for a part it cannot read or an output it cannot create", "[cli][merge]") {
  TempDir dir;
  const std::string part0 = dir.file("part-0.jsonl");
  write_file(part0, result_row(1) + "\n" + result_row(2) + "\n");
  SECTION("a missing part") {
    auto result = merge(dir, {part0, dir.file("part-9.jsonl")});
    CHECK(result.exit_code == 2);
    CHECK(result.err == "llmeval: error: cannot read " + dir.file("part-9.jsonl") + ": No such file or directory\n");
  }
  SECTION("an output in a directory that does not exist") {
    const std::string out = dir.file("no/such/dir/merged.jsonl");
    auto result = run_process({llmeval::testing::llmeval_binary(), "merge", "-o", out, "-q", part0});
    CHECK(result.exit_code == 2);
    CHECK(result.err == "llmeval: error: cannot open " + out + ".tmp: No such file or directory\n");
  }
  SECTION("the merge itself still works") {
    auto result = merge(dir, {part0});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(std::filesystem::exists(dir.file("merged.jsonl")));
  }
}
