// Crash safety, --resume and signals, against the real binary and the deterministic fake
// provider: however a run is cut short, resuming it ends with exactly the file an uninterrupted
// run writes (one line per input line, the same verdicts).
#include <catch2/catch.hpp>

#include <csignal>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::BackgroundProcess;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_file;
using llmeval::testing::read_lines;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

const std::map<std::string, std::string> kLoopback{{"no_proxy", "127.0.0.1"}, {"NO_PROXY", "127.0.0.1"}};

std::string dataset(int rows, const std::string& extra = "") {
  std::string out;
  for (int i = 1; i <= rows; ++i) {
    out += json{{"id", "row-" + std::to_string(i)},
                {"prompt", "What is the capital of France?"},
                {"output", "Paris, answer " + std::to_string(i) + (i == 7 ? extra : "")},
                {"criteria", "Correct."}}
               .dump() +
           "\n";
  }
  return out;
}

std::vector<std::string> llmeval_args(const FakeProviderServer& fake, const std::string& data, const std::string& out,
                                      std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", data, "-o", out, "-q", "-j", "8",
                                   "-p", "openai:judge@" + fake.base_url_openai()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// line -> (status, score) of a results file; fails the test on a line number seen twice.
std::map<std::int64_t, std::string> verdicts(const std::string& path) {
  std::map<std::int64_t, std::string> out;
  for (const auto& text : read_lines(path)) {
    json row = json::parse(text);
    auto line = row.at("line").get<std::int64_t>();
    INFO("line " << line << " recorded twice");
    REQUIRE(out.count(line) == 0);
    out[line] = row.at("status").get<std::string>() + " " + row.at("score").dump();
  }
  return out;
}

bool ends_with_newline_or_empty(const std::string& path) {
  std::string text = read_file(path);
  return text.empty() || text.back() == '\n';
}

}  // namespace

TEST_CASE("SIGKILL at random moments, then --resume each time: the same file as an uninterrupted run",
          "[integration][resume]") {
  FakeProviderServer fake({"--latency-ms", "20", "--jitter-ms", "30"});
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(300));
  std::string baseline = dir.file("baseline.jsonl");
  REQUIRE(run_process(llmeval_args(fake, data, baseline), "", kLoopback).exit_code == 0);
  auto expected = verdicts(baseline);
  REQUIRE(expected.size() == 300);

  std::string out = dir.file("out.jsonl");
  std::mt19937 random(20261124);  // seeded: the same kill moments every time
  std::uniform_int_distribution<int> delay_ms(30, 400);
  int kills = 0;
  for (int attempt = 0; attempt < 20 && kills < 6; ++attempt) {
    BackgroundProcess run(llmeval_args(fake, data, out, {"--resume"}), kLoopback);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    if (!run.running()) break;
    run.signal(SIGKILL);
    if (run.wait() != 128 + SIGKILL) break;  // it had just finished
    ++kills;
    // Whatever was recorded so far: every line at most once. A kill before the run opened its
    // output (a slow start, under the sanitizers) leaves no file, which is no row recorded.
    if (std::filesystem::exists(out)) verdicts(out);
  }
  CHECK(kills >= 5);
  auto finish = run_process(llmeval_args(fake, data, out, {"--resume"}), "", kLoopback);
  CHECK(finish.exit_code == 0);
  CHECK(verdicts(out) == expected);
  CHECK(read_lines(out).size() == 300);
  CHECK(ends_with_newline_or_empty(out));
}

