// Integration tests for what `llmeval serve --log-format json` writes: every line, on stderr and
// on stdout (a log pipeline in Kubernetes reads both), is one JSON object in the log format
// ({"ts", "level", "component", "msg"}): the listening line, the error that stops it at start,
// and the warning when it runs out of file descriptors (which libevent used to print as plain
// text, thousands of times a second). The real binary on 127.0.0.1.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/raw_connection.h"
#include "tests/support/serve_process.h"

namespace {

using llmeval::testing::BackgroundProcess;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::RawConnection;
using llmeval::testing::read_file;
using llmeval::testing::run_process;
using llmeval::testing::ServeProcess;
using llmeval::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

std::string provider(const FakeProviderServer& fake) { return "openai:judge-model@" + fake.base_url_openai(); }

// A line of the JSON log format; fails the test (naming the line) when it is not one.
json log_line(const std::string& line) {
  INFO("line: " << line);
  json parsed = json::parse(line, nullptr, false);
  REQUIRE(parsed.is_object());
  for (const char* key : {"ts", "level", "component", "msg"}) {
    INFO(key);
    CHECK(parsed.contains(key));
    CHECK(parsed[key].is_string());
  }
  return parsed;
}

// Every non-empty line of `text`, each checked to be a JSON log line.
std::vector<json> log_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(log_line(line));
  }
  return lines;
}

bool has_message(const std::vector<json>& lines, const std::string& level, const std::string& part) {
  for (const json& line : lines) {
    if (line["level"] == level && line["msg"].get<std::string>().find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("serve --log-format json writes only JSON lines, the listening line included", "[serve][logs]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--log-format", "json", "-v"});

  // stdout: the line that says where it listens, as a log line with the URL on its own.
  const json listening = log_line(serve.listening_line());
  const std::string url = "http://127.0.0.1:" + std::to_string(serve.port());
  CHECK(listening["msg"] == "listening on " + url);
  CHECK(listening["url"] == url);
  CHECK(listening["level"] == "info");
  CHECK(listening["component"] == "server");

  // stderr, read once the server is ready and has answered a request and a refusal.
  for (int i = 0; i < 50 && serve.get("/readyz").status != 200; ++i) std::this_thread::sleep_for(100ms);
  REQUIRE(serve.get("/readyz").status == 200);
  CHECK(serve.post("/v1/evaluate", R"({"output": "Paris.", "criteria": "The answer is correct."})").status == 200);
  CHECK(serve.post("/v1/evaluate", "{bad json").status == 400);
  const std::vector<json> lines = log_lines(serve.log());
  CHECK(has_message(lines, "info", "serving on " + url));
  CHECK(lines.size() >= 2);
}

TEST_CASE("serve --log-format json reports the error that stops it as a JSON line, with exit 2", "[serve][logs]") {
  FakeProviderServer fake;
  // The fake provider has the port: serve cannot listen on it.
  auto result = run_process({llmeval::testing::llmeval_binary(), "serve", "-p", provider(fake), "--log-format", "json", "--listen",
                             "127.0.0.1:" + std::to_string(fake.port())},
                            "", {{"no_proxy", "127.0.0.1"}}, 15s);
  INFO("stdout: " << result.out << "\nstderr: " << result.err);
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  const std::vector<json> lines = log_lines(result.err);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["level"] == "error");
  CHECK(lines.back()["component"] == "cli");
  CHECK_THAT(lines.back()["msg"].get<std::string>(),
             Catch::StartsWith("cannot listen on 127.0.0.1:" + std::to_string(fake.port())));

  SECTION("text logs keep the plain line") {
    auto text = run_process({llmeval::testing::llmeval_binary(), "serve", "-p", provider(fake), "--listen",
                             "127.0.0.1:" + std::to_string(fake.port())},
                            "", {{"no_proxy", "127.0.0.1"}}, 15s);
    INFO("text stderr: " << text.err);
    CHECK(text.exit_code == 2);
    CHECK(text.err.find("llmeval: error: cannot listen on 127.0.0.1:" + std::to_string(fake.port())) !=
          std::string::npos);
  }
}

// Out of descriptors, accept() fails for every connection waiting: libevent printed
// "[warn] Error from accept() call: Too many open files" for each attempt, in a busy loop
// (about 40,000 lines a second). Now: one JSON warning, a pause, and one info line once
// connections can be accepted again.
TEST_CASE("serve out of file descriptors logs one JSON warning and recovers", "[serve][logs]") {
  TempDir dir;
  const std::string stderr_path = dir.file("serve.stderr");
  // prlimit (util-linux) starts serve with at most 48 descriptors, hard limit included.
  BackgroundProcess serve({"prlimit", "--nofile=48:48", "--", llmeval::testing::llmeval_binary(), "serve", "-p", "sim", "--threads", "1",
                           "--listen", "127.0.0.1:0", "--log-format", "json", "--grace", "1s"},
                          {}, stderr_path);
  auto line = serve.read_line_with_prefix("{", 15s);
  REQUIRE(line);
  const json listening = log_line(*line);
  const std::string url = listening.value("url", "");
  const int port = std::stoi(url.substr(url.rfind(':') + 1));

  {
    std::vector<std::unique_ptr<RawConnection>> connections;
    for (int i = 0; i < 80; ++i) connections.push_back(std::make_unique<RawConnection>(port));
    std::this_thread::sleep_for(1s);
  }  // all closed: the server's descriptors come free
  std::this_thread::sleep_for(500ms);

  // Accepting again: a request is answered.
  RawConnection probe(port);
  REQUIRE(probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto reply = probe.read_response(5s);
  CHECK(reply.data.rfind("HTTP/1.1 200", 0) == 0);

  serve.signal(SIGTERM);
  CHECK(serve.wait(10s) == 0);
  const std::string log = read_file(stderr_path);
  INFO("stderr (first 2000 bytes):\n" << log.substr(0, 2000));
  const std::vector<json> lines = log_lines(log);
  CHECK(lines.size() < 20);
  CHECK(has_message(lines, "warning", "cannot accept connections: Too many open files"));
  CHECK(has_message(lines, "info", "accepting connections again"));
}
