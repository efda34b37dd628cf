// The subprocess helpers the integration tests are built on.
#include "tests/support/process.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>

#include "tests/support/files.h"

using namespace std::chrono_literals;
using llmeval::testing::BackgroundProcess;
using llmeval::testing::run_process;

TEST_CASE("run_process captures output, stdin, environment and exit codes", "[fakes]") {
  auto echo = run_process({"sh", "-c", "cat; echo \"$GREETING\" >&2; exit 3"}, "from stdin\n", {{"GREETING", "hi"}});
  CHECK(echo.exit_code == 3);
  CHECK(echo.out == "from stdin\n");
  CHECK(echo.err == "hi\n");
  CHECK_FALSE(echo.timed_out);

  auto big = run_process({"sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"});
  CHECK(big.out.size() == 300000);
  CHECK(big.err.size() == 300000);

  auto signalled = run_process({"sh", "-c", "kill -TERM $$"});
  CHECK(signalled.exit_code == 128 + SIGTERM);

  auto ignores_stdin = run_process({"true"}, std::string(1 << 20, 'x'));  // EPIPE, not SIGPIPE
  CHECK(ignores_stdin.exit_code == 0);

  auto slow = run_process({"sleep", "30"}, "", {}, 1s);
  CHECK(slow.timed_out);
  CHECK(slow.exit_code == 128 + SIGKILL);

  CHECK_THROWS(run_process({"/nonexistent/binary"}));
}

TEST_CASE("BackgroundProcess reads lines until a prefix and stops the child", "[fakes]") {
  BackgroundProcess child({"sh", "-c", "echo noise; echo READY=1; exec sleep 30"});
  auto line = child.read_line_with_prefix("READY=", 5s);
  REQUIRE(line);
  CHECK(*line == "READY=1");
  CHECK(child.running());
  child.signal(SIGTERM);
  CHECK(child.wait() == 128 + SIGTERM);
  CHECK_FALSE(child.running());

  BackgroundProcess quiet({"sh", "-c", "echo nothing"});
  CHECK_FALSE(quiet.read_line_with_prefix("READY=", 5s));
}

TEST_CASE("TempDir holds files and cleans up", "[fakes]") {
  std::filesystem::path kept;
  {
    llmeval::testing::TempDir dir;
    kept = dir.path();
    llmeval::testing::write_file(dir.path() / "sub" / "a.jsonl", "one\ntwo\r\nthree");
    CHECK(llmeval::testing::read_lines(dir.file("sub/a.jsonl")) == std::vector<std::string>{"one", "two", "three"});
  }
  CHECK_FALSE(std::filesystem::exists(kept));
}
