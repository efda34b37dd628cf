// Integration tests: `llmeval run` against today's judge models, each served by the real fake
// provider, which follows the vendors' documented rules by model name (tests/fakes/): OpenAI's
// reasoning models refuse max_tokens and temperature, newer Claude models refuse temperature,
// Azure serves deployments with api-version and api-key, Ollama ignores max_completion_tokens,
// and an unknown model can be told to refuse parameters. Every row must come back ok, and a
// refused parameter may cost one extra call per process, never one per row.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::ProcessResult;
using llmeval::testing::read_file;
using llmeval::testing::read_lines;
using llmeval::testing::RedisServer;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

constexpr int kRows = 24;

struct Run {
  ProcessResult process;
  std::vector<json> rows;
  json summary;
};

std::string dataset(int rows = kRows, const std::string& marker = "") {
  std::string out;
  for (int i = 0; i < rows; ++i) {
    out += json{{"id", i},
                {"prompt", "What is " + std::to_string(i) + " + 1?"},
                {"output", std::to_string(i + 1) + marker},
                {"criteria", {{{"name", "correct"}, {"rubric", "The sum is right."}},
                              {{"name", "concise"}, {"rubric", "The answer is short."}}}}}
               .dump() +
           "\n";
  }
  return out;
}

Run run_llmeval(const std::vector<std::string>& args, const std::string& rows, std::map<std::string, std::string> env = {}) {
  TempDir dir;
  write_file(dir.file("dataset.jsonl"), rows);
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),        "run", dir.file("dataset.jsonl"), "-o", dir.file("results.jsonl"),
                                   "--summary", dir.file("summary.json")};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("no_proxy", "127.0.0.1,localhost");
  env.emplace("NO_PROXY", "127.0.0.1,localhost");
  Run run;
  run.process = run_process(argv, "", env, std::chrono::seconds(120));
  for (const auto& line : read_lines(dir.file("results.jsonl"))) run.rows.push_back(json::parse(line));
  std::string summary = read_file(dir.file("summary.json"));
  if (!summary.empty()) run.summary = json::parse(summary);
  return run;
}

std::string config_file(TempDir& dir, const json& config) {
  std::string path = dir.file("config.json");
  write_file(path, config.dump());
  return path;
}

void check_all_ok(const Run& run, int rows = kRows) {
  INFO(run.process.err);
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.rows.size() == static_cast<std::size_t>(rows));
  for (const auto& row : run.rows) {
    INFO(row.dump());
    CHECK(row["status"] == "ok");
  }
}

int count(const json& stats, const std::string& field) { return stats["sent"].value(field, 0); }
int status_count(const json& stats, const std::string& status) { return stats["status_counts"].value(status, 0); }

}  // namespace

TEST_CASE("Current OpenAI models judge every row with no refused call", "[integration][models]") {
  FakeProviderServer fake;
  for (std::string model : {"gpt-4o-mini", "gpt-5-mini", "o4-mini"}) {
    DYNAMIC_SECTION(model) {
      Run run = run_llmeval({"-p", "openai:" + model + "@" + fake.base_url_openai()}, dataset());
      check_all_ok(run);
      json stats = fake.stats();
      CHECK(status_count(stats, "400") == 0);
      CHECK(stats["requests"] == 2 * kRows);
      bool reasoning = model != "gpt-4o-mini";
      // A compatible URL (the fake) gets max_tokens, unless the model is a known reasoning one.
      CHECK(count(stats, "max_completion_tokens") == (reasoning ? 2 * kRows : 0));
      CHECK(count(stats, "max_tokens") == (reasoning ? 0 : 2 * kRows));
      CHECK(count(stats, "temperature") == (reasoning ? 0 : 2 * kRows));
      CHECK(count(stats, "response_format_json_object") == 2 * kRows);
      if (reasoning) {
        // The reasoning tokens the fake spent are in the results.
        CHECK(run.rows[0]["criteria"]["correct"]["judge"]["tokens"].value("reasoning", 0) > 0);
      }
      fake.reset_stats();
    }
  }
}

