// Integration tests: `llmeval run` whose results file cannot be written any more (a full disk,
// the file-size limit) ends cleanly with its own message and exit 1, and what it already wrote
// stays whole lines that --resume continues from.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::read_lines;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

std::string dataset_of(int rows) {
  std::string text;
  for (int i = 1; i <= rows; ++i) {
    text += R"({"id": "row-)" + std::to_string(i) +
            R"(", "prompt": "What is 2 + 2?", "output": "4", "criteria": ["The answer is correct."]})" + "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("a results file that hits the file-size limit stops the run with whole lines", "[cli][record_failure]") {
  TempDir dir;
  std::string dataset = dir.file("dataset.jsonl");
  std::string results = dir.file("results.jsonl");
  write_file(dataset, dataset_of(200));

  // ulimit -f counts 512-byte blocks: 8 KiB holds a few dozen of the ~300-byte result lines.
  auto limited = run_process({"/bin/sh", "-c", "ulimit -f 16 && exec \"$0\" \"$@\"", llmeval::testing::llmeval_binary(), "run", dataset,
                              "-o", results, "-p", "sim", "-q", "-j", "4"});
  CHECK(limited.exit_code == 1);
  CHECK_THAT(limited.err, Catch::Contains("cannot write results to " + results) &&
                              Catch::Contains("File too large") && Catch::Contains("--resume"));
  CHECK_THAT(limited.err, !Catch::Contains("terminate") && !Catch::Contains("exception"));

  std::vector<std::string> lines = read_lines(results);
  CHECK(lines.size() > 5);
  CHECK(lines.size() < 200);
  for (const auto& line : lines) {
    INFO(line);
    CHECK(nlohmann::json::parse(line).at("status") == "ok");
  }

  auto resumed = run_process({llmeval::testing::llmeval_binary(), "run", dataset, "-o", results, "-p", "sim", "-q", "--resume"});
  CHECK(resumed.exit_code == 0);
  CHECK(read_lines(results).size() == 200);
}

TEST_CASE("a results file on a full device stops the run with its message", "[cli][record_failure]") {
  TempDir dir;
  std::string dataset = dir.file("dataset.jsonl");
  write_file(dataset, dataset_of(20));
  auto full = run_process({llmeval::testing::llmeval_binary(), "run", dataset, "-o", "/dev/full", "-p", "sim", "-q"});
  CHECK(full.exit_code == 1);
  CHECK_THAT(full.err, Catch::Contains("cannot write results to /dev/full: No space left on device"));
}
