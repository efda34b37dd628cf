// Integration tests: hostile datasets and hostile providers against the real `llmeval run`
// binary, one TEST_CASE per case of the "Nothing lost" issue (parts 3 and 4). Each asserts the
// exact outcome: the row's status and error kind, a message that names the line and says what
// to fix, the exit code, one result line per input line, and never a score for a failed row.
//
// Dataset cases run with `-p sim` (an invalid row makes no provider call, and sim needs no
// network); provider cases run against the fake provider on 127.0.0.1, scripted per row with
// [[fake:...]] markers (tests/fakes/fake_provider_server.cpp).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

extern char** environ;

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::ProcessResult;
using llmeval::testing::read_file;
using llmeval::testing::read_lines;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;
using namespace std::string_literals;

struct Run {
  ProcessResult process;
  std::map<std::int64_t, json> by_line;  // result rows keyed by their `line`
  std::size_t result_lines = 0;
  json summary;
};

// The fake provider is on loopback: keep a proxy from the environment out of the way.
std::map<std::string, std::string> loopback_env(std::map<std::string, std::string> env = {}) {
  env.emplace("no_proxy", "127.0.0.1,localhost");
  env.emplace("NO_PROXY", "127.0.0.1,localhost");
  return env;
}

Run read_results(ProcessResult process, const std::string& output_path, const std::string& summary_path) {
  Run run;
  run.process = std::move(process);
  INFO("stderr: " << run.process.err);
  for (const auto& line : read_lines(output_path)) {
    json row = json::parse(line);
    ++run.result_lines;
    run.by_line[row.at("line").get<std::int64_t>()] = row;
  }
  if (std::ifstream(summary_path).good()) run.summary = json::parse(read_file(summary_path));
  return run;
}

// Writes `dataset` byte for byte and runs `llmeval run` on it with -o, --summary and -q.
Run run_llmeval(const std::vector<std::string>& args, const std::string& dataset) {
  TempDir dir;
  const std::string dataset_path = dir.file("dataset.jsonl");
  const std::string output_path = dir.file("results.jsonl");
  const std::string summary_path = dir.file("summary.json");
  write_file(dataset_path, dataset);
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", dataset_path, "-o", output_path, "--summary", summary_path,
                                   "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return read_results(run_process(argv, "", loopback_env(), std::chrono::seconds(120)), output_path, summary_path);
}

Run run_sim(const std::string& dataset, std::vector<std::string> args = {}) {
  args.insert(args.end(), {"-p", "sim"});
  return run_llmeval(args, dataset);
}

std::string row(const std::string& output, const std::string& criteria = R"("The answer is correct.")") {
  return R"({"prompt": "What is the capital of France?", "output": )" + json(output).dump() +
         R"(, "criteria": )" + criteria + "}\n";
}

std::string openai(const FakeProviderServer& fake) { return "openai:judge-model@" + fake.base_url_openai(); }

int requests_made(const FakeProviderServer& fake, const std::string& path = "/v1/chat/completions") {
  return fake.stats().at("by_path").value(path, 0);
}

// A failed row: no score, no pass, no criteria, and an error of `kind`.
void check_failed(const Run& run, std::int64_t line, const std::string& status, const std::string& kind) {
  REQUIRE(run.by_line.count(line) == 1);
  const json& result = run.by_line.at(line);
  INFO("line " << line << ": " << result.dump());
  CHECK(result["status"] == status);
  CHECK(result["error"]["kind"] == kind);
  CHECK(result["score"].is_null());
  CHECK(result["pass"].is_null());
  CHECK(result["criteria"].empty());
}

// An `invalid` row whose message starts with "line N: " and contains every part.
void check_invalid(const Run& run, std::int64_t line, const std::string& kind,
                   const std::vector<std::string>& message_parts) {
  check_failed(run, line, "invalid", kind);
  const std::string message = run.by_line.at(line)["error"]["message"].get<std::string>();
  INFO(message);
  CHECK(message.rfind("line " + std::to_string(line) + ": ", 0) == 0);
  for (const auto& part : message_parts) CHECK(message.find(part) != std::string::npos);
}

void check_ok(const Run& run, std::int64_t line) {
  REQUIRE(run.by_line.count(line) == 1);
  INFO(run.by_line.at(line).dump());
  CHECK(run.by_line.at(line)["status"] == "ok");
  CHECK(run.by_line.at(line)["score"].is_number());
}