TEST_CASE("SIGTERM: requests in flight finish, exit 130, and --resume completes the file", "[integration][resume]") {
  FakeProviderServer fake({"--latency-ms", "300"});
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(60));
  std::string out = dir.file("out.jsonl");
  BackgroundProcess run(llmeval_args(fake, data, out), kLoopback);
  std::this_thread::sleep_for(800ms);  // two rounds of 8 done, the third in flight
  auto signalled = std::chrono::steady_clock::now();
  run.signal(SIGTERM);
  CHECK(run.wait() == 130);
  CHECK(std::chrono::steady_clock::now() - signalled < 2s);  // the grace was used, not waited out
  auto partial = verdicts(out);
  CHECK(partial.size() >= 8);
  CHECK(partial.size() < 60);
  // The in-flight round finished and was recorded whole. A provider's first call goes out alone
  // (until one has succeeded, so that a refused parameter costs one call), then rounds of 8.
  CHECK((partial.size() - 1) % 8 == 0);
  CHECK(ends_with_newline_or_empty(out));

  auto finish = run_process(llmeval_args(fake, data, out, {"--resume"}), "", kLoopback);
  CHECK(finish.exit_code == 0);
  auto all = verdicts(out);
  CHECK(all.size() == 60);
  for (const auto& [line, verdict] : partial) CHECK(all[line] == verdict);
}

TEST_CASE("A second SIGTERM exits at once, leaving only whole lines", "[integration][resume]") {
  FakeProviderServer fake({"--latency-ms", "5000"});
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(20));
  std::string out = dir.file("out.jsonl");
  BackgroundProcess run(llmeval_args(fake, data, out, {"--grace", "30s"}), kLoopback);
  REQUIRE(fake.wait_for_in_flight(1, 10s));  // running, with calls out (however slow the start)
  auto signalled = std::chrono::steady_clock::now();
  run.signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  run.signal(SIGTERM);
  CHECK(run.wait() == 130);
  CHECK(std::chrono::steady_clock::now() - signalled < 2s);
  CHECK(ends_with_newline_or_empty(out));
}

TEST_CASE("A second SIGINT with --format csv|junit leaves no temporary rows file behind", "[integration][resume]") {
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(20));
  for (std::string format : {"csv", "junit"}) {
    INFO(format);
    FakeProviderServer fake({"--latency-ms", "5000"});  // its own: no calls still out from the last run
    std::string out = dir.file("out." + format);
    BackgroundProcess run(llmeval_args(fake, data, out, {"--format", format, "--grace", "30s"}), kLoopback);
    // The temporary rows file exists while the run is going.
    auto leftovers = [&] {
      int found = 0;
      for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        if (entry.path().filename().string().rfind("out." + format + ".rows-", 0) == 0) ++found;
      }
      return found;
    };
    REQUIRE(fake.wait_for_in_flight(1, 10s));  // running, with calls out (however slow the start)
    CHECK(leftovers() == 1);
    run.signal(SIGINT);
    std::this_thread::sleep_for(200ms);
    run.signal(SIGINT);
    CHECK(run.wait() == 130);
    CHECK(leftovers() == 0);
  }
}

TEST_CASE("llmeval run --resume repairs a torn last line, and starts fresh on a missing or empty file", "[integration][resume]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(10));
  std::string baseline = dir.file("baseline.jsonl");
  REQUIRE(run_process(llmeval_args(fake, data, baseline), "", kLoopback).exit_code == 0);
  auto lines = read_lines(baseline);

  SECTION("torn last line") {
    std::string out = dir.file("out.jsonl");
    write_file(out, lines[0] + "\n" + lines[1] + "\n" + lines[2].substr(0, lines[2].size() / 2));
    auto result = run_process(llmeval_args(fake, data, out, {"--resume"}), "", kLoopback);
    CHECK(result.exit_code == 0);
    CHECK(verdicts(out) == verdicts(baseline));
    CHECK(fake.stats().value("requests", 0) == 10 + 8);  // baseline 10, then the 8 not recorded whole
  }
  SECTION("missing file") {
    std::string out = dir.file("missing.jsonl");
    CHECK(run_process(llmeval_args(fake, data, out, {"--resume"}), "", kLoopback).exit_code == 0);
    CHECK(verdicts(out) == verdicts(baseline));
  }
  SECTION("empty file") {
    std::string out = dir.file("empty.jsonl");
    write_file(out, "");
    CHECK(run_process(llmeval_args(fake, data, out, {"--resume"}), "", kLoopback).exit_code == 0);
    CHECK(verdicts(out) == verdicts(baseline));
  }
}

