// ResumeIndex::load: what a results file already holds, and why a file cannot be resumed, as
// values: an Error naming the line (and the field of a row with a wrong type), never an
// exception that ends the process.
#include "core/output/resume_index.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "tests/support/files.h"

namespace {

using namespace llmeval;

std::string row(int line, const std::string& status = "\"ok\"") {
  return R"({"id":"row-)" + std::to_string(line) + R"(","line":)" + std::to_string(line) + R"(,"status":)" + status +
         R"(,"criteria":{},"metadata":{},"error":null})" "\n";
}

Result<output::ResumeIndex> load(const std::string& path, bool retry_errors = false) {
  return output::ResumeIndex::load(path, retry_errors, [](const output::ResultRecord&) {});
}

}  // namespace

TEST_CASE("ResumeIndex::load reads what a results file holds", "[output][resume]") {
  testing::TempDir dir;
  SECTION("a missing file is a fresh start") {
    auto index = load(dir.file("none.jsonl"));
    REQUIRE(index.ok());
    CHECK(index.value().size() == 0);
  }
  SECTION("rows and a torn last line") {
    testing::write_file(dir.file("out.jsonl"), row(2) + row(1) + R"({"id":"row-3","li)");
    auto index = load(dir.file("out.jsonl"));
    REQUIRE(index.ok());
    CHECK(index.value().size() == 2);
    CHECK(index.value().torn_line_dropped());
    CHECK(testing::read_file(dir.file("out.jsonl")) == row(2) + row(1));
  }
}

TEST_CASE("ResumeIndex::load refuses a file it cannot resume with an error naming the line", "[output][resume]") {
  testing::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  const std::string advice = "; write to a new --output, or delete this file to start over";
  SECTION("a line that is not a result row") {
    testing::write_file(path, row(1) + "hello\n" + row(3));
    auto index = load(path);
    REQUIRE_FALSE(index.ok());
    CHECK(index.error().kind == ErrorKind::kParse);
    CHECK(index.error().message ==
          "cannot --resume from " + path + ": line 2 is not a result row: not valid JSON" + advice);
  }
  SECTION("a row with a field of the wrong type") {
    testing::write_file(path, row(1) + row(2, "5"));
    auto index = load(path);
    REQUIRE_FALSE(index.ok());
    CHECK(index.error().message == "cannot --resume from " + path +
                                       R"(: line 2 is not a result row: field "status" must be "ok", "error" or )"
                                       R"("invalid", got 5)" + advice);
  }
  SECTION("two rows for one line") {
    testing::write_file(path, row(1) + row(2) + row(1));
    auto index = load(path);
    REQUIRE_FALSE(index.ok());
    CHECK(index.error().message ==
          "cannot --resume from " + path + ": it holds two results for dataset line 1" + advice);
  }
  SECTION("--retry-errors leaves the file as it was when it refuses") {
    testing::write_file(path, row(1, "\"error\"") + "hello\n");
    REQUIRE_FALSE(load(path, true).ok());
    CHECK(testing::read_file(path) == row(1, "\"error\"") + "hello\n");
    CHECK_FALSE(std::ifstream(path + ".resume-tmp").good());
  }
}