std::string message_of(const Run& run, std::int64_t line) {
  return run.by_line.at(line)["error"]["message"].get<std::string>();
}

// A child run to completion with its peak resident set size, which run_process cannot give:
// wait4() reports the rusage of exactly that child.
struct MeasuredRun {
  int exit_code = -1;
  long peak_rss_kib = 0;
  std::chrono::milliseconds elapsed{0};
  std::string err;
};

MeasuredRun run_measured(const std::vector<std::string>& args, const TempDir& dir,
                         const std::map<std::string, std::string>& extra_env = {}) {
  const std::string err_path = dir.file("stderr.txt");
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string item = *entry;
    if (const auto eq = item.find('='); eq != std::string::npos) merged[item.substr(0, eq)] = item.substr(eq + 1);
  }
  for (const auto& [key, value] : loopback_env(extra_env)) merged[key] = value;
  std::vector<std::string> env_items;
  for (const auto& [key, value] : merged) env_items.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& item : env_items) envp.push_back(item.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  MeasuredRun run;
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
  }
  run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.peak_rss_kib = usage.ru_maxrss;  // Linux: KiB
  run.err = read_file(err_path);
  return run;
}

// Many injected failures in one run would open the circuit breaker; these tests are about each
// row's own outcome, so the breaker is set out of reach. One retry keeps them quick.
std::vector<std::string> provider_args(const FakeProviderServer& fake, const TempDir& dir) {
  const std::string config = dir.file("config.json");
  write_file(config, R"({"breaker": {"consecutive_failures": 1000, "min_calls": 1000},
                         "retry": {"base_ms": 1, "max_ms": 5}})");
  return {"-p", openai(fake), "-c", config, "--retries", "1"};
}

}  // namespace

// ---- hostile datasets: each bad line is one `invalid` row, and the run goes on ----

TEST_CASE("hostile dataset: a line that is not JSON is an invalid_json row", "[integration][hostile]") {
  Run run = run_sim(row("Paris.") + R"({"output": "x", "criteria": "c")" "\n" + "output: x\n" +
                    R"({'output': 'x'})" "\n" + row("Lyon."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 5);
  check_ok(run, 1);
  for (int line = 2; line <= 4; ++line) {
    check_invalid(run, line, "invalid_json", {"not valid JSON", "each line must be one complete JSON object"});
    CHECK(run.by_line[line]["id"] == line);
  }
  check_ok(run, 5);
  CHECK(run.summary["invalid"] == 3);
  CHECK(run.summary["errors_by_kind"].contains("invalid_json"));
}

TEST_CASE("hostile dataset: a JSON value that is not an object is an invalid_json row", "[integration][hostile]") {
  Run run = run_sim("[1, 2]\n\"just a string\"\n42\nnull\ntrue\n" + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 6);
  check_invalid(run, 1, "invalid_json", {"expected a JSON object, got an array", "each line must be one object"});
  check_invalid(run, 2, "invalid_json", {"got a string"});
  check_invalid(run, 3, "invalid_json", {"got a number"});
  check_invalid(run, 4, "invalid_json", {"got a null"});
  check_invalid(run, 5, "invalid_json", {"got a boolean"});
  check_ok(run, 6);
}

TEST_CASE("hostile dataset: a field of the wrong type is an invalid_field row", "[integration][hostile]") {
  Run run = run_sim(R"({"output": 42, "criteria": "c"})" "\n"
                    R"({"id": "q2", "output": "x", "prompt": ["a"], "criteria": "c"})" "\n"
                    R"({"output": "x", "metadata": "team-a", "criteria": "c"})" "\n"
                    R"({"id": true, "output": "x", "criteria": "c"})" "\n"
                    R"({"output": "x", "response": "y", "criteria": "c"})" "\n"
                    R"({"output": "x", "criteria": 5})" "\n");
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 6);
  check_invalid(run, 1, "invalid_field", {"field \"output\" must be a string (got number)"});
  check_invalid(run, 2, "invalid_field", {"field \"prompt\" must be a string (got array)"});
  CHECK(run.by_line[2]["id"] == "q2");  // the row's own id, when it could be read
  check_invalid(run, 3, "invalid_field", {"field \"metadata\" must be an object (got string)"});
  check_invalid(run, 4, "invalid_field", {"field \"id\" must be a string or a number (got boolean)"});
  check_invalid(run, 5, "invalid_field", {"mean the same thing; keep one of them"});
  check_failed(run, 6, "invalid", "invalid_criteria");
}

