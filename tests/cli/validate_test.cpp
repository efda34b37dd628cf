// Integration tests: the real `llmeval validate` binary over datasets on disk, stdin and a URL.
// It checks lines with the reader `run` uses and never calls a provider.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::ProcessResult;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

const std::string kBadLines = std::string(llmeval::testing::source_dir()) + "/tests/data/bad_lines.jsonl";

// The kind of each invalid line of tests/data/bad_lines.jsonl (tests/data/README.md).
const std::map<std::int64_t, std::string> kBadKinds = {
    {2, "invalid_json"},   {4, "blank_line"},        {5, "invalid_json"},      {6, "invalid_utf8"},
    {7, "missing_field"},  {8, "missing_field"},     {9, "invalid_field"},     {10, "invalid_field"},
    {11, "invalid_field"}, {12, "invalid_criteria"}, {13, "invalid_criteria"}, {14, "invalid_regex"},
    {15, "invalid_json"},  {16, "invalid_json"},     {17, "duplicate_id"}};

ProcessResult validate(std::vector<std::string> args, const std::string& stdin_data = "",
                       std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), {llmeval::testing::llmeval_binary(), "validate"});
  return run_process(args, stdin_data, std::move(env));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::string kCleanDataset =
    R"({"id": "a", "output": "Paris", "criteria": "The answer is correct."})"
    "\n"
    R"({"id": "b", "output": "4", "criteria": [{"name": "exact", "type": "equals", "value": "4"}, "Short."]})"
    "\n"
    R"({"output": "hi", "criteria": {"tone": "Friendly.", "length": "Brief."}})"
    "\n";

}  // namespace

TEST_CASE("llmeval validate accepts a clean dataset and counts the judge calls a run would make", "[validate]") {
  TempDir dir;
  std::string path = dir.file("clean.jsonl");
  write_file(path, kCleanDataset);
  auto r = validate({path});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find(path + ": 3 lines, 3 valid, 0 invalid; a run would make 4 "
                          "judge calls and 1 deterministic check") != std::string::npos);

  auto j = validate({path, "--json"});
  REQUIRE(j.exit_code == 0);
  json report = json::parse(j.out);
  CHECK(report["dataset"] == path);
  CHECK(report["lines"] == 3);
  CHECK(report["valid"] == 3);
  CHECK(report["invalid"] == 0);
  CHECK(report["judge_calls"] == 4);
  CHECK(report["problems"].empty());
  CHECK(report["by_kind"].empty());
}

TEST_CASE("llmeval validate reports every bad line with its line number and counts them by kind", "[validate]") {
  auto r = validate({kBadLines});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  for (const auto& [line, kind] : kBadKinds) {
    std::string prefix = kBadLines + ":" + std::to_string(line) + ": " + kind + ": ";
    INFO(prefix);
    CHECK(r.err.find(prefix) != std::string::npos);
    // The reader's "line N: " is not repeated after the location.
    CHECK(r.err.find(prefix + "line ") == std::string::npos);
  }
  CHECK(r.err.find(kBadLines + ": 18 lines, 3 valid, 15 invalid; a run would "
                               "make 2 judge calls and 1 deterministic "
                               "check") != std::string::npos);
  CHECK(r.err.find("invalid_json") != std::string::npos);
  CHECK(r.err.find("(lines 2, 5, 15, 16)") != std::string::npos);
  CHECK(r.err.find("(line 17)") != std::string::npos);

  SECTION("-q prints only the summary line") {
    auto quiet = validate({kBadLines, "-q"});
    CHECK(quiet.exit_code == 1);
    auto lines = lines_of(quiet.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("18 lines, 3 valid, 15 invalid") != std::string::npos);
  }
}

TEST_CASE("llmeval validate --json prints one report with problems and counts by kind", "[validate]") {
  auto r = validate({kBadLines, "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  json report = json::parse(r.out);
  CHECK(report["dataset"] == kBadLines);
  CHECK(report["lines"] == 18);
  CHECK(report["valid"] == 3);
  CHECK(report["invalid"] == 15);
  CHECK(report["judge_calls"] == 2);
  CHECK(report["problems_truncated"] == 0);
  REQUIRE(report["problems"].size() == kBadKinds.size());
  for (const auto& problem : report["problems"]) {
    std::int64_t line = problem["line"];
    INFO(problem.dump());
    CHECK(kBadKinds.at(line) == problem["kind"]);
    CHECK(problem.contains("id"));
    CHECK(problem["message"].get<std::string>().rfind("line ", 0) != 0);
  }
  CHECK(report["problems"][0]["id"] == 2);  // bad JSON: no id can be read, the line number stands in
  CHECK(report["problems"][4]["id"] == "no-output");
  CHECK(report["by_kind"]["invalid_json"]["count"] == 4);
  CHECK(report["by_kind"]["invalid_json"]["first_lines"] == json({2, 5, 15, 16}));
  CHECK(report["by_kind"]["missing_field"]["count"] == 2);
  CHECK(report["by_kind"]["duplicate_id"]["first_lines"] == json({17}));

  SECTION("--max-problems caps the problems listed, not the counts") {
    auto capped = validate({kBadLines, "--json", "--max-problems", "2"});
    json small = json::parse(capped.out);
    CHECK(small["problems"].size() == 2);
    CHECK(small["problems_truncated"] == 13);
    CHECK(small["invalid"] == 15);
    CHECK(small["by_kind"]["invalid_json"]["count"] == 4);
  }
}

TEST_CASE("llmeval validate reads a dataset from stdin", "[validate]") {
  auto clean = validate({"-"}, kCleanDataset);
  CHECK(clean.exit_code == 0);
  CHECK(clean.err.find("<stdin>: 3 lines, 3 valid, 0 invalid") != std::string::npos);

  auto bad = validate({"-", "--json"}, kCleanDataset + "{not json}\n");
  CHECK(bad.exit_code == 1);
  json report = json::parse(bad.out);
  CHECK(report["lines"] == 4);
  CHECK(report["problems"][0]["line"] == 4);
  CHECK(report["problems"][0]["kind"] == "invalid_json");
}

TEST_CASE("llmeval validate applies --max-line-bytes as run does", "[validate]") {
  TempDir dir;
  std::string path = dir.file("long.jsonl");
  write_file(path, kCleanDataset + R"({"output": ")" + std::string(200, 'x') +
                       R"(", "criteria": "Ok."})"
                       "\n");
  auto r = validate({path, "--max-line-bytes", "100"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(path + ":4: line_too_long: ") != std::string::npos);
}

