// Integration tests: the real `llmeval run` binary against the real fake provider server on
// 127.0.0.1 (tests/fakes/fake_provider_server.cpp). Markers like [[fake:status=500]] inside a
// row's output script what the fake judge does for that row.
//
// Every branch of retry, repair, fallback and failure is decided by the call policy and checked
// as a table on a fake clock (tests/resilience/call_policy_test.cpp). The retry and fallback
// cases here only prove the wiring: that the binary's flags and config reach the policy, that
// its decisions reach the wire (retries sent, a 429's hold-off applied to the whole provider,
// the breaker and the budget consulted, the row deadline counted from the row's start), and
// that what happened is recorded in the result lines, the summary and the metrics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
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
using llmeval::testing::ProcessResult;
using llmeval::testing::read_lines;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

struct Run {
  ProcessResult process;
  std::map<std::int64_t, json> by_line;  // result rows keyed by their `line`
  std::size_t result_lines = 0;
};

// The fake provider is on loopback: keep a proxy from the environment out of the way.
std::map<std::string, std::string> loopback_env(std::map<std::string, std::string> env = {}) {
  env.emplace("no_proxy", "127.0.0.1,localhost");
  env.emplace("NO_PROXY", "127.0.0.1,localhost");
  return env;
}

Run run_llmeval(const std::vector<std::string>& args, const std::string& dataset,
                std::map<std::string, std::string> env = {}) {
  TempDir dir;
  std::string dataset_path = dir.file("dataset.jsonl");
  std::string output_path = dir.file("results.jsonl");
  write_file(dataset_path, dataset);
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", dataset_path, "-o", output_path, "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  Run run;
  run.process = run_process(argv, "", loopback_env(std::move(env)), std::chrono::seconds(120));
  for (const auto& line : read_lines(output_path)) {
    json row = json::parse(line);
    ++run.result_lines;
    run.by_line[row.at("line").get<std::int64_t>()] = row;
  }
  return run;
}

std::string row(const std::string& output, const std::string& criteria = R"("The answer is correct.")") {
  return R"({"prompt": "What is the capital of France?", "output": )" + json(output).dump() +
         R"(, "criteria": )" + criteria + "}\n";
}

std::string openai(const FakeProviderServer& fake) { return "openai:judge-model@" + fake.base_url_openai(); }

