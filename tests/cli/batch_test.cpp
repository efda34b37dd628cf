// run --batch end to end: the real llmeval binary against the fake provider's batch APIs
// (OpenAI's Files + Batch API, the same at Azure's URLs, Anthropic's Message Batches). A batch
// run gives the verdicts an online run gives, submits every call exactly once (also when killed
// with SIGKILL right after a submission and resumed), falls back online for what a batch did
// not answer (an expired batch, a request that failed in it, a repair turn) or records it as an
// error with --batch-fallback error, submits nothing for calls the judge cache answers, and
// stops submitting at the cost budget.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <map>
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

// Rows with one LLM criterion; `marker(i)` is appended to row i's prompt (fake faults).
template <typename Marker>
std::string dataset(int rows, Marker marker) {
  std::string data;
  for (int i = 1; i <= rows; ++i) {
    json row = {{"id", "r" + std::to_string(i)},
                {"prompt",
                 "Question " + std::to_string(i) + ": what is " + std::to_string(i) + " squared?" + marker(i)},
                {"output", std::to_string(i * i)},
                {"criteria", json::array({json{{"name", "correct"}, {"rubric", "The answer is right."}}})}};
    data += row.dump() + "\n";
  }
  return data;
}

std::string dataset(int rows) {
  return dataset(rows, [](int) { return std::string(); });
}

struct Run {
  int exit_code = 0;
  std::vector<json> rows;
  json summary;
  std::string err;
};

std::string provider_spec(const FakeProviderServer& fake, const std::string& api) {
  if (api == "azure") return "azure:gpt-4o-mini@" + fake.url("");  // the deployment's name
  return api == "anthropic" ? "anthropic:claude-sonnet-4-5@" + fake.base_url_anthropic()
                            : "openai:gpt-4o-mini@" + fake.base_url_openai();
}

std::vector<std::string> run_argv(TempDir& dir, const std::string& out, const FakeProviderServer& fake,
                                  const std::string& api, std::vector<std::string> flags) {
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                   "run",
                                   dir.file("data.jsonl"),
                                   "-o",
                                   out,
                                   "-q",
                                   "--summary",
                                   out + ".summary.json",
                                   "-p",
                                   provider_spec(fake, api)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

std::map<std::string, std::string> env_for(TempDir& dir) {
  return {
      {"no_proxy", "127.0.0.1"},          {"OPENAI_API_KEY", "sk-test"},         {"ANTHROPIC_API_KEY", "sk-ant-test"},
      {"AZURE_OPENAI_API_KEY", "az-key"}, {"XDG_CACHE_HOME", dir.file("cache")}, {"LLMEVAL_CACHE", "readwrite"}};
}

Run run(TempDir& dir, const std::string& name, const FakeProviderServer& fake, const std::string& api,
        std::vector<std::string> flags) {
  const std::string out = dir.file(name + ".jsonl");
  auto result = run_process(run_argv(dir, out, fake, api, std::move(flags)), "", env_for(dir));
  Run r;
  r.exit_code = result.exit_code;
  r.err = result.err;
  for (const auto& line : read_lines(out)) r.rows.push_back(json::parse(line));
  r.summary = json::parse(read_file(out + ".summary.json"));
  return r;
}

// id -> (score, reason): what the judge said.
std::map<std::string, std::pair<double, std::string>> verdicts(const Run& r) {
  std::map<std::string, std::pair<double, std::string>> out;
  for (const auto& row : r.rows) {
    out[row.at("id").get<std::string>()] = {row.at("score").get<double>(),
                                            row.at("criteria").at("correct").at("reason").get<std::string>()};
  }
  return out;
}

int count_judged(const Run& r, const char* field) {
  int n = 0;
  for (const auto& row : r.rows) n += row.at("criteria").at("correct").at("judge").contains(field) ? 1 : 0;
  return n;
}

json batch_stats(const FakeProviderServer& fake) { return fake.stats().at("batch"); }

}  // namespace