TEST_CASE("hostile dataset: a row without output is a missing_field row", "[integration][hostile]") {
  Run run = run_sim(R"({"prompt": "Q", "criteria": "c"})" "\n" R"({"output": null, "criteria": "c"})" "\n"
                    R"({"prompt": "Q", "output": "A"})" "\n" + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 4);
  check_invalid(run, 1, "missing_field",
                {"missing field \"output\"", "\"response\", \"completion\" or \"actual_output\" also work",
                 "the row has \"criteria\", \"prompt\""});
  check_invalid(run, 2, "missing_field", {"field \"output\" is null"});
  check_invalid(run, 3, "missing_field", {"missing field \"criteria\"", "set \"criteria\" in the config file"});
  check_ok(run, 4);
}

TEST_CASE("hostile dataset: empty criteria are an invalid_criteria row", "[integration][hostile]") {
  Run run = run_sim(row("x", "[]") + row("x", "{}") + row("x", "\"\"") + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 4);
  for (int line = 1; line <= 3; ++line) {
    check_invalid(run, line, "invalid_criteria", {"\"criteria\" is empty", "give at least one criterion"});
  }
  check_ok(run, 4);
}

TEST_CASE("hostile dataset: an unknown criterion type is an invalid_criteria row", "[integration][hostile]") {
  Run run = run_sim(row("x", R"([{"name": "hash", "type": "sha256", "value": "x"}])") +
                    row("x", R"([{"name": "t", "rubric": "r", "treshold": 3}])"));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 2);
  check_invalid(run, 1, "invalid_criteria",
                {"criterion \"hash\": unknown \"type\" \"sha256\"", "use \"contains\", \"not_contains\""});
  check_invalid(run, 2, "invalid_criteria", {"criterion \"t\": unknown key \"treshold\""});
}

TEST_CASE("hostile dataset: an invalid regex is an invalid_regex row", "[integration][hostile]") {
  Run run = run_sim(row("x", R"([{"name": "r", "type": "regex", "value": "(unclosed"}])") +
                    row("x", R"([{"name": "backref", "type": "regex", "value": "(a)\\1"}])") +
                    row("x", R"([{"name": "big", "type": "regex", "value": ")" + std::string(3000, 'a') + R"("}])") +
                    row("aaaa", R"([{"name": "ok", "type": "regex", "value": "^(a+)+$"}])"));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 4);
  check_invalid(run, 1, "invalid_regex", {"criterion \"r\": \"value\" \"(unclosed\" is not a valid regex"});
  check_invalid(run, 2, "invalid_regex", {"criterion \"backref\"", "no backreferences"});
  check_invalid(run, 3, "invalid_criteria", {"criterion \"big\": \"value\" regex is 3000 bytes"});
  check_ok(run, 4);  // a catastrophic-backtracking pattern is fine for RE2
  CHECK(run.by_line[4]["pass"] == true);
  SECTION("lookaround is refused, naming the line, the criterion and what RE2 syntax lacks") {
    Run lookahead = run_sim(row("x", R"x([{"name": "ahead", "type": "regex", "value": "Paris(?= France)"}])x"));
    REQUIRE(lookahead.result_lines == 1);
    check_invalid(lookahead, 1, "invalid_regex",
                  {"criterion \"ahead\"", "is not a valid regex (RE2 syntax, which has no backreferences",
                   "and no lookaround", "invalid perl operator: (?="});
  }
}