TEST_CASE("Current Claude models judge every row with no refused call", "[integration][models]") {
  FakeProviderServer fake;
  for (std::string model : {"claude-sonnet-4-5", "claude-opus-4-7"}) {
    DYNAMIC_SECTION(model) {
      Run run = run_llmeval({"-p", "anthropic:" + model + "@" + fake.base_url_anthropic()}, dataset());
      check_all_ok(run);
      json stats = fake.stats();
      CHECK(status_count(stats, "400") == 0);
      CHECK(count(stats, "temperature") == (model == "claude-opus-4-7" ? 0 : 2 * kRows));
      CHECK(count(stats, "output_config_format") == 2 * kRows);  // structured outputs
      fake.reset_stats();
    }
  }
}

TEST_CASE("An Azure deployment and Azure's v1 API judge every row", "[integration][models]") {
  FakeProviderServer fake({"--api-key", "azure-key", "--azure-deployment", "judge=gpt-5-mini"});
  std::map<std::string, std::string> env = {{"AZURE_OPENAI_API_KEY", "azure-key"}};
  SECTION("-p azure:DEPLOYMENT@URL, whose name says nothing of its model: adapted on the first call") {
    Run run = run_llmeval({"-p", "azure:judge@" + fake.url("")}, dataset(), env);
    check_all_ok(run);
    json stats = fake.stats();
    CHECK(count(stats, "max_completion_tokens") == stats["requests"]);
    CHECK(status_count(stats, "400") == 1);  // temperature, once
    // The first reply showed a reasoning model cut off at the judge's 256-token cap: that call
    // is retried at a reasoning model's cap, and every later call starts there.
    CHECK(stats["requests"] == 2 * kRows + 2);
    CHECK(run.process.err.find("reasons") != std::string::npos);
  }
  SECTION("type azure in a config, with the deployment's model named") {
    TempDir dir;
    std::string config = config_file(dir, {{"providers", {{{"name", "az"}, {"type", "azure"}, {"deployment", "judge"},
                                                          {"model", "gpt-5-mini"}, {"base_url", fake.url("")},
                                                          {"headers", {{"X-Team", "${LLMEVAL_TEST_TEAM}"}}}}}}});
    env["LLMEVAL_TEST_TEAM"] = "team-secret-7";
    Run run = run_llmeval({"-c", config, "-vv"}, dataset(), env);  // trace: request bodies are logged
    check_all_ok(run);
    CHECK(status_count(fake.stats(), "400") == 0);
    // Header values are secrets like keys: in no log line, at any level.
    CHECK(run.process.err.find("team-secret-7") == std::string::npos);
    CHECK(run.process.err.find("azure-key") == std::string::npos);
  }
  SECTION("a wrong key is refused as the Azure API refuses it") {
    Run run = run_llmeval({"-p", "azure:judge@" + fake.url("")}, dataset(2), {{"AZURE_OPENAI_API_KEY", "wrong"}});
    CHECK(run.process.exit_code != 0);
    REQUIRE(run.rows.size() == 2);
    CHECK(run.rows[0]["error"]["kind"] == "auth");
  }
}

TEST_CASE("An Ollama-style server gets max_tokens and judges every row", "[integration][models]") {
  FakeProviderServer fake({"--flavor", "ollama"});
  Run run = run_llmeval({"-p", "openai:llama3.1:8b@" + fake.base_url_openai()}, dataset());
  check_all_ok(run);
  json stats = fake.stats();
  CHECK(count(stats, "max_tokens") == 2 * kRows);
  CHECK(count(stats, "max_completion_tokens") == 0);
  CHECK(status_count(stats, "400") == 0);
}