// The value of one series in a Prometheus text file, e.g. series = `llmeval_queue_depth` or
// `llmeval_evaluations_total{status="ok"}`; -1 when absent.
double metric(const std::string& path, const std::string& series) {
  for (const auto& line : read_lines(path)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

int requests_made(const FakeProviderServer& fake, const std::string& path = "/v1/chat/completions") {
  json stats = fake.stats();
  return stats.at("by_path").value(path, 0);
}

}  // namespace

TEST_CASE("llmeval run judges every criteria form and alias through the OpenAI API", "[integration]") {
  FakeProviderServer fake;
  std::string dataset =
      row("Paris.") +                                                                        // string criteria
      R"({"input": "2+2?", "response": "4", "expected": "4", "criteria": {"correctness": "Right number."}})" "\n" +
      R"({"question": "Hi", "completion": "Hello!", "ideal": "Hello", "criteria": ["Friendly.", "Short."]})" "\n" +
      R"({"prompt": "p", "actual_output": "o", "expected_output": "o", "context": "ctx", "criteria": [)"
      R"({"name": "tone", "rubric": "Polite.", "scale": "1-10", "threshold": 5, "weight": 2},)"
      R"({"name": "yesno", "rubric": "Answers.", "scale": "binary"},)"
      R"({"name": "has_o", "type": "contains", "value": "o"}]})" "\n" +
      R"({"id": 7, "prompt": "p", "output": "{\"a\": 1}", "criteria": [{"name": "j", "type": "json", "value": ["a"]},)"
      R"({"name": "short", "type": "max_chars", "value": 20}], "metadata": {"team": "x"}})" "\n";
  Run run = run_llmeval({"-p", openai(fake)}, dataset);

  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 5);
  for (const auto& [line, result] : run.by_line) {
    INFO(result.dump());
    CHECK(result.at("status") == "ok");
    CHECK(result.at("error").is_null());
  }
  CHECK(run.by_line[1]["criteria"].contains("default"));
  CHECK(run.by_line[1]["id"] == 1);
  CHECK(run.by_line[2]["criteria"].contains("correctness"));
  CHECK(run.by_line[3]["criteria"].contains("c1"));
  CHECK(run.by_line[3]["criteria"].contains("c2"));
  const json& tone = run.by_line[4]["criteria"]["tone"];
  CHECK(tone["score"].get<double>() >= 1);
  CHECK(tone["score"].get<double>() <= 10);
  CHECK(tone["pass"] == (tone["score"].get<double>() >= 5));
  CHECK(tone["judge"]["provider"] == "openai");
  CHECK(tone["judge"]["model"] == "judge-model");
  CHECK(tone["judge"]["attempts"] == 1);
  CHECK(tone["judge"]["fallback"] == false);
  double yesno = run.by_line[4]["criteria"]["yesno"]["score"].get<double>();
  CHECK((yesno == 0 || yesno == 1));
  CHECK(run.by_line[4]["criteria"]["has_o"]["pass"] == true);
  CHECK_FALSE(run.by_line[4]["criteria"]["has_o"].contains("judge"));
  CHECK(run.by_line[5]["id"] == 7);
  CHECK(run.by_line[5]["metadata"]["team"] == "x");
  CHECK(run.by_line[5]["criteria"]["j"]["pass"] == true);
  // One judge call per (row, LLM criterion); deterministic criteria make none: 1+1+2+2+0.
  CHECK(requests_made(fake) == 6);
}

TEST_CASE("llmeval run speaks the Anthropic Messages API", "[integration]") {
  FakeProviderServer fake({"--api-key", "test-key"});
  Run run = run_llmeval({"-p", "anthropic:claude-test@" + fake.base_url_anthropic()}, row("Paris.") + row("Lyon."),
                        {{"ANTHROPIC_API_KEY", "test-key"}});
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 2);
  CHECK(run.by_line[1]["status"] == "ok");
  CHECK(run.by_line[1]["criteria"]["default"]["judge"]["provider"] == "anthropic");
  CHECK(run.by_line[1]["criteria"]["default"]["judge"]["tokens"]["input"].get<int>() > 0);
  CHECK(requests_made(fake, "/v1/messages") == 2);
}

TEST_CASE("llmeval run records bad lines as invalid rows and goes on", "[integration]") {
  FakeProviderServer fake;
  std::string dataset = row("Paris.") + "not json\n" + "\n" + R"({"prompt": "no output"})" "\n" + "[1, 2]\n" +
                        R"({"output": "x", "criteria": [{"name": "r", "type": "regex", "value": "(unclosed"}]})" "\n" +
                        R"({"output": "x", "criteria": []})" "\n" + row("Lyon.");
  Run run = run_llmeval({"-p", openai(fake)}, dataset);
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 8);
  CHECK(run.by_line[1]["status"] == "ok");
  CHECK(run.by_line[8]["status"] == "ok");
  for (int line = 2; line <= 7; ++line) {
    INFO("line " << line << ": " << run.by_line[line].dump());
    CHECK(run.by_line[line]["status"] == "invalid");
    CHECK(run.by_line[line]["id"] == line);
    CHECK_FALSE(run.by_line[line]["error"]["message"].get<std::string>().empty());
  }
  CHECK(run.by_line[2]["error"]["kind"] == "invalid_json");
  CHECK(run.by_line[4]["error"]["kind"] == "missing_field");
  CHECK(run.by_line[6]["error"]["kind"] == "invalid_regex");
}