// The verdicts the old step budget and size limit invented ("too complex", "too long for the
// regex check", score 0) are now the true answers, computed in linear time.
TEST_CASE("hostile dataset: a regex check gives the true answer on hostile patterns and huge outputs",
          "[integration][hostile][regex]") {
  const std::string backtracking = std::string(100000, 'a') + "b";
  std::string huge;
  while (huge.size() < 3'000'000) huge += "The capital of France is Paris; it has been for centuries. ";
  const auto criteria = [](const std::string& pattern) {
    return json::array({{{"name", "r"}, {"type", "regex"}, {"value", pattern}}}).dump();
  };
  const auto started = std::chrono::steady_clock::now();
  Run run = run_sim(row(backtracking, criteria("(a+)+$")) + row(backtracking, criteria("^(a+)+b$")) +
                    row(huge, criteria("Paris; it has")) + row(huge, criteria(R"(\b(19|20)\d{2}\b)")) +
                    row(huge + "1987", criteria(R"(\b(19|20)\d{2}$)")));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(run.result_lines == 5);
  const std::vector<bool> expected = {false, true, true, false, true};
  for (std::int64_t line = 1; line <= 5; ++line) {
    const json& result = run.by_line.at(line);
    INFO("line " << line << ": " << result.dump().substr(0, 400));
    CHECK(result["status"] == "ok");
    CHECK(result["criteria"]["r"]["pass"] == expected[static_cast<std::size_t>(line - 1)]);
    CHECK(result["score"] == (expected[static_cast<std::size_t>(line - 1)] ? 1.0 : 0.0));
    const std::string reason = result["criteria"]["r"]["reason"];
    CHECK(reason.rfind(expected[static_cast<std::size_t>(line - 1)] ? "output matches /" : "output does not match /", 0) == 0);
  }
  CHECK(run.process.exit_code == 0);  // no row error or invalid
  CHECK(seconds < 30.0);  // 12 MB of outputs, read, checked and written back
}

TEST_CASE("hostile dataset: invalid UTF-8 is an invalid_utf8 row", "[integration][hostile]") {
  Run run = run_sim("{\"output\": \"caf\xE9\", \"criteria\": \"c\"}\n"s +   // Latin-1 é
                    "\xFF{}\n" +                                            // a stray byte
                    "{\"output\": \"\xED\xA0\x80\", \"criteria\": \"c\"}\n" +  // an encoded surrogate
                    row("café"));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 4);
  check_invalid(run, 1, "invalid_utf8", {"not valid UTF-8 (byte 0xE9 at byte 16)", "re-save the file as UTF-8"});
  check_invalid(run, 2, "invalid_utf8", {"byte 0xFF at byte 1"});
  check_invalid(run, 3, "invalid_utf8", {"byte 0xED at byte 13"});
  check_ok(run, 4);
  // Every result line is valid UTF-8 JSON (read_results parsed them), messages included.
}

TEST_CASE("hostile dataset: a UTF-8 BOM at the start is ignored", "[integration][hostile]") {
  Run run = run_sim("\xEF\xBB\xBF" + row("Paris.") + row("Lyon."));
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 2);
  check_ok(run, 1);
  check_ok(run, 2);
  SECTION("a file holding only a BOM has no rows") {
    Run bom_only = run_sim("\xEF\xBB\xBF");
    CHECK(bom_only.process.exit_code == 0);
    CHECK(bom_only.result_lines == 0);
  }
}

TEST_CASE("hostile dataset: CRLF line ends are read as line ends", "[integration][hostile]") {
  auto crlf = [](std::string line) { return line.substr(0, line.size() - 1) + "\r\n"; };
  Run run = run_sim(crlf(row("Paris.", R"([{"name": "exact", "type": "equals", "value": "Paris."}])")) +
                    crlf(row("Lyon.")) + "\r\n");
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 3);
  check_ok(run, 1);
  CHECK(run.by_line[1]["criteria"]["exact"]["pass"] == true);
  check_ok(run, 2);
  check_invalid(run, 3, "blank_line", {"blank line"});  // "\r\n" alone is a blank line, not lost
}

TEST_CASE("hostile dataset: blank lines are blank_line rows, never skipped silently", "[integration][hostile]") {
  Run run = run_sim(row("Paris.") + "\n" + "   \t \n" + row("Lyon.") + "\n");
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 5);
  check_ok(run, 1);
  check_invalid(run, 2, "blank_line", {"blank line; every line must hold one JSON object, so remove it"});
  check_invalid(run, 3, "blank_line", {"blank line"});
  check_ok(run, 4);
  check_invalid(run, 5, "blank_line", {"blank line"});  // a trailing empty line is a line too
  CHECK(run.summary["rows"] == 5);
}

TEST_CASE("hostile dataset: a NUL byte is an invalid_json row that says where", "[integration][hostile]") {
  const std::string inside = "{\"output\": \"a\0b\", \"criteria\": \"c\"}\n"s;
  const std::string outside = "{\"output\": \"ab\", \0\"criteria\": \"c\"}\n"s;
  const std::string utf16 = "\xFF\xFE{\0\"\0o\0\"\0:\0 \0\"\0x\0\"\0}\0\r\0\n"s;  // a UTF-16LE file's first line
  Run run = run_sim(inside + outside + "\0\n"s + utf16 + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 5);
  check_invalid(run, 1, "invalid_json", {"contains a NUL byte at byte 14", "re-save the file as UTF-8"});
  check_invalid(run, 2, "invalid_json", {"contains a NUL byte at byte 18"});
  check_invalid(run, 3, "invalid_json", {"contains a NUL byte at byte 1;"});
  check_invalid(run, 4, "invalid_json", {"contains a NUL byte at byte 4", "(a UTF-16 file looks like this)"});
  check_ok(run, 5);
}