TEST_CASE("An unknown model that refuses three parameters costs at most 3 extra calls per process",
          "[integration][models]") {
  FakeProviderServer fake({"--refuse", "max_tokens,temperature,response_format"});
  std::string spec = "openai:acme-judge-1@" + fake.base_url_openai();
  SECTION("one process") {
    Run run = run_llmeval({"-p", spec, "-j", "16"}, dataset());
    check_all_ok(run);
    json stats = fake.stats();
    CHECK(status_count(stats, "400") == 3);
    CHECK(stats["requests"] == 2 * kRows + 3);
    CHECK(run.process.err.find("\"token_param\": \"max_completion_tokens\"") != std::string::npos);
    CHECK(run.process.err.find("\"temperature\": null") != std::string::npos);
    CHECK(run.process.err.find("\"json_mode\": \"off\"") != std::string::npos);
    // The resends are not retries.
    CHECK(run.summary.value("retries", -1) == 0);
  }
  SECTION("with --redis, a second process learns from the first and pays nothing") {
    RedisServer redis;
    Run first = run_llmeval({"-p", spec, "--redis", redis.url()}, dataset());
    check_all_ok(first);
    CHECK(status_count(fake.stats(), "400") == 3);
    fake.reset_stats();
    Run second = run_llmeval({"-p", spec, "--redis", redis.url()}, dataset());
    check_all_ok(second);
    CHECK(status_count(fake.stats(), "400") == 0);
  }
}

TEST_CASE("A reply cut off by the token cap is retried once with twice the cap, then is truncated",
          "[integration][models]") {
  FakeProviderServer fake({"--reasoning-tokens", "600"});
  TempDir dir;
  // A cap of 400 leaves no room after 600 reasoning tokens; 800 does.
  std::string config = config_file(dir, {{"providers", {{{"name", "o4"}, {"type", "openai"}, {"model", "o4-mini"},
                                                        {"base_url", fake.base_url_openai()}, {"max_tokens", 400}}}}});
  Run run = run_llmeval({"-c", config}, dataset(4));
  check_all_ok(run, 4);
  CHECK(fake.stats()["requests"] == 2 * 4 * 2);  // each call: cut off, then once more at 800
  CHECK(run.summary["retries"] == 8);

  fake.reset_stats();
  Run cut = run_llmeval({"-c", config}, dataset(2, " [[fake:reasoning=5000]]"));
  REQUIRE(cut.rows.size() == 2);
  CHECK(cut.rows[0]["status"] == "error");
  CHECK(cut.rows[0]["error"]["kind"] == "truncated");
  CHECK(fake.stats()["requests"] == 2 * 2 * 2);  // never more than twice per criterion
}

TEST_CASE("The summary's cost counts cached prompt tokens at their own price", "[integration][models]") {
  FakeProviderServer fake;
  TempDir dir;
  // A rubric long enough (over 1,024 tokens) for OpenAI's automatic prefix cache.
  std::string rubric(6000, 'r');
  std::string rows;
  for (int i = 0; i < 6; ++i) {
    rows += json{{"id", i}, {"prompt", "p" + std::to_string(i)}, {"output", "o" + std::to_string(i)},
                 {"criteria", {{{"name", "long"}, {"rubric", rubric}}}}}
                .dump() +
            "\n";
  }
  std::string config = config_file(dir, {{"providers", {{{"name", "g"}, {"type", "openai"}, {"model", "gpt-4o-mini"},
                                                        {"base_url", fake.base_url_openai()},
                                                        {"price", {{"input_per_mtok", 0.15}, {"output_per_mtok", 0.60},
                                                                   {"cached_input_per_mtok", 0.075}}}}}}});
  Run run = run_llmeval({"-c", config, "-j", "1"}, rows);
  check_all_ok(run, 6);
  // By hand, from the tokens each result line reports.
  double input = 0, cached = 0, output = 0;
  for (const auto& row : run.rows) {
    const json& tokens = row["criteria"]["long"]["judge"]["tokens"];
    input += tokens["input"].get<double>();
    cached += tokens["cached_input"].get<double>();
    output += tokens["output"].get<double>();
  }
  CHECK(cached > 0);
  CHECK(cached < input);
  double expected = ((input - cached) * 0.15 + cached * 0.075 + output * 0.60) / 1e6;
  CHECK(run.summary["cost"].get<double>() == Approx(expected).epsilon(1e-9));
  CHECK(run.summary["tokens"]["cached_input"].get<double>() == cached);
}