TEST_CASE("llmeval run retries provider errors and never invents a score", "[integration]") {
  FakeProviderServer fake;
  std::string dataset = row("[[fake:fail_first=2]] Paris.") +        // 1: ok after two 500s
                        row("[[fake:status=500]] Paris.") +          // 2: error after all retries
                        row("[[fake:status=400]] Paris.") +          // 3: error, no retry
                        row("[[fake:reply=unparseable_once]] Paris.") +  // 4: ok after one repair
                        row("[[fake:reply=unparseable]] Paris.") +   // 5: judge_unparseable
                        row("[[fake:reply=fenced]] Paris.") +        // 6: ok, fences tolerated
                        row("[[fake:reply=out_of_range]] Paris.") +  // 7: judge_unparseable
                        row("[[fake:body=not_json]] Paris.") +       // 8: provider_error
                        row("[[fake:score=5]] Paris.");              // 9: ok, pass
  // Many injected failures in one run would trip the circuit breaker; this test is about
  // each row's own retries, so the breaker is set out of reach.
  TempDir dir;
  std::string config = dir.file("config.json");
  write_file(config, R"({"breaker": {"consecutive_failures": 1000, "min_calls": 1000}})");
  Run run = run_llmeval({"-p", openai(fake), "--retries", "2", "-c", config}, dataset);
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 9);
  auto judge = [&](int line) { return run.by_line[line]["criteria"]["default"]["judge"]; };

  CHECK(run.by_line[1]["status"] == "ok");
  CHECK(judge(1)["attempts"] == 3);
  CHECK(run.by_line[2]["status"] == "error");
  CHECK(run.by_line[2]["error"]["kind"] == "provider_error");
  CHECK(run.by_line[2]["score"].is_null());
  CHECK(run.by_line[2]["criteria"].empty());
  CHECK(run.by_line[3]["error"]["kind"] == "provider_error");
  CHECK(run.by_line[4]["status"] == "ok");
  CHECK(judge(4)["attempts"] == 2);
  CHECK(run.by_line[5]["status"] == "error");
  CHECK(run.by_line[5]["error"]["kind"] == "judge_unparseable");
  CHECK(run.by_line[5]["criteria"].empty());
  CHECK(run.by_line[6]["status"] == "ok");
  CHECK(run.by_line[7]["error"]["kind"] == "judge_unparseable");
  CHECK(run.by_line[8]["status"] == "error");
  CHECK(run.by_line[9]["criteria"]["default"]["score"] == 5);
  CHECK(run.by_line[9]["pass"] == true);

  // 3 (fail_first) + 3 (500 x3) + 1 (400) + 2 (repair) + 2 (repair) + 1 + 2 + 3 (not_json retried) + 1
  CHECK(requests_made(fake) == 18);
}

TEST_CASE("llmeval run gives up on a slow judge after the attempt timeout", "[integration]") {
  FakeProviderServer fake;
  auto started = std::chrono::steady_clock::now();
  Run run = run_llmeval({"-p", openai(fake), "--timeout", "300ms", "--retries", "1"},
                        row("[[fake:delay_ms=5000]] Paris.") + row("Paris."));
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 2);
  CHECK(run.by_line[1]["error"]["kind"] == "timeout");
  CHECK(run.by_line[2]["status"] == "ok");
  CHECK(elapsed < std::chrono::seconds(4));
}

TEST_CASE("llmeval run stops early on a rejected API key instead of burning the dataset", "[integration]") {
  FakeProviderServer fake({"--api-key", "right-key"});
  std::string dataset;
  for (int i = 0; i < 30; ++i) dataset += row("Answer " + std::to_string(i));
  Run run = run_llmeval({"-p", openai(fake), "-j", "2"}, dataset, {{"OPENAI_API_KEY", "wrong-key-123456"}});
  CHECK(run.process.exit_code == 2);
  REQUIRE(run.result_lines == 30);
  for (const auto& [line, result] : run.by_line) CHECK(result["error"]["kind"] == "auth");
  CHECK(requests_made(fake) <= 2);
  CHECK(run.process.err.find("401") != std::string::npos);
  CHECK(run.process.err.find("wrong-key-123456") == std::string::npos);
  CHECK(run.by_line[5]["error"]["message"].get<std::string>().find("wrong-key") == std::string::npos);
}