TEST_CASE("hostile dataset: a 100 MB line is a line_too_long row and is never held in memory",
          "[integration][hostile]") {
  TempDir dir;
  const std::string dataset = dir.file("huge.jsonl");
  const std::string output = dir.file("out.jsonl");
  constexpr std::size_t kLineBytes = 100'000'000;
  {
    std::ofstream file(dataset, std::ios::binary);
    file << row("Paris.");
    const std::string head = R"({"criteria": "c", "output": ")";
    const std::string tail = "\"}\n";
    const std::string chunk(1 << 20, 'x');
    file << head;
    for (std::size_t left = kLineBytes - head.size() - 2; left > 0;) {
      const std::size_t n = std::min(left, chunk.size());
      file.write(chunk.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
    file << tail << row("Lyon.");
    REQUIRE(file.good());
  }
  // Memory is compared with the same run over a small file, so that the check holds in a
  // sanitizer build too. The reader holds at most the limit of a line (twice that for a moment
  // while its buffer grows); reading the whole line would take 100 MB more, and in practice
  // twice that.
  write_file(dir.file("small.jsonl"), row("Paris.") + row("Lyon."));
  const long baseline_kib =
      run_measured({llmeval::testing::llmeval_binary(), "run", dir.file("small.jsonl"), "-p", "sim", "-q", "-o", output}, dir)
          .peak_rss_kib;
  SECTION("the default limit, 16 MiB") {
    MeasuredRun run = run_measured({llmeval::testing::llmeval_binary(), "run", dataset, "-p", "sim", "-q", "-o", output}, dir);
    INFO(run.err);
    CHECK(run.exit_code == 1);
    auto results = read_lines(output);
    REQUIRE(results.size() == 3);
    std::map<std::int64_t, json> by_line;
    for (const auto& line : results) by_line[json::parse(line)["line"].get<std::int64_t>()] = json::parse(line);
    CHECK(by_line[1]["status"] == "ok");
    CHECK(by_line[2]["status"] == "invalid");
    CHECK(by_line[2]["error"]["kind"] == "line_too_long");
    CHECK(by_line[2]["error"]["message"] ==
          "line 2: line is 100000000 bytes, over the limit of 16777216 bytes; shorten or split the row");
    CHECK(by_line[2]["score"].is_null());
    CHECK(by_line[3]["status"] == "ok");
    INFO("peak RSS " << run.peak_rss_kib << " KiB, " << baseline_kib << " KiB for two short rows");
    CHECK(run.peak_rss_kib - baseline_kib < 64 * 1024);
    CHECK(run.elapsed < std::chrono::seconds(20));
  }
  SECTION("a lower --max-line-bytes keeps memory lower still") {
    MeasuredRun run = run_measured(
        {llmeval::testing::llmeval_binary(), "run", dataset, "-p", "sim", "-q", "-o", output, "--max-line-bytes", "1048576"}, dir);
    INFO(run.err);
    CHECK(run.exit_code == 1);
    auto results = read_lines(output);
    REQUIRE(results.size() == 3);
    CHECK(read_file(output).find("over the limit of 1048576 bytes") != std::string::npos);
    INFO("peak RSS " << run.peak_rss_kib << " KiB, " << baseline_kib << " KiB for two short rows");
    CHECK(run.peak_rss_kib - baseline_kib < 8 * 1024);
  }
}

TEST_CASE("hostile dataset: --max-line-bytes sets the longest line accepted", "[integration][hostile]") {
  const std::string long_row = row(std::string(2000, 'a'));
  Run run = run_sim(row("Paris.") + long_row + row("Lyon."), {"--max-line-bytes", "1024"});
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 3);
  check_invalid(run, 2, "line_too_long",
                {"line is " + std::to_string(long_row.size() - 1) + " bytes, over the limit of 1024 bytes",
                 "shorten or split the row"});
  check_ok(run, 3);
}

