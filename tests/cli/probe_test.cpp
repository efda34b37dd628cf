// Integration tests: the real `llmeval probe` binary against the real fake provider server on
// 127.0.0.1 (tests/fakes/fake_provider_server.cpp): one judge call per provider and a table (or
// --json) of what each showed; exit 0 only when every provider can judge.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::ProcessResult;
using llmeval::testing::run_process;
using nlohmann::json;

// The fake provider is on loopback: keep a proxy from the environment out of the way.
ProcessResult probe(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  env.emplace("no_proxy", "127.0.0.1,localhost");
  env.emplace("NO_PROXY", "127.0.0.1,localhost");
  env.emplace("LLMEVAL_CONFIG", "");
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "probe"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, "", std::move(env), std::chrono::seconds(60));
}

std::string openai(const FakeProviderServer& fake, const std::string& model = "gpt-4o-mini") {
  return "openai:" + model + "@" + fake.base_url_openai();
}

// The table row of one provider (the line starting with its name), split on runs of 2+ spaces.
std::vector<std::string> row_of(const std::string& out, const std::string& name) {
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t end = out.find('\n', at);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(at, end - at);
    if (line.rfind(name + "  ", 0) == 0) {
      std::vector<std::string> cells;
      std::size_t i = 0;
      while (i < line.size()) {
        std::size_t gap = line.find("  ", i);
        if (gap == std::string::npos) gap = line.size();
        cells.push_back(line.substr(i, gap - i));
        i = line.find_first_not_of(' ', gap);
        if (i == std::string::npos) break;
      }
      return cells;
    }
    at = end + 1;
  }
  return {};
}

// Columns: PROVIDER MODEL REACHABLE KEY CAN-JUDGE JSON-MODE LATENCY ADAPTED RATE-LIMITS.
constexpr std::size_t kReachable = 2, kKey = 3, kCanJudge = 4, kAdapted = 7;

}  // namespace

TEST_CASE("probe: a healthy provider can judge, exit 0", "[probe][cli]") {
  FakeProviderServer fake;
  ProcessResult result = probe({"-p", openai(fake)});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("PROVIDER") != std::string::npos);
  auto row = row_of(result.out, "openai");
  REQUIRE(row.size() == 9);
  CHECK(row[1] == "gpt-4o-mini");
  CHECK(row[kReachable] == "yes");
  CHECK(row[kKey] == "ok");
  CHECK(row[kCanJudge] == "yes");
  CHECK(row[kAdapted] == "none");
  CHECK(fake.stats().at("requests") == 1);  // one tiny call, nothing more
}

TEST_CASE("probe: a wrong API key is reported as not accepted, exit 1", "[probe][cli]") {
  FakeProviderServer fake({"--api-key", "right"});
  ProcessResult result = probe({"-p", openai(fake)}, {{"OPENAI_API_KEY", "wrong"}});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  auto row = row_of(result.out, "openai");
  REQUIRE(row.size() == 9);
  CHECK(row[kReachable] == "yes");
  CHECK(row[kKey] == "rejected");
  CHECK(row[kCanJudge] == "no");
  CHECK(result.out.find("\nopenai: ") != std::string::npos);  // its error message
  CHECK(result.out.find("wrong") == std::string::npos);        // never the key
  CHECK(result.err.find("wrong") == std::string::npos);
}

TEST_CASE("probe: a closed port is not reachable, exit 1", "[probe][cli]") {
  std::string url;
  {
    FakeProviderServer fake;
    url = openai(fake);
    fake.stop();
  }
  ProcessResult result = probe({"-p", url, "--timeout", "2s"});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  auto row = row_of(result.out, "openai");
  REQUIRE(row.size() == 9);
  CHECK(row[kReachable] == "no");
  CHECK(row[kKey] == "-");
  CHECK(row[kCanJudge] == "no");
}

TEST_CASE("probe: one good and one bad provider: both rows, exit 1", "[probe][cli]") {
  FakeProviderServer good;
  FakeProviderServer bad({"--api-key", "right"});
  ProcessResult result = probe({"-p", openai(good), "-p", openai(bad, "other-model")}, {{"OPENAI_API_KEY", "wrong"}});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  auto first = row_of(result.out, "openai");
  auto second = row_of(result.out, "openai-2");
  REQUIRE(first.size() == 9);
  REQUIRE(second.size() == 9);
  CHECK(first[kCanJudge] == "yes");
  CHECK(second[1] == "other-model");
  CHECK(second[kKey] == "rejected");
  CHECK(second[kCanJudge] == "no");
  CHECK(result.out.find("\nopenai-2: ") != std::string::npos);
  CHECK(result.out.find("\nopenai: ") == std::string::npos);  // no error line for the good one
}

TEST_CASE("probe --json prints one object per provider", "[probe][cli]") {
  FakeProviderServer fake;
  ProcessResult result = probe({"--json", "-p", openai(fake), "-p", "sim"});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  json out = json::parse(result.out);
  REQUIRE(out.is_array());
  REQUIRE(out.size() == 2);
  const json& first = out[0];
  CHECK(first.at("provider") == "openai");
  CHECK(first.at("model") == "gpt-4o-mini");
  CHECK(first.at("reachable") == true);
  CHECK(first.at("key_accepted") == true);
  CHECK(first.at("can_judge") == true);
  CHECK(first.at("truncated") == false);
  CHECK(first.at("json_mode").is_string());
  CHECK(first.at("latency_ms").is_number_integer());
  CHECK(first.at("adaptations").is_array());
  CHECK(first.at("rate_limit_headers").is_array());
  CHECK(first.contains("remaining_requests"));
  CHECK(first.contains("remaining_tokens"));
  CHECK(first.at("error").is_null());
  CHECK(out[1].at("provider") == "sim");
  CHECK(out[1].at("can_judge") == true);
}

TEST_CASE("probe --json reports an unreachable provider's error", "[probe][cli]") {
  std::string url;
  {
    FakeProviderServer fake;
    url = openai(fake);
    fake.stop();
  }
  ProcessResult result = probe({"--json", "-p", url});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  json out = json::parse(result.out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].at("reachable") == false);
  CHECK(out[0].at("key_accepted").is_null());
  CHECK(out[0].at("can_judge") == false);
  CHECK(out[0].at("error_kind") == "connect");
  CHECK(out[0].at("error").get<std::string>().size() > 0);
}

TEST_CASE("probe --help explains the command and its exit codes", "[probe][cli]") {
  ProcessResult result = probe({"--help"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("Exit codes") != std::string::npos);
  CHECK(result.out.find("--json") != std::string::npos);
  CHECK(result.out.find("--provider") != std::string::npos);
}

TEST_CASE("probe: a bad provider spec is a usage error, exit 2", "[probe][cli]") {
  ProcessResult result = probe({"-p", "nosuchvendor:model"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
}

TEST_CASE("probe: a parameter the API refuses is adapted and listed, exit 0", "[probe][cli]") {
  FakeProviderServer fake({"--refuse", "temperature"});
  ProcessResult result = probe({"-p", openai(fake, "acme-judge-1")});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  auto row = row_of(result.out, "openai");
  REQUIRE(row.size() == 9);
  CHECK(row[kCanJudge] == "yes");
  CHECK(row[kAdapted].find("temperature") != std::string::npos);
}