TEST_CASE("llmeval run falls back to the next provider when one is unreachable", "[integration]") {
  FakeProviderServer fake;
  Run run = run_llmeval({"-p", "openai:dead@http://127.0.0.1:1/v1", "-p", openai(fake), "--retries", "0"},
                        row("Paris."));
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 1);
  const json& judge = run.by_line[1]["criteria"]["default"]["judge"];
  CHECK(judge["fallback"] == true);
  CHECK(judge["model"] == "judge-model");
  CHECK(judge["attempts"] == 2);
}

TEST_CASE("llmeval run keeps -j requests in flight at once", "[integration]") {
  FakeProviderServer fake({"--latency-ms", "300"});
  std::string dataset;
  for (int i = 0; i < 40; ++i) dataset += row("Answer " + std::to_string(i));
  auto started = std::chrono::steady_clock::now();
  Run run = run_llmeval({"-p", openai(fake), "-j", "20"}, dataset);
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(run.process.exit_code == 0);
  CHECK(run.result_lines == 40);
  json stats = fake.stats();
  CHECK(stats["max_in_flight"].get<int>() == 20);
  // 40 calls of 300 ms, 20 at a time, is ~0.6 s; sequential would be 12 s.
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("llmeval run writes the summary JSON and applies --fail-under", "[integration]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string summary_path = dir.file("summary.json");
  std::string dataset = row("[[fake:score=5]] a") + row("[[fake:score=1]] b") + row("[[fake:score=4]] c");
  Run run = run_llmeval({"-p", openai(fake), "--summary", summary_path, "--fail-under", "0.9"}, dataset);
  CHECK(run.process.exit_code == 1);
  json summary = json::parse(llmeval::testing::read_file(summary_path));
  CHECK(summary["rows"] == 3);
  CHECK(summary["ok"] == 3);
  CHECK(summary["pass_rate"].get<double>() == Approx(2.0 / 3.0));
  CHECK(summary["criteria"]["default"]["mean"].get<double>() == Approx(10.0 / 3.0));
  CHECK(summary["criteria"]["default"]["min"] == 1);
  CHECK(summary["provider_requests"] == 3);

  Run lenient = run_llmeval({"-p", openai(fake), "--fail-under", "0.5"}, dataset);
  CHECK(lenient.process.exit_code == 0);
}

TEST_CASE("llmeval run reads stdin and writes stdout", "[integration]") {
  auto result = run_process({llmeval::testing::llmeval_binary(), "run", "-", "-p", "sim", "-q"}, row("Paris.") + row("Lyon."));
  CHECK(result.exit_code == 0);
  CHECK(std::count(result.out.begin(), result.out.end(), '\n') == 2);
  CHECK(result.out.find("\"simulated\":true") != std::string::npos);
}

TEST_CASE("llmeval run refuses bad setup with exit 2 and a clear message", "[integration]") {
  SECTION("missing dataset") {
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", "/nonexistent/data.jsonl", "-p", "sim"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/nonexistent/data.jsonl") != std::string::npos);
  }
  SECTION("directory as dataset") {
    TempDir dir;
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", dir.path().string(), "-p", "sim"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("directory") != std::string::npos);
  }
  SECTION("no API key for a vendor URL") {
    TempDir dir;
    write_file(dir.file("d.jsonl"), row("x"));
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("d.jsonl"), "-p", "openai:gpt-4o-mini"}, "",
                         {{"OPENAI_API_KEY", ""}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("OPENAI_API_KEY") != std::string::npos);
  }
  SECTION("unknown provider spec") {
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", "-", "-p", "bogus:model"}, row("x"));
    CHECK(r.exit_code == 2);
  }
  SECTION("bad flag") {
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", "-", "--concurrency", "zero"}, "");
    CHECK(r.exit_code == 2);
  }
}