TEST_CASE("hostile dataset: JSON nested 100,000 levels deep is refused without a stack overflow",
          "[integration][hostile]") {
  std::string deep_object = R"({"output": "x", "criteria": "c", "metadata": )";
  for (int i = 0; i < 100000; ++i) deep_object += R"({"a":)";
  deep_object += "1" + std::string(100000, '}') + "}\n";
  Run run = run_sim(std::string(100000, '[') + std::string(100000, ']') + "\n" + deep_object +
                    std::string(100000, '[') + "\n" + row("Paris."));
  CHECK(run.process.exit_code == 1);  // not 139 (SIGSEGV)
  REQUIRE(run.result_lines == 4);
  for (int line = 1; line <= 3; ++line) {
    check_invalid(run, line, "invalid_json", {"JSON nested too deeply (more than 512 levels", "flatten the row"});
  }
  check_ok(run, 4);
}

TEST_CASE("hostile dataset: a repeated id is a duplicate_id row naming the first line", "[integration][hostile]") {
  Run run = run_sim(R"({"id": "q1", "output": "Paris.", "criteria": "c"})" "\n"
                    R"({"id": "q2", "output": "Paris.", "criteria": "c"})" "\n"
                    R"({"id": "q1", "output": "Lyon.", "criteria": "c"})" "\n"
                    R"({"id": 7, "output": "Paris.", "criteria": "c"})" "\n"
                    R"({"id": 7.0, "output": "Paris.", "criteria": "c"})" "\n"
                    R"({"id": "7", "output": "Paris.", "criteria": "c"})" "\n"
                    R"({"output": "Paris.", "criteria": "c"})" "\n"
                    R"({"id": "q1", "output": "Nice.", "criteria": "c"})" "\n");
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 8);
  check_ok(run, 1);  // the first row with an id is judged
  check_ok(run, 2);
  check_invalid(run, 3, "duplicate_id",
                {"id \"q1\" is already used by line 1", "give this row another id, or delete it if it is a copy"});
  CHECK(run.by_line[3]["id"] == "q1");
  check_ok(run, 4);
  check_invalid(run, 5, "duplicate_id", {"id 7.0 is already used by line 4"});  // 7.0 is the number 7
  check_ok(run, 6);   // the string "7" is another id
  check_ok(run, 7);   // no id: the line number is its id, and it takes no part in the check
  CHECK(run.by_line[7]["id"] == 7);
  check_invalid(run, 8, "duplicate_id", {"already used by line 1"});
  CHECK(run.summary["errors_by_kind"].contains("duplicate_id"));
}

TEST_CASE("hostile dataset: an empty file is a run of 0 rows that exits 0", "[integration][hostile]") {
  Run run = run_sim("");
  CHECK(run.process.exit_code == 0);
  CHECK(run.result_lines == 0);
  CHECK(run.summary["rows"] == 0);
  CHECK(run.summary["pass_rate"].is_null());
  SECTION("a file holding one newline has one (blank) line") {
    Run newline = run_sim("\n");
    CHECK(newline.process.exit_code == 1);
    REQUIRE(newline.result_lines == 1);
    check_invalid(newline, 1, "blank_line", {"blank line"});
  }
}

TEST_CASE("hostile dataset: a last line without a trailing newline is still judged", "[integration][hostile]") {
  std::string last = row("Lyon.");
  last.pop_back();
  Run run = run_sim(row("Paris.") + last);
  CHECK(run.process.exit_code == 0);
  REQUIRE(run.result_lines == 2);
  check_ok(run, 2);
  SECTION("a bad last line without a newline is reported too") {
    Run bad = run_sim(row("Paris.") + R"({"output": "x"})");
    CHECK(bad.process.exit_code == 1);
    REQUIRE(bad.result_lines == 2);
    check_failed(bad, 2, "invalid", "missing_field");
  }
}

