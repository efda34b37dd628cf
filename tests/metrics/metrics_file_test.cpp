#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/metrics/metrics_file.h"
#include "tests/support/files.h"

using llmeval::metrics::write_metrics_file;
using llmeval::testing::read_file;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

namespace {

std::vector<std::string> entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  return names;
}

// The error's message, or "" when the write succeeded.
std::string failure_of(const llmeval::Result<llmeval::Ok>& written) {
  return written ? std::string() : written.error().message;
}

}  // namespace

TEST_CASE("write_metrics_file writes the text and leaves no temporary file", "[metrics]") {
  TempDir dir;
  std::string path = dir.file("llmeval.prom");
  REQUIRE(write_metrics_file(path, "# TYPE x counter\nx 1\n"));
  CHECK(read_file(path) == "# TYPE x counter\nx 1\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"llmeval.prom"});

  SECTION("an empty text makes an empty file") {
    REQUIRE(write_metrics_file(path, ""));
    CHECK(read_file(path).empty());
  }
}

TEST_CASE("write_metrics_file replaces the old file by rename, never rewriting it in place", "[metrics]") {
  TempDir dir;
  std::string path = dir.file("llmeval.prom");
  write_file(path, "x 1\n");
  // A reader that opened the old file (a collector mid-scrape) keeps reading the old contents
  // whole; an in-place truncate and rewrite would hand it the new text or a torn mix.
  std::ifstream reader(path, std::ios::binary);
  REQUIRE(reader);

  std::string bigger(64 * 1024, 'y');
  REQUIRE(write_metrics_file(path, bigger));

  std::string seen((std::istreambuf_iterator<char>(reader)), std::istreambuf_iterator<char>());
  CHECK(seen == "x 1\n");
  CHECK(read_file(path) == bigger);
  CHECK(entries(dir.path()) == std::vector<std::string>{"llmeval.prom"});
}

TEST_CASE("write_metrics_file fails clearly when it cannot write", "[metrics]") {
  TempDir dir;
  SECTION("the directory does not exist") {
    std::string path = dir.file("missing/llmeval.prom");
    CHECK_THAT(failure_of(write_metrics_file(path, "x 1\n")),
               Catch::StartsWith("cannot write metrics file '" + path + "'") &&
                   Catch::Contains("No such file or directory"));
    CHECK_FALSE(std::filesystem::exists(path));
  }
  SECTION("the path is an existing directory: the temporary file is cleaned up") {
    std::filesystem::create_directory(dir.path() / "taken.prom");
    CHECK_THAT(failure_of(write_metrics_file(dir.file("taken.prom"), "x 1\n")),
               Catch::Contains("cannot rename") && Catch::Contains("Is a directory"));
    CHECK(entries(dir.path()) == std::vector<std::string>{"taken.prom"});
  }
  SECTION("the path ends in a slash") {
    CHECK_THAT(failure_of(write_metrics_file(dir.path().string() + "/", "x 1\n")),
               Catch::Contains("names a directory"));
  }
}