TEST_CASE("llmeval run over every file in datasets/ yields one result per line", "[integration][e2e]") {
  FakeProviderServer fake;
  for (const char* name : {"sample.jsonl"}) {
    std::string path = std::string(llmeval::testing::source_dir()) + "/datasets/" + name;
    auto input = read_lines(path);
    for (const auto& provider : {std::string("sim"), openai(fake)}) {
      TempDir dir;
      auto r = run_process({llmeval::testing::llmeval_binary(), "run", path, "-p", provider, "-o", dir.file("out.jsonl"), "-q"}, "",
                           loopback_env());
      INFO(name << " with " << provider << ": " << r.err);
      CHECK(r.exit_code == 0);
      auto output = read_lines(dir.file("out.jsonl"));
      CHECK(output.size() == input.size());
    }
  }
}

TEST_CASE("llmeval run takes providers, default criteria, scale and prices from the config file", "[integration]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string config = dir.file("config.json");
  write_file(config, R"({"providers": [{"name": "local", "type": "openai", "model": "judge-x", "base_url": ")" +
                         fake.base_url_openai() + R"(", "price": {"input_per_mtok": 1, "output_per_mtok": 2}}],
                         "judge": {"scale": "1-10"}, "criteria": {"helpful": "The answer helps."}})");
  std::string summary_path = dir.file("summary.json");
  std::string metrics_path = dir.file("llmeval.prom");
  Run run = run_llmeval({"--summary", summary_path, "--metrics-file", metrics_path, "-p", "local", "-p", "sim"},
                        R"({"prompt": "hi", "output": "hello"})" "\n", {{"LLMEVAL_CONFIG", config}});
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 1);
  const json& helpful = run.by_line[1]["criteria"]["helpful"];
  CHECK(helpful["judge"]["provider"] == "local");
  CHECK(helpful["judge"]["model"] == "judge-x");
  CHECK(helpful["score"].get<double>() >= 1);
  CHECK(helpful["score"].get<double>() <= 10);
  CHECK(helpful["pass"] == (helpful["score"].get<double>() >= 7));
  json summary = json::parse(llmeval::testing::read_file(summary_path));
  double tokens_in = summary["tokens"]["input"].get<double>();
  double tokens_out = summary["tokens"]["output"].get<double>();
  CHECK(summary["cost"].get<double>() == Approx((tokens_in * 1 + tokens_out * 2) / 1e6));
  // The same dollars in the metrics; the unpriced sim backup has no cost series (unknown, not $0).
  CHECK(metric(metrics_path, R"(llmeval_cost_usd_total{provider="local"})") == Approx(summary["cost"].get<double>()));
  CHECK(metric(metrics_path, R"(llmeval_cost_usd_total{provider="sim"})") == -1);
}

TEST_CASE("llmeval run holds requests back to stay under --rpm", "[integration]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string summary_path = dir.file("summary.json");
  std::string dataset;
  for (int i = 0; i < 21; ++i) dataset += row("Answer " + std::to_string(i));
  auto started = std::chrono::steady_clock::now();
  // 600 per minute is one every 100 ms, and the bucket starts empty: 21 requests take 2.1 s.
  Run run = run_llmeval({"-p", openai(fake), "--rpm", "600", "--summary", summary_path}, dataset);
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(run.process.exit_code == 0);
  CHECK(run.result_lines == 21);
  CHECK(elapsed >= std::chrono::milliseconds(2000));
  json summary = json::parse(llmeval::testing::read_file(summary_path));
  CHECK(summary["rate_limit_waits"].get<int>() > 0);
  CHECK(requests_made(fake) == 21);
}

