// The progress display of `llmeval run` (issue 7): a status line redrawn in place on a terminal
// (the test gives the binary a pseudo-terminal with util-linux's `script`), a plain progress line
// every --progress-every elsewhere, nothing with -q.
#include <catch2/catch.hpp>

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

// 40 rows (one invalid) at 100 ms a call and 4 in flight: about a second of work.
std::string dataset() {
  std::string text;
  for (int i = 0; i < 39; ++i) {
    text += nlohmann::json{{"output", "answer " + std::to_string(i)}, {"criteria", "Correct."}}.dump() + "\n";
  }
  return text + "{broken\n";
}

std::string shell_quote(const std::string& text) { return "'" + text + "'"; }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("run shows progress in place on a terminal, and plain lines elsewhere", "[cli][progress]") {
  FakeProviderServer fake({"--latency-ms", "100"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset());
  std::string command = std::string("no_proxy=127.0.0.1 ") + llmeval::testing::llmeval_binary() + " run " + shell_quote(dir.file("data.jsonl")) +
                        " -o " + shell_quote(dir.file("out.jsonl")) + " -p openai:judge@" + fake.base_url_openai() +
                        " -j 4";

  SECTION("a terminal: one line redrawn, errors in red, cleared before the summary") {
    auto result = run_process({"script", "-qfec", command, "/dev/null"});
    REQUIRE(result.exit_code == 1);  // the broken line is an invalid row
    const std::string& screen = result.out;  // script copies the terminal to its stdout
    CHECK(count(screen, "\r\x1b[2Krows ") >= 2);
    CHECK_THAT(screen, Catch::Contains("/40 (") && Catch::Contains("rows/s"));
    CHECK_THAT(screen, Catch::Contains("\x1b[31m1\x1b[0m"));  // one error row, in red
    CHECK_THAT(screen, Catch::Contains("\r\x1b[2Kllmeval summary"));
  }
  SECTION("NO_COLOR: no colours") {
    auto result = run_process({"script", "-qfec", "NO_COLOR=1 " + command, "/dev/null"});
    CHECK(count(result.out, "\r\x1b[2Krows ") >= 2);
    CHECK(result.out.find("\x1b[31m") == std::string::npos);
  }
  SECTION("--no-progress on a terminal, and a pipe: a plain line every --progress-every") {
    auto on_terminal = run_process({"script", "-qfec", command + " --no-progress --progress-every 200ms", "/dev/null"});
    CHECK(on_terminal.out.find("\x1b[2K") == std::string::npos);
    CHECK(count(on_terminal.out, "[progress] rows ") >= 2);
    auto piped = run_process({"sh", "-c", command + " --progress-every 200ms"});
    CHECK(count(piped.err, "[progress] rows ") >= 2);
    CHECK(piped.err.find("\x1b[") == std::string::npos);
  }
  SECTION("-q: no progress at all") {
    auto quiet = run_process({"sh", "-c", command + " -q --progress-every 200ms"});
    CHECK(quiet.err.find("progress") == std::string::npos);
  }
}

TEST_CASE("run - on a terminal says it is waiting for rows", "[cli][progress]") {
  TempDir dir;
  std::string command = std::string(llmeval::testing::llmeval_binary()) + " run - -p sim -o " + shell_quote(dir.file("out.jsonl"));
  // script gives llmeval a terminal on stdin; what the test writes is typed there, and ^D ends it.
  std::string typed = R"({"output": "Paris", "criteria": "Correct."})" "\n\x04";
  auto on_terminal = run_process({"script", "-qfec", command, "/dev/null"}, typed);
  CHECK_THAT(on_terminal.out, Catch::Contains("waiting for JSONL rows on stdin (a terminal)"));
  CHECK(on_terminal.exit_code == 0);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 1);

  auto piped = run_process({llmeval::testing::llmeval_binary(), "run", "-", "-p", "sim", "-o", dir.file("piped.jsonl")},
                           R"({"output": "Paris", "criteria": "Correct."})" "\n");
  CHECK(piped.exit_code == 0);
  CHECK(piped.err.find("waiting for JSONL rows") == std::string::npos);
}