TEST_CASE("llmeval run --resume refuses a results file from another dataset, and leaves it alone", "[integration][resume]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(10));
  std::string out = dir.file("out.jsonl");
  REQUIRE(run_process(llmeval_args(fake, data, out), "", kLoopback).exit_code == 0);
  std::string before = read_file(out);
  std::string other = dir.file("other.jsonl");
  write_file(other, R"({"id": "something-else", "output": "x", "criteria": "c"})" "\n");

  auto result = run_process(llmeval_args(fake, other, out, {"--resume"}), "", kLoopback);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("different dataset") != std::string::npos);
  CHECK(result.err.find("line 1") != std::string::npos);
  CHECK(read_file(out) == before);

  SECTION("a results file that is not one") {
    std::string junk = dir.file("junk.jsonl");
    write_file(junk, "hello\n{\"line\": 1}\n");
    auto refused = run_process(llmeval_args(fake, data, junk, {"--resume"}), "", kLoopback);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("line 1 is not a result row") != std::string::npos);
  }
}

TEST_CASE("llmeval run --resume --retry-errors runs the error rows again and keeps one line per row", "[integration][resume]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  // Row 7 fails on its first two requests: with --retries 0 the first run records it as error.
  write_file(data, dataset(10, " [[fake:fail_first=2]]"));
  std::string out = dir.file("out.jsonl");
  auto first = run_process(llmeval_args(fake, data, out, {"--retries", "0", "-p", "openai:judge@" + fake.base_url_openai()}),
                           "", kLoopback);
  CHECK(first.exit_code == 1);
  REQUIRE(verdicts(out).at(7).rfind("error", 0) == 0);

  auto resumed = run_process(llmeval_args(fake, data, out, {"--resume", "--retry-errors", "--retries", "1"}), "", kLoopback);
  CHECK(resumed.exit_code == 0);
  auto all = verdicts(out);
  CHECK(all.size() == 10);
  CHECK(all.at(7).rfind("ok", 0) == 0);
  CHECK(run_process(llmeval_args(fake, data, out, {"--retry-errors"}), "", kLoopback).exit_code == 2);
}

// A results row with a field of the wrong type is named by its line and field, instead of the
// JSON library's "[json.exception.type_error.302] type must be number, but is null", and the
// file is left as it was.
TEST_CASE("llmeval run --resume names the line and the field of a results row with a wrong type", "[integration][resume]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string data = dir.file("data.jsonl");
  write_file(data, dataset(5));
  std::string out = dir.file("out.jsonl");
  REQUIRE(run_process(llmeval_args(fake, data, out, {"--limit", "3"}), "", kLoopback).exit_code == 0);
  std::vector<std::string> lines = read_lines(out);
  REQUIRE(lines.size() == 3);
  struct Case {
    const char* name;
    std::function<void(json&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"a null score", [](json& row) { row["criteria"].begin().value()["score"] = nullptr; },
       R"(line 2 is not a result row: field "criteria.default.score" must be a number, got null)"},
      {"a numeric status", [](json& row) { row["status"] = 5; },
       R"(line 2 is not a result row: field "status" must be "ok", "error" or "invalid", got 5)"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    json row = json::parse(lines[1]);
    c.spoil(row);
    const std::string spoiled = lines[0] + "\n" + row.dump() + "\n" + lines[2] + "\n";
    write_file(out, spoiled);
    auto refused = run_process(llmeval_args(fake, data, out, {"--resume"}), "", kLoopback);
    INFO(refused.err);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("llmeval: error: cannot --resume from " + out + ": " + c.message +
                           "; write to a new --output, or delete this file to start over") != std::string::npos);
    CHECK(refused.err.find("json.exception") == std::string::npos);
    CHECK(read_file(out) == spoiled);
  }
}