TEST_CASE("run --batch: 2,000 rows through each batch API give the online verdicts, each call submitted once",
          "[integration][batch]") {
  for (const std::string api : {"openai", "anthropic"}) {
    DYNAMIC_SECTION(api) {
      FakeProviderServer fake({"--batch-delay-ms", "100"});
      TempDir dir;
      write_file(dir.file("data.jsonl"), dataset(2000));
      Run online = run(dir, "online", fake, api, {"--no-cache"});
      REQUIRE(online.exit_code == 0);
      fake.reset_stats();

      Run batched = run(dir, "batched", fake, api,
                        {"--no-cache", "--batch", "--batch-size", "600", "--batch-poll", "50ms"});
      INFO(batched.err);
      REQUIRE(batched.exit_code == 0);
      REQUIRE(batched.rows.size() == 2000);
      CHECK(verdicts(batched) == verdicts(online));
      CHECK(count_judged(batched, "batch") == 2000);
      CHECK(count_judged(batched, "batch_fallback") == 0);
      const json stats = batch_stats(fake);
      CHECK(stats.at(api + "_created") == 4);  // 600 + 600 + 600 + 200
      CHECK(stats.at(api + "_requests") == 2000);
      CHECK(fake.stats().at("by_path").value(api == "openai" ? "/v1/chat/completions" : "/v1/messages", 0) == 0);
      if (api == "openai") CHECK(stats.at("files_uploaded") == 4);

      const json& summary = batched.summary;
      CHECK(summary.at("batch_calls") == 2000);
      CHECK(summary.at("batch").at("calls_spooled") == 2000);
      CHECK(summary.at("batch").at("batches").size() == 4);
      for (const auto& b : summary.at("batch").at("batches"))
        CHECK(b.at("status") == (api == "openai" ? "completed" : "ended"));
      // The same tokens at half the price.
      CHECK(summary.at("tokens") == online.summary.at("tokens"));
      CHECK(summary.at("cost").get<double>() == Approx(online.summary.at("cost").get<double>() * 0.5).epsilon(1e-9));
    }
  }
}

TEST_CASE("run --batch: SIGKILL right after a submission, then --resume collects it without submitting again",
          "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "1500"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(300));
  const std::string out = dir.file("out.jsonl");
  const std::string journal = out + ".batches.jsonl";
  const std::vector<std::string> flags = {"--no-cache", "--batch", "--batch-size", "100", "--batch-poll", "50ms"};
  {
    BackgroundProcess first(run_argv(dir, out, fake, "openai", flags), env_for(dir), dir.file("first.err"));
    bool submitted = false;
    for (int i = 0; i < 1000 && !submitted; ++i) {
      submitted = std::filesystem::exists(journal) && read_file(journal).find("\"submitted\"") != std::string::npos;
      if (!submitted) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(submitted);
    first.signal(SIGKILL);
    CHECK(first.wait() == 128 + SIGKILL);
  }
  CHECK(read_lines(out).empty());  // nothing ended yet: no row was recorded

  std::vector<std::string> resumed_flags = flags;
  resumed_flags.push_back("--resume");
  Run resumed = run(dir, "out", fake, "openai", resumed_flags);
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  REQUIRE(resumed.rows.size() == 300);
  CHECK(count_judged(resumed, "batch") == 300);
  const json stats = batch_stats(fake);
  CHECK(stats.at("openai_created") == 3);
  CHECK(stats.at("openai_requests") == 300);  // every call submitted exactly once
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) == 0);
}

TEST_CASE("run --batch: an expired batch's calls are judged online, or recorded as errors with --batch-fallback error",
          "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "50", "--batch-expire", "on"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(40));
  Run online = run(dir, "online", fake, "openai", {"--no-cache", "--batch", "--batch-poll", "50ms"});
  INFO(online.err);
  REQUIRE(online.exit_code == 0);
  REQUIRE(online.rows.size() == 40);
  CHECK(count_judged(online, "batch_fallback") == 40);
  CHECK(online.rows[0]
            .at("criteria")
            .at("correct")
            .at("judge")
            .at("batch_fallback")
            .get<std::string>()
            .find("batch_expired") != std::string::npos);
  CHECK(online.summary.at("batch_fallbacks") == 40);
  CHECK(online.summary.at("batch").at("batches").at(0).at("status") == "expired");
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) == 40);

  fake.reset_stats();
  Run errors = run(dir, "errors", fake, "openai",
                   {"--no-cache", "--batch", "--batch-poll", "50ms", "--batch-fallback", "error"});
  CHECK(errors.exit_code == 1);
  REQUIRE(errors.rows.size() == 40);
  for (const auto& row : errors.rows) {
    CHECK(row.at("status") == "error");
    CHECK(row.at("error").at("message").get<std::string>().find("--batch-fallback error") != std::string::npos);
  }
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) == 0);  // nothing online
}