TEST_CASE("llmeval validate takes default criteria from the config file", "[validate]") {
  TempDir dir;
  std::string path = dir.file("no-criteria.jsonl");
  write_file(path, R"({"output": "hello"})"
                   "\n"
                   R"({"output": "bye", "criteria": "Polite."})"
                   "\n");
  std::string config = dir.file("config.json");
  write_file(config, R"({"criteria": {"helpful": "The answer helps.", "brief": "The answer is short."}})");

  auto without = validate({path});
  CHECK(without.exit_code == 1);
  CHECK(without.err.find(path + ":1: missing_field: ") != std::string::npos);

  auto with_flag = validate({path, "-c", config, "--json"});
  INFO(with_flag.err);
  CHECK(with_flag.exit_code == 0);
  CHECK(json::parse(with_flag.out)["judge_calls"] == 3);

  auto with_env = validate({path}, "", {{"LLMEVAL_CONFIG", config}});
  CHECK(with_env.exit_code == 0);
}

TEST_CASE("llmeval validate exits 2 for a missing dataset or a bad config", "[validate]") {
  TempDir dir;
  auto missing = validate({dir.file("nope.jsonl")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("cannot read dataset") != std::string::npos);

  std::string path = dir.file("clean.jsonl");
  write_file(path, kCleanDataset);
  std::string config = dir.file("config.json");
  write_file(config, R"({"criteria": "not an object"})");
  CHECK(validate({path, "-c", config}).exit_code == 2);
  CHECK(validate({path, "-c", dir.file("no-config.json")}).exit_code == 2);
  CHECK(validate({}).exit_code == 2);
}

TEST_CASE("llmeval validate accepts every dataset in datasets/", "[validate]") {
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(llmeval::testing::source_dir()) + "/datasets")) {
    if (entry.path().extension() != ".jsonl") continue;
    auto r = validate({entry.path().string()});
    INFO(entry.path() << ": " << r.err);
    CHECK(r.exit_code == 0);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("llmeval validate reads a dataset from an http URL as it downloads", "[validate]") {
  TempDir dir;
  write_file(dir.file("data.jsonl"), kCleanDataset + "\n");
  FakeProviderServer fake({"--files", dir.path().string()});
  std::map<std::string, std::string> loopback = {{"no_proxy", "127.0.0.1,localhost"},
                                                 {"NO_PROXY", "127.0.0.1,localhost"}};

  auto r = validate({fake.url("/files/data.jsonl?X-Amz-Signature=s3cr3t"), "--json"}, "", loopback);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  json report = json::parse(r.out);
  CHECK(report["lines"] == 4);
  CHECK(report["valid"] == 3);
  CHECK(report["by_kind"]["blank_line"]["first_lines"] == json({4}));
  CHECK(r.out.find("s3cr3t") == std::string::npos);

  auto missing = validate({fake.url("/files/nope.jsonl")}, "", loopback);
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("404"));
}

TEST_CASE("llmeval validate counts labelled rows, and a label outside the scale is an invalid row", "[validate]") {
  TempDir dir;
  std::string path = dir.file("labelled.jsonl");
  write_file(
      path,
      R"({"id": 1, "output": "a", "criteria": {"tone": "Friendly."}, "labels": {"tone": 4}})"
      "\n"
      R"({"id": 2, "output": "b", "criteria": [{"name": "ok", "rubric": "OK.", "scale": "binary"}, "Short."], "labels": {"ok": false, "c2": 2}})"
      "\n"
      R"({"id": 3, "output": "c", "criteria": {"tone": "Friendly."}})"
      "\n"
      R"({"id": 4, "output": "d", "criteria": {"tone": "Friendly."}, "labels": {"tone": 7}})"
      "\n"
      R"({"id": 5, "output_a": "x", "output_b": "y", "criteria": [{"name": "better", "type": "pairwise", "rubric": "Better."}]})"
      "\n");
  auto r = validate({path, "--json"});
  json report = json::parse(r.out);
  CHECK(report["valid"] == 4);
  CHECK(report["labelled_rows"] == 2);
  CHECK(report["labels"] == 3);
  CHECK(report["judge_calls"] == 6);  // 1 + 2 + 1, and the pairwise criterion's two orders
  REQUIRE(report["problems"].size() == 1);
  CHECK(report["problems"][0]["line"] == 4);
  CHECK(report["problems"][0]["kind"] == "invalid_field");
  CHECK(report["problems"][0]["message"] ==
        "field \"labels\": \"tone\" is 7, outside its scale; give a whole number from 1 to 5");
  auto text = validate({path});
  CHECK(text.err.find("2 rows carry human labels (3 labels)") != std::string::npos);
}