TEST_CASE("llmeval run judges rows from a slow pipe as they come, without waiting for the next", "[integration]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string output = dir.file("out.jsonl");
  std::string seen = dir.file("seen.txt");
  // The producer sends one row, waits, records how many results exist, then sends the rest
  // (the last line without a newline). A reader that blocked the event loop on the pipe would
  // not have judged the first row yet.
  std::string script = "(printf '%s\\n' '" + row("Paris.").substr(0, row("Paris.").size() - 1) +
                       "'; sleep 1.5; wc -l < " + output + " > " + seen + "; printf '%s' '" +
                       row("Lyon.").substr(0, row("Lyon.").size() - 1) + "') | " + llmeval::testing::llmeval_binary() +
                       " run - -q -o " + output + " -p " + openai(fake);
  auto result = run_process({"/bin/sh", "-c", script}, "", loopback_env());
  CHECK(result.exit_code == 0);
  CHECK(llmeval::testing::read_file(seen) == "1\n");
  CHECK(read_lines(output).size() == 2);
}

TEST_CASE("llmeval run stops calling a failing provider once its breaker opens and falls back", "[integration]") {
  FakeProviderServer broken({"--error-rate", "1.0"});
  FakeProviderServer healthy;
  std::string dataset;
  for (int i = 0; i < 60; ++i) dataset += row("Answer " + std::to_string(i));
  TempDir dir;
  std::string summary_path = dir.file("summary.json");
  std::string metrics_path = dir.file("llmeval.prom");
  Run run = run_llmeval({"-p", "openai:broken@" + broken.base_url_openai(), "-p", openai(healthy), "-j", "4",
                         "--retries", "1", "--summary", summary_path, "--metrics-file", metrics_path},
                        dataset);
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 60);
  for (const auto& [line, result] : run.by_line) {
    INFO(result.dump());
    CHECK(result["status"] == "ok");
    CHECK(result["criteria"]["default"]["judge"]["fallback"] == true);
    CHECK(result["criteria"]["default"]["judge"]["model"] == "judge-model");
  }
  // 5 consecutive failures open the breaker; calls already in flight (-j 4) and their one
  // retry may add a few more, but not one call per row.
  int broken_calls = requests_made(broken);
  CHECK(broken_calls >= 5);
  CHECK(broken_calls <= 12);
  json summary = json::parse(llmeval::testing::read_file(summary_path));
  CHECK(summary["breaker_openings"].get<int>() >= 1);
  CHECK(summary["fallbacks"] == 60);

  // The same story in the metrics (the first provider is named "openai", the second "openai-2").
  const std::string& metrics = metrics_path;
  INFO(llmeval::testing::read_file(metrics_path));
  CHECK(metric(metrics, R"(llmeval_evaluations_total{status="ok"})") == 60);
  CHECK(metric(metrics, R"(llmeval_fallbacks_total{from="openai",to="openai-2"})") == 60);
  CHECK(metric(metrics, R"(llmeval_provider_requests_total{provider="openai",code="500"})") == broken_calls);
  CHECK(metric(metrics, R"(llmeval_provider_requests_total{provider="openai-2",code="200"})") == 60);
  CHECK(metric(metrics, R"(llmeval_provider_request_duration_seconds_count{provider="openai-2"})") == 60);
  CHECK(metric(metrics, R"(llmeval_breaker_state{provider="openai"})") == 2);
  CHECK(metric(metrics, R"(llmeval_breaker_state{provider="openai-2"})") == 0);
  CHECK(metric(metrics, R"(llmeval_retries_total{provider="openai"})") == summary["retries"].get<int>());
  CHECK(metric(metrics, R"(llmeval_tokens_total{provider="openai-2",direction="input"})") ==
        summary["tokens"]["input"].get<double>());
  CHECK(metric(metrics, R"(llmeval_ratelimit_wait_seconds_count{provider="openai-2"})") == 60);
  CHECK(metric(metrics, "llmeval_inflight_requests") == 0);
  CHECK(metric(metrics, "llmeval_queue_depth") == 0);
  CHECK(metric(metrics, "llmeval_limiter_degraded") == 0);
}