TEST_CASE("run --batch: failed requests and repair turns go online; with error, repairs go in a follow-up batch",
          "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "50"});
  TempDir dir;
  // Every 3rd row fails once (in its batch), every 4th (not 3rd) answers unparseable once.
  write_file(dir.file("data.jsonl"), dataset(24, [](int i) {
               return i % 3 == 0   ? std::string(" [[fake:fail_first=1]]")
                      : i % 4 == 0 ? std::string(" [[fake:reply=unparseable_once]]")
                                   : std::string();
             }));
  for (const std::string api : {"openai", "anthropic"}) {
    DYNAMIC_SECTION(api) {
      fake.reset_stats();
      Run r = run(dir, "mixed-" + api, fake, api, {"--no-cache", "--batch", "--batch-poll", "50ms"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      REQUIRE(r.rows.size() == 24);
      for (const auto& row : r.rows) {
        const int line = row.at("line").get<int>();
        const json& judge = row.at("criteria").at("correct").at("judge");
        CHECK(row.at("status") == "ok");
        if (line % 3 == 0) {
          CHECK(judge.at("batch_fallback").get<std::string>().find("failed in batch") != std::string::npos);
        } else if (line % 4 == 0) {
          CHECK(judge.at("batch_fallback") == "the repair turn of a batch's unparseable reply");
          CHECK(judge.at("attempts") == 2);
        } else {
          CHECK(judge.contains("batch"));
          CHECK_FALSE(judge.contains("batch_fallback"));
        }
      }
      CHECK(fake.stats().at("by_path").value(api == "openai" ? "/v1/chat/completions" : "/v1/messages", 0) == 8 + 4);
    }
  }
  fake.reset_stats();
  Run strict = run(dir, "strict", fake, "openai",
                   {"--no-cache", "--batch", "--batch-poll", "50ms", "--batch-fallback", "error"});
  INFO(strict.err);
  REQUIRE(strict.rows.size() == 24);
  for (const auto& row : strict.rows) {
    const int line = row.at("line").get<int>();
    if (line % 3 == 0) {  // failed in its batch: not judged online
      CHECK(row.at("status") == "error");
      CHECK(row.at("error").at("message").get<std::string>().find("--batch-fallback error") != std::string::npos);
    } else {  // the repair turns went in a follow-up batch
      CHECK(row.at("status") == "ok");
      const json& judge = row.at("criteria").at("correct").at("judge");
      CHECK(judge.contains("batch"));
      if (line % 4 == 0) CHECK(judge.at("attempts") == 2);
    }
  }
  CHECK(batch_stats(fake).at("openai_created") == 2);  // the batch and one follow-up
  CHECK(batch_stats(fake).at("openai_requests") == 24 + 4);
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) == 0);
}