TEST_CASE("hostile dataset: a directory, a missing or an unreadable file is exit 2 with a clear message",
          "[integration][hostile]") {
  TempDir dir;
  const std::string output = dir.file("out.jsonl");
  SECTION("a directory") {
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", dir.path().string(), "-p", "sim", "-o", output});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("llmeval: error: dataset " + dir.path().string() + " is a directory; pass a .jsonl file") !=
          std::string::npos);
  }
  SECTION("a missing file") {
    auto r = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("nope.jsonl"), "-p", "sim", "-o", output});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cannot read dataset " + dir.file("nope.jsonl") + ": No such file or directory") !=
          std::string::npos);
  }
  SECTION("an unreadable file") {
    const std::string path = dir.file("locked.jsonl");
    write_file(path, row("Paris."));
    REQUIRE(chmod(path.c_str(), 0) == 0);
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", path, "-p", "sim", "-o", "/dev/null"};
    if (geteuid() == 0) {
      // Root reads a file whatever its mode, so the run goes as `nobody`, who may only pass
      // through the directory to the file.
      REQUIRE(chmod(dir.path().c_str(), 0711) == 0);
      argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
      bool can_drop = false;
      try {
        can_drop = run_process({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", llmeval::testing::llmeval_binary(),
                                "--version"})
                       .exit_code == 0;
      } catch (const std::runtime_error&) {  // no setpriv (util-linux)
      }
      if (!can_drop) {
        WARN("running as root and `nobody` cannot run " << llmeval::testing::llmeval_binary()
                                                         << " through setpriv: the unreadable-file case is skipped "
                                                            "(chmod 000 does not stop root)");
        return;
      }
    }
    auto r = run_process(argv);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("llmeval: error: cannot read dataset " + path + ": Permission denied") != std::string::npos);
  }
}

// ---- hostile providers: a retry or a clear `error` row, never a crash or an invented score ----

TEST_CASE("hostile provider: a reply that is not JSON is retried, then a provider_error row",
          "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  Run run = run_llmeval(provider_args(fake, dir), row("[[fake:body=not_json]] Paris.") + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 2);
  check_failed(run, 1, "error", "provider_error");
  CHECK(message_of(run, 1).find("provider openai returned a reply that is not JSON (HTTP 200)") != std::string::npos);
  check_ok(run, 2);
  CHECK(requests_made(fake) == 2 + 1);  // retried once
}

TEST_CASE("hostile provider: a truncated body is retried, then a provider_error row", "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  SECTION("the connection closes before the Content-Length is read") {
    Run run = run_llmeval(provider_args(fake, dir), row("[[fake:body=truncated]] Paris.") + row("Paris."));
    CHECK(run.process.exit_code == 1);
    REQUIRE(run.result_lines == 2);
    check_failed(run, 1, "error", "provider_error");
    CHECK(message_of(run, 1).find("reply cut short") != std::string::npos);
    check_ok(run, 2);
    CHECK(requests_made(fake) == 2 + 1);
  }
  SECTION("the JSON stops in the middle") {
    Run run = run_llmeval(provider_args(fake, dir), row("[[fake:body=cut]] Paris.") + row("Paris."));
    CHECK(run.process.exit_code == 1);
    REQUIRE(run.result_lines == 2);
    check_failed(run, 1, "error", "provider_error");
    CHECK(message_of(run, 1).find("returned a reply that is not JSON") != std::string::npos);
    check_ok(run, 2);
    CHECK(requests_made(fake) == 2 + 1);
  }
}

TEST_CASE("hostile provider: a 50 MB body is dropped at the 8 MiB cap and never held in memory", "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  struct Case {
    std::string api;
    std::string body;  // huge: refused by its Content-Length; huge_chunked: after 8 MiB
  };
  for (const Case& c : {Case{"openai", "huge"}, Case{"anthropic", "huge"}, Case{"openai", "huge_chunked"}}) {
    INFO(c.api << " " << c.body);
    const std::string output = dir.file("out.jsonl");
    std::vector<std::string> args = provider_args(fake, dir);
    if (c.api == "anthropic") args[1] = "anthropic:judge-model@" + fake.base_url_anthropic();
    args.insert(args.begin(), {llmeval::testing::llmeval_binary(), "run", dir.file("d.jsonl"), "-q", "-o", output});
    // Memory is compared with the same run over rows with ordinary replies.
    write_file(dir.file("d.jsonl"), row("Paris.") + row("Lyon."));
    const long baseline_kib = run_measured(args, dir, {{"ANTHROPIC_API_KEY", "k"}}).peak_rss_kib;
    write_file(dir.file("d.jsonl"), row("[[fake:body=" + c.body + "]] Paris.") + row("Paris."));
    fake.reset_stats();
    MeasuredRun run = run_measured(args, dir, {{"ANTHROPIC_API_KEY", "k"}});
    INFO(run.err);
    CHECK(run.exit_code == 1);
    Run results = read_results(ProcessResult{}, output, dir.file("none.json"));
    REQUIRE(results.result_lines == 2);
    check_failed(results, 1, "error", "provider_error");
    CHECK(message_of(results, 1).find("reply body over the 8 MiB (8388608 bytes) limit, so it was dropped; a judge "
                                      "reply is a few KiB") != std::string::npos);
    check_ok(results, 2);
    CHECK(requests_made(fake, c.api == "openai" ? "/v1/chat/completions" : "/v1/messages") == 2 + 1);  // retried
    INFO("peak RSS " << run.peak_rss_kib << " KiB, " << baseline_kib << " KiB with ordinary replies");
    // Reading both 50 MB replies would take over 100 MB; each attempt keeps at most 8 MiB (and
    // its buffer's growth), and a Content-Length over the cap is refused before any of it.
    CHECK(run.peak_rss_kib - baseline_kib < 48 * 1024);
    CHECK(run.elapsed < std::chrono::seconds(10));
  }
}