TEST_CASE("llmeval run holds every call back for a 429's Retry-After, not only the one told", "[integration]") {
  FakeProviderServer fake;
  // Row 1 is answered 429 with `retry-after: 1`; with -j 1 the next rows wait behind it.
  std::string dataset = row("[[fake:status=429]] Paris.");
  for (int i = 0; i < 5; ++i) dataset += row("Answer " + std::to_string(i));
  auto started = std::chrono::steady_clock::now();
  Run run = run_llmeval({"-p", openai(fake), "-j", "1", "--retries", "0"}, dataset);
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 6);
  CHECK(run.by_line[1]["error"]["kind"] == "rate_limited");
  for (int line = 2; line <= 6; ++line) CHECK(run.by_line[line]["status"] == "ok");
  CHECK(elapsed >= std::chrono::milliseconds(1000));
  CHECK(requests_made(fake) == 6);
}

TEST_CASE("judge.same_model_only keeps a run to one judge model when falling back", "[integration]") {
  FakeProviderServer healthy;
  TempDir dir;
  std::string config = dir.file("config.json");
  write_file(config, R"({"judge": {"same_model_only": true}})");
  std::string dead = "openai:judge-model@http://127.0.0.1:1/v1";

  SECTION("a backup with another model is not used") {
    Run run = run_llmeval({"-c", config, "--retries", "0", "-p", dead, "-p", "openai:other-model@" +
                           healthy.base_url_openai()}, row("Paris."));
    CHECK(run.process.exit_code == 1);
    CHECK(run.by_line[1]["status"] == "error");
    CHECK(run.by_line[1]["error"]["kind"] == "provider_error");
    CHECK(requests_made(healthy) == 0);
  }
  SECTION("a backup with the same model is") {
    Run run = run_llmeval({"-c", config, "--retries", "0", "-p", dead, "-p", openai(healthy)}, row("Paris."));
    CHECK(run.process.exit_code == 0);
    CHECK(run.by_line[1]["criteria"]["default"]["judge"]["fallback"] == true);
  }
}

TEST_CASE("llmeval run keeps retries to the provider's retry budget", "[integration]") {
  FakeProviderServer broken({"--error-rate", "1.0"});
  TempDir dir;
  std::string config = dir.file("config.json");
  // The breaker is set out of reach so that only the budget limits the retries.
  write_file(config, R"({"breaker": {"consecutive_failures": 1000, "min_calls": 1000},
                         "retry": {"base_ms": 1, "max_ms": 5, "budget_ratio": 0, "budget_min": 5}})");
  std::string dataset;
  for (int i = 0; i < 40; ++i) dataset += row("Answer " + std::to_string(i));
  Run run = run_llmeval({"-c", config, "--retries", "3", "-j", "8", "-p", openai(broken)}, dataset);
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 40);
  for (const auto& [line, result] : run.by_line) CHECK(result["error"]["kind"] == "provider_error");
  // Without a budget: 40 rows x 4 attempts = 160 requests.
  CHECK(requests_made(broken) == 40 + 5);
}

TEST_CASE("llmeval run stops retrying a row once its overall deadline has passed", "[integration]") {
  FakeProviderServer broken({"--error-rate", "1.0"});
  TempDir dir;
  std::string config = dir.file("config.json");
  write_file(config, R"({"breaker": {"consecutive_failures": 1000, "min_calls": 1000},
                         "retry": {"base_ms": 200, "max_ms": 200, "budget_min": 100, "row_deadline_ms": 500}})");
  auto started = std::chrono::steady_clock::now();
  Run run = run_llmeval({"-c", config, "--retries", "20", "-p", openai(broken)}, row("Paris."));
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 1);
  CHECK(run.by_line[1]["error"]["kind"] == "provider_error");
  // 20 retries of up to 200 ms each take about 2 s; the deadline ends the row near 0.5 s.
  CHECK(elapsed < std::chrono::milliseconds(1500));
  CHECK(requests_made(broken) < 10);
}