TEST_CASE("run --batch: a rerun answered by the judge cache submits nothing", "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "50"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(50));
  Run first = run(dir, "first", fake, "anthropic", {"--batch", "--batch-poll", "50ms"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(batch_stats(fake).at("anthropic_created") == 1);
  fake.reset_stats();
  Run again = run(dir, "again", fake, "anthropic", {"--batch", "--batch-poll", "50ms"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  REQUIRE(again.rows.size() == 50);
  CHECK(verdicts(again) == verdicts(first));
  CHECK(count_judged(again, "cached") == 50);
  CHECK(batch_stats(fake).at("anthropic_created") == 0);
  CHECK(fake.stats().at("requests") == 0);
  CHECK(again.summary.at("batch").at("calls_cached") == 50);
  CHECK(again.summary.at("batch").at("batches").empty());
}

TEST_CASE("run --batch: the cost budget stops submissions; --resume with more budget finishes",
          "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "50"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(100));
  // gpt-4o-mini at the batch price: each call's worst case (about 300 input tokens and the
  // 256-token cap) is about $0.0001, so $0.003 holds some 30 calls, far from all 100.
  const std::vector<std::string> flags = {"--no-cache", "--batch", "--batch-size", "10", "--batch-poll", "50ms"};
  std::vector<std::string> capped = flags;
  capped.insert(capped.end(), {"--max-cost", "0.003"});
  Run stopped = run(dir, "out", fake, "openai", capped);
  INFO(stopped.err);
  CHECK(stopped.exit_code == 3);
  const auto submitted = batch_stats(fake).at("openai_requests").get<int>();
  CHECK(submitted > 0);
  CHECK(submitted < 100);
  CHECK(static_cast<int>(stopped.rows.size()) == submitted);  // rows of submitted calls only
  CHECK(stopped.summary.at("budget").at("stopped") == true);

  std::vector<std::string> more = flags;
  more.insert(more.end(), {"--max-cost", "1", "--resume"});
  Run finished = run(dir, "out", fake, "openai", more);
  INFO(finished.err);
  CHECK(finished.exit_code == 0);
  CHECK(finished.rows.size() == 100);
  CHECK(batch_stats(fake).at("openai_requests") == 100);  // the rest, once
}

TEST_CASE("run --batch: an interrupt leaves submitted batches running for --resume, or cancels them",
          "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "60000"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(120));
  const std::vector<std::string> flags = {"--no-cache", "--batch", "--batch-size", "40", "--batch-poll", "50ms"};
  auto interrupt_after_submissions = [&](const std::string& out, std::vector<std::string> run_flags) {
    BackgroundProcess run_process_(run_argv(dir, out, fake, "openai", std::move(run_flags)), env_for(dir),
                                   dir.file("run.err"));
    const std::string journal = out + ".batches.jsonl";
    auto submitted = [&] {
      if (!std::filesystem::exists(journal)) return 0;
      int n = 0;
      for (const auto& line : read_lines(journal)) n += line.find("\"submitted\"") != std::string::npos ? 1 : 0;
      return n;
    };
    for (int i = 0; i < 2000 && submitted() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(submitted() == 3);
    run_process_.signal(SIGINT);
    return run_process_.wait();
  };
  auto batches = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "batches", out, "--json", "-p",
                                     provider_spec(fake, "openai")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = run_process(argv, "", env_for(dir));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return json::parse(result.out);
  };

  SECTION("left running, then collected") {
    const std::string out = dir.file("kept.jsonl");
    CHECK(interrupt_after_submissions(out, flags) == 130);
    CHECK(read_lines(out).empty());
    json listed = batches(out, {});
    REQUIRE(listed.size() == 3);
    for (const auto& b : listed) {
      CHECK(b.at("recorded") == "submitted");
      CHECK(b.at("provider_status") != "cancelled");
      CHECK(b.at("requests") == 40);
    }
    CHECK(batch_stats(fake).at("openai_cancels") == 0);
    fake.control({{"batch_delay_ms", 0}});
    std::vector<std::string> resumed = flags;
    resumed.push_back("--resume");
    Run r = run(dir, "kept", fake, "openai", resumed);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.rows.size() == 120);
    CHECK(batch_stats(fake).at("openai_requests") == 120);
    for (const auto& b : batches(out, {})) CHECK(b.at("recorded") == "completed");
  }
  SECTION("left running, then cancelled with llmeval batches --cancel") {
    const std::string out = dir.file("abandoned.jsonl");
    CHECK(interrupt_after_submissions(out, flags) == 130);
    json cancelled = batches(out, {"--cancel"});
    REQUIRE(cancelled.size() == 3);
    for (const auto& b : cancelled) CHECK(b.at("provider_status") == "cancelling");
    CHECK(batch_stats(fake).at("openai_cancels") == 3);
  }
  SECTION("--cancel-batches") {
    const std::string out = dir.file("cancelled.jsonl");
    std::vector<std::string> cancelling = flags;
    cancelling.push_back("--cancel-batches");
    CHECK(interrupt_after_submissions(out, cancelling) == 130);
    CHECK(batch_stats(fake).at("openai_cancels") == 3);
    for (const auto& b : batches(out, {})) {
      const std::string status = b.at("provider_status");
      CHECK((status == "cancelling" || status == "cancelled"));
    }
  }
}

TEST_CASE("run --batch --dry-run: the calls at the batch price, half the online estimate", "[integration][batch]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(30));
  auto estimate = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "--dry-run", "--json", "--no-cache", "-p",
        provider_spec(fake, "anthropic")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = run_process(argv, "", env_for(dir));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return json::parse(result.out);
  };
  const json online = estimate({});
  const json batched = estimate({"--batch"});
  CHECK(batched.at("calls_to_make") == 30);
  CHECK(batched.at("cost").get<double>() == Approx(online.at("cost").get<double>() * 0.5));
  CHECK(batched.at("providers").at(0).at("price_source").get<std::string>().find("batch price") != std::string::npos);
  CHECK(fake.stats().at("requests") == 0);
}

TEST_CASE("run --batch: what cannot be batched is refused before anything is sent", "[integration][batch]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(5));
  auto refused = [&](std::vector<std::string> args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_process(argv, stdin_data, env_for(dir));
    CHECK(result.exit_code == 2);
    return result.err;
  };
  const std::string data = dir.file("data.jsonl");
  CHECK(refused({data, "-p", "sim", "-o", dir.file("a.jsonl"), "--batch"}).find("has no batch API") !=
        std::string::npos);
  CHECK(refused({data, "-p", provider_spec(fake, "openai"), "--batch"}).find("pass -o FILE.jsonl") !=
        std::string::npos);
  CHECK(refused({"-", "-p", provider_spec(fake, "openai"), "-o", dir.file("b.jsonl"), "--batch"}, read_file(data))
            .find("give it as a file") != std::string::npos);
  CHECK(fake.stats().at("requests") == 0);
}

TEST_CASE("run --batch --shard: each shard submits its own batches, and merge puts them together",
          "[integration][batch]") {
  FakeProviderServer fake({"--batch-delay-ms", "50"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(60));
  for (const std::string shard : {"0/2", "1/2"}) {
    auto result = run_process(run_argv(dir, dir.file("part-{index}.jsonl"), fake, "openai",
                                       {"--no-cache", "--batch", "--batch-poll", "50ms", "--shard", shard}),
                              "", env_for(dir));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
  }
  CHECK(read_lines(dir.file("part-0.jsonl")).size() == 30);
  CHECK(read_lines(dir.file("part-1.jsonl")).size() == 30);
  CHECK(read_lines(dir.file("part-0.jsonl.batches.jsonl")).size() == 4);  // prepared, uploaded, submitted, ended
  CHECK(read_lines(dir.file("part-1.jsonl.batches.jsonl")).size() == 4);
  CHECK(batch_stats(fake).at("openai_created") == 2);
  CHECK(batch_stats(fake).at("openai_requests") == 60);
  auto merged = run_process({llmeval::testing::llmeval_binary(), "merge", dir.file("part-0.jsonl"),
                             dir.file("part-1.jsonl"), "-o", dir.file("all.jsonl"), "-q"},
                            "", env_for(dir));
  INFO(merged.err);
  CHECK(merged.exit_code == 0);
  CHECK(read_lines(dir.file("all.jsonl")).size() == 60);
}

TEST_CASE("run --batch -p azure:DEPLOYMENT@URL: Azure's global batch gives the online verdicts",
          "[integration][batch]") {
  // The fake knows one deployment; a batch line naming anything else fails its batch.
  FakeProviderServer fake(
      {"--batch-delay-ms", "50", "--api-key", "az-key", "--azure-deployment", "gpt-4o-mini=gpt-4o-mini"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(40));
  Run online = run(dir, "online", fake, "azure", {"--no-cache"});
  INFO(online.err);
  REQUIRE(online.exit_code == 0);
  fake.reset_stats();
  Run batched = run(dir, "batched", fake, "azure", {"--no-cache", "--batch", "--batch-poll", "50ms"});
  INFO(batched.err);
  REQUIRE(batched.exit_code == 0);
  REQUIRE(batched.rows.size() == 40);
  CHECK(verdicts(batched) == verdicts(online));
  CHECK(count_judged(batched, "batch") == 40);
  CHECK(count_judged(batched, "batch_fallback") == 0);
  const json stats = batch_stats(fake);
  CHECK(stats.at("openai_created") == 1);
  CHECK(stats.at("openai_requests") == 40);
  CHECK(stats.at("files_uploaded") == 1);
  CHECK(fake.stats().at("requests") == 0);  // nothing online
  CHECK(batched.err.find("az-key") == std::string::npos);
}
