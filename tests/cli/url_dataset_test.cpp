// Datasets at http(s) URLs (issue 6): `llmeval run URL` streams the body from the fake provider's
// file server (GET /files/NAME, --files DIR) while it judges, and a download cut short records
// the whole rows before the cut, says so, and exits 1; --resume finishes the file.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_lines;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

const std::map<std::string, std::string> kLoopback = {{"no_proxy", "127.0.0.1"}, {"NO_PROXY", "127.0.0.1"}};

std::string dataset(int rows) {
  std::string text;
  for (int i = 1; i <= rows; ++i) {
    text += json{{"id", "r" + std::to_string(i)}, {"output", "answer " + std::to_string(i)},
                 {"criteria", "The answer is correct."}}
                .dump() +
            "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("run reads a dataset from an http URL as it downloads", "[cli][url]") {
  TempDir dir;
  std::string text = dataset(30);
  write_file(dir.file("data.jsonl"), text);
  FakeProviderServer fake({"--files", dir.path().string(), "--latency-ms", "5"});
  std::vector<std::string> engine = {"-p", "openai:judge@" + fake.base_url_openai(), "-j", "8"};
  auto run = [&](const std::string& source, const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", source, "-o", dir.file(out), "-q"};
    argv.insert(argv.end(), engine.begin(), engine.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, "", kLoopback);
  };

  SECTION("the whole file, the same as from disk; the URL's query never reaches the logs") {
    auto from_url = run(fake.url("/files/data.jsonl?X-Amz-Signature=s3cr3t-signature"), "url.jsonl", {"-v"});
    INFO(from_url.err);
    CHECK(from_url.exit_code == 0);
    CHECK(from_url.err.find("s3cr3t-signature") == std::string::npos);
    REQUIRE(run(dir.file("data.jsonl"), "file.jsonl").exit_code == 0);
    // Verdicts by id: the same rows, judged the same.
    auto verdicts = [](const std::vector<std::string>& lines) {
      std::map<std::string, json> by_id;
      for (const auto& line : lines) {
        json row = json::parse(line);
        by_id[row.at("id").get<std::string>()] = row.at("criteria").at("default").at("score");
      }
      return by_id;
    };
    auto from_disk = verdicts(read_lines(dir.file("file.jsonl")));
    CHECK(from_disk.size() == 30);
    CHECK(verdicts(read_lines(dir.file("url.jsonl"))) == from_disk);
  }

  SECTION("a download cut mid-row records the whole rows before it, exits 1, and --resume finishes") {
    std::size_t cut = 0;
    for (int row = 0; row < 10; ++row) cut = text.find('\n', cut) + 1;
    cut += 15;  // in the middle of row 11
    auto partial = run(fake.url("/files/data.jsonl?cut=" + std::to_string(cut)), "cut.jsonl");
    CHECK(partial.exit_code == 1);
    CHECK_THAT(partial.err, Catch::Contains("download") && Catch::Contains("--resume"));
    auto recorded = read_lines(dir.file("cut.jsonl"));
    CHECK(recorded.size() == 10);
    for (const auto& line : recorded) CHECK(json::parse(line).at("status") == "ok");  // no half row
    auto resumed = run(fake.url("/files/data.jsonl"), "cut.jsonl", {"--resume"});
    CHECK(resumed.exit_code == 0);
    CHECK(read_lines(dir.file("cut.jsonl")).size() == 30);
  }

  SECTION("a URL that answers 404 is an error with the status") {
    auto missing = run(fake.url("/files/nope.jsonl"), "missing.jsonl");
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.err, Catch::Contains("404"));
  }
}