TEST_CASE("llmeval run holds back when the provider's rate-limit headers say its budget is used up", "[integration]") {
  FakeProviderServer fake;
  for (const std::string api : {"openai", "anthropic"}) {
    INFO(api);
    fake.reset_stats();
    // Row 1's reply says the request budget is used up for 1 s; with -j 1 the others wait.
    std::string dataset = row("[[fake:exhausted=1]] Paris.");
    for (int i = 0; i < 3; ++i) dataset += row("Answer " + std::to_string(i));
    std::string provider = api == "openai" ? openai(fake) : "anthropic:judge-model@" + fake.base_url_anthropic();
    auto started = std::chrono::steady_clock::now();
    Run run = run_llmeval({"-p", provider, "-j", "1"}, dataset, {{"ANTHROPIC_API_KEY", "k"}});
    auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(run.process.exit_code == 0);
    CHECK(run.result_lines == 4);
    CHECK(elapsed >= std::chrono::milliseconds(950));  // without the hold: about 50 ms
  }
}

TEST_CASE("run --shard judges its own rows and names its files by shard", "[cli][shard]") {
  TempDir dir;
  std::string dataset;
  for (int i = 1; i <= 7; ++i) dataset += row("answer " + std::to_string(i));
  write_file(dir.file("dataset.jsonl"), dataset);
  std::string pattern = dir.file("part-{index}-of-{count}.jsonl");
  std::vector<std::int64_t> lines;
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    auto result = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("dataset.jsonl"), "-p", "sim", "--shard", shard, "-o",
                               pattern, "--summary", dir.file("summary-{index}.json"), "-q"});
    REQUIRE(result.exit_code == 0);
  }
  for (int index = 0; index < 3; ++index) {
    auto part = read_lines(dir.file("part-" + std::to_string(index) + "-of-3.jsonl"));
    for (const auto& text : part) {
      auto line = json::parse(text).at("line").get<std::int64_t>();
      CHECK((line - 1) % 3 == index);
      lines.push_back(line);
    }
    CHECK(json::parse(llmeval::testing::read_file(dir.file("summary-" + std::to_string(index) + ".json")))
              .at("rows") == part.size());
  }
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7});

  // auto: the index from the Indexed Job, the count from LLMEVAL_SHARD_COUNT.
  auto from_env = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("dataset.jsonl"), "-p", "sim", "--shard", "auto", "-o",
                               dir.file("auto-{index}.jsonl"), "-q"},
                              "", {{"JOB_COMPLETION_INDEX", "1"}, {"LLMEVAL_SHARD_COUNT", "2"}});
  REQUIRE(from_env.exit_code == 0);
  CHECK(read_lines(dir.file("auto-1.jsonl")).size() == 3);  // lines 2, 4, 6
}

TEST_CASE("run --shard refuses missing or inconsistent shard settings with exit 2", "[cli][shard]") {
  TempDir dir;
  write_file(dir.file("dataset.jsonl"), row("x"));
  auto run_with = [&](std::vector<std::string> extra, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", dir.file("dataset.jsonl"), "-p", "sim", "-q"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, "", std::move(env));
  };
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    const char* says;
  };
  std::vector<Case> cases = {
      {{"--shard", "auto"}, {{"LLMEVAL_SHARD_COUNT", "4"}}, "JOB_COMPLETION_INDEX"},
      {{"--shard", "auto"}, {{"JOB_COMPLETION_INDEX", "0"}}, "LLMEVAL_SHARD_COUNT"},
      {{"--shard", "auto"}, {{"JOB_COMPLETION_INDEX", "4"}, {"LLMEVAL_SHARD_COUNT", "4"}}, "from 0 to 3"},
      {{"--shard", "auto"}, {{"JOB_COMPLETION_INDEX", "x"}, {"LLMEVAL_SHARD_COUNT", "4"}}, "not a whole number"},
      {{"--shard", "3/3"}, {}, "from 0 to 2"},
      {{"--shard", "0/0"}, {}, "at least 1"},
      {{"--shard", "1-of-3"}, {}, "expected I/N"},
      {{"-o", dir.file("out-{index}.jsonl")}, {}, "no --shard"},
  };
  for (const auto& c : cases) {
    INFO(c.says);
    auto result = run_with(c.args, c.env);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains(c.says));
  }
}