TEST_CASE("hostile provider: a wrong content type is judged by the body, not the header", "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  // A valid completion under text/plain or text/html (self-hosted servers and proxies do this)
  // is accepted; an HTML page is not a completion whatever its status, and is retried.
  Run run = run_llmeval(provider_args(fake, dir), row("[[fake:content_type=text/plain]] Paris.") +
                                                      row("[[fake:content_type=text/html]] Paris.") +
                                                      row("[[fake:body=html]] Paris.") +
                                                      row("[[fake:status=502]] [[fake:body=html]] Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 4);
  check_ok(run, 1);
  check_ok(run, 2);
  check_failed(run, 3, "error", "provider_error");
  CHECK(message_of(run, 3).find("not JSON (HTTP 200): an HTML page (from a proxy or gateway in front of the API?): "
                                "200 OK nginx/1.25.3") != std::string::npos);
  check_failed(run, 4, "error", "provider_error");
  CHECK(message_of(run, 4).find("failed with a server error (HTTP 502): an HTML page (from a proxy or gateway in "
                                "front of the API?): 502 Bad Gateway nginx/1.25.3") != std::string::npos);
  CHECK(message_of(run, 4).find("<html>") == std::string::npos);
  CHECK(requests_made(fake) == 1 + 1 + 2 + 2);  // both HTML pages retried once, like any 5xx
}

TEST_CASE("hostile provider: a 200 carrying an error object is retried, then a provider_error row",
          "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  Run run = run_llmeval(provider_args(fake, dir), row("[[fake:body=error_object]] Paris.") + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 2);
  check_failed(run, 1, "error", "provider_error");
  CHECK(message_of(run, 1).find("provider openai returned an error instead of a completion (HTTP 200): model "
                                "overloaded") != std::string::npos);
  check_ok(run, 2);
  CHECK(requests_made(fake) == 2 + 1);
}

TEST_CASE("hostile provider: a judge score out of range is judge_unparseable after one repair, never clamped",
          "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  Run run = run_llmeval(provider_args(fake, dir), row("[[fake:reply=out_of_range]] Paris.") +
                                                      row("[[fake:reply=out_of_range]] Paris.",
                                                          R"([{"name": "ten", "rubric": "r", "scale": "1-10"}])") +
                                                      row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 3);
  check_failed(run, 1, "error", "judge_unparseable");
  CHECK(message_of(run, 1).find("score 10 is outside the 1-5 scale") != std::string::npos);
  check_failed(run, 2, "error", "judge_unparseable");
  CHECK(message_of(run, 2).find("score 15 is outside the 1-10 scale") != std::string::npos);
  check_ok(run, 3);
  CHECK(requests_made(fake) == 2 + 2 + 1);  // one repair attempt each, no more
}

TEST_CASE("hostile provider: a judge reply without a score is judge_unparseable, never a pass",
          "[integration][hostile]") {
  FakeProviderServer fake;
  TempDir dir;
  // The fake's reply says "pass": true with no score: pass comes only from a score.
  Run run = run_llmeval(provider_args(fake, dir), row("[[fake:reply=no_score]] Paris.") +
                                                      row("[[fake:reply=unparseable]] Paris.") + row("Paris."));
  CHECK(run.process.exit_code == 1);
  REQUIRE(run.result_lines == 3);
  check_failed(run, 1, "error", "judge_unparseable");
  CHECK(message_of(run, 1).find("the reply contains no JSON object with a \"score\"") != std::string::npos);
  check_failed(run, 2, "error", "judge_unparseable");
  check_ok(run, 3);
  CHECK(requests_made(fake) == 2 + 2 + 1);
}
