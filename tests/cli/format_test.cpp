// `run --format csv|junit` and `report --format csv|junit`: the real binary, golden files under
// tests/data/golden/, and the sim provider for whole runs. XML validity is checked with
// Python's parser (python3 is part of the test dependencies, see tests/bench).
#include <catch2/catch.hpp>

#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::ProcessResult;
using llmeval::testing::read_file;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

const std::string kGolden = std::string(llmeval::testing::source_dir()) + "/tests/data/golden/";

ProcessResult run_llmeval(std::vector<std::string> args) {
  args.insert(args.begin(), llmeval::testing::llmeval_binary());
  return run_process(args, "", {}, std::chrono::seconds(120));
}

// Parses the JUnit file with Python's ElementTree and prints
// "tests failures errors skipped testcases" from the <testsuite> and the testcase count.
std::string junit_counts(const std::string& path) {
  auto python = run_process({"python3", "-c",
                             "import sys, xml.etree.ElementTree as E\n"
                             "s = E.parse(sys.argv[1]).getroot().find('testsuite')\n"
                             "print(s.get('tests'), s.get('failures'), s.get('errors'), s.get('skipped'),"
                             " len(s.findall('testcase')))",
                             path});
  INFO(python.err);
  REQUIRE(python.exit_code == 0);
  return python.out;
}

// Rows in a CSV file (header excluded), counted by Python's csv module (quoted newlines).
std::string csv_rows(const std::string& path) {
  auto python = run_process({"python3", "-c",
                             "import sys, csv\n"
                             "rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))\n"
                             "assert rows[0][:3] == ['id', 'line', 'status'], rows[0]\n"
                             "assert all(len(r) == len(rows[0]) for r in rows)\n"
                             "print(len(rows) - 1)",
                             path});
  INFO(python.err);
  REQUIRE(python.exit_code == 0);
  return python.out;
}

// n rows for the sim judge, plus one line that is not JSON (an invalid row).
std::string dataset(int n) {
  std::string text;
  for (int i = 1; i <= n; ++i) {
    text += nlohmann::json{{"id", "row-" + std::to_string(i)},
                           {"prompt", "What is " + std::to_string(i) + " + 1?"},
                           {"output", std::to_string(i + 1)},
                           {"criteria", {{"correctness", "The answer is right."}, {"tone", "Polite & <short>."}}}}
                .dump() +
            "\n";
  }
  return text + "{not json\n";
}

}  // namespace

TEST_CASE("report --format converts the golden results byte for byte", "[format][cli]") {
  TempDir dir;
  SECTION("csv") {
    auto result = run_llmeval({"report", kGolden + "results.jsonl", "--format", "csv", "-o", dir.file("out.csv")});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(read_file(dir.file("out.csv")) == read_file(kGolden + "results.csv"));
    CHECK(csv_rows(dir.file("out.csv")) == "6\n");
  }
  SECTION("junit") {
    auto result = run_llmeval({"report", kGolden + "results.jsonl", "--format", "junit", "-o", dir.file("out.xml")});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(read_file(dir.file("out.xml")) == read_file(kGolden + "results.junit.xml"));
    CHECK(junit_counts(dir.file("out.xml")) == "6 1 3 0 6\n");
  }
  SECTION("to stdout") {
    auto result = run_llmeval({"report", kGolden + "results.jsonl", "--format", "csv"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out == read_file(kGolden + "results.csv"));
  }
}

TEST_CASE("report refuses what it cannot do with exit 2", "[format][cli]") {
  TempDir dir;
  SECTION("an unknown format") {
    auto result = run_llmeval({"report", kGolden + "results.jsonl", "--format", "xlsx"});
    CHECK(result.exit_code == 2);
  }
  SECTION("a line that is not a result row") {
    write_file(dir.file("bad.jsonl"), read_file(kGolden + "results.jsonl") + "{\"id\":\"torn\",\"li");
    auto result = run_llmeval({"report", dir.file("bad.jsonl"), "--format", "junit", "-o", dir.file("out.xml")});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("bad.jsonl:7: not a result row") != std::string::npos);
  }
  SECTION("an unknown format") {
    auto result = run_llmeval({"report", kGolden + "results.jsonl", "--format", "html"});
    CHECK(result.exit_code == 2);
  }
}

TEST_CASE("run --format junit and csv write one row per dataset line", "[format][cli]") {
  TempDir dir;
  write_file(dir.file("set.jsonl"), dataset(40));
  SECTION("junit") {
    auto result = run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", "junit", "-o",
                           dir.file("out.xml")});
    INFO(result.err);
    CHECK(result.exit_code == 1);  // the invalid line
    std::string counts = junit_counts(dir.file("out.xml"));
    CHECK(counts.rfind("41 ", 0) == 0);
    CHECK(counts.find(" 1 0 41\n") != std::string::npos);  // errors skipped testcases
    std::string xml = read_file(dir.file("out.xml"));
    CHECK(xml.find("classname=\"llmeval.set\"") != std::string::npos);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 2);  // no temporary left
  }
  SECTION("csv") {
    auto result =
        run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", "csv", "-o", dir.file("out.csv")});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(csv_rows(dir.file("out.csv")) == "41\n");
  }
  SECTION("junit to stdout") {
    auto result = run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", "junit"});
    CHECK(result.exit_code == 1);
    write_file(dir.file("stdout.xml"), result.out);
    CHECK(junit_counts(dir.file("stdout.xml")).rfind("41 ", 0) == 0);
  }
}

TEST_CASE("run --fail-under gates csv and junit runs like jsonl ones", "[format][cli]") {
  TempDir dir;
  std::string text = dataset(20);
  write_file(dir.file("set.jsonl"), text.substr(0, text.size() - std::string("{not json\n").size()));
  for (std::string format : {"jsonl", "csv", "junit"}) {
    INFO(format);
    auto low = run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", format, "-o",
                        dir.file("out." + format), "--fail-under", "0"});
    CHECK(low.exit_code == 0);
    auto high = run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", format, "-o",
                         dir.file("out." + format), "--fail-under", "1", "--summary", dir.file("s.json")});
    auto summary = nlohmann::json::parse(read_file(dir.file("s.json")));
    CHECK(high.exit_code == (summary.at("pass_rate").get<double>() < 1.0 ? 1 : 0));
  }
}

TEST_CASE("run --resume needs --format jsonl", "[format][cli]") {
  TempDir dir;
  write_file(dir.file("set.jsonl"), dataset(2));
  auto result = run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", "csv", "-o",
                         dir.file("out.csv"), "--resume"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("--resume needs --format jsonl") != std::string::npos);
}

TEST_CASE("run --format junit keeps the XML valid whatever the reasons hold", "[format][cli]") {
  // Control characters and markup in ids; the sim judge's reasons echo nothing, so the golden
  // test and the unit tests cover hostile reasons.
  TempDir dir;
  write_file(dir.file("set.jsonl"),
             "{\"id\":\"<a&b>\\u0001\\u001b\",\"output\":\"x\",\"criteria\":\"c\"}\n"
             "{\"id\":\"=cmd|' /C calc'!A0\",\"output\":\"\\u0007\",\"criteria\":\"c\"}\n");
  auto result = run_llmeval({"run", dir.file("set.jsonl"), "-p", "sim", "-q", "--format", "junit", "-o",
                         dir.file("out.xml")});
  INFO(result.err);
  CHECK(junit_counts(dir.file("out.xml")).rfind("2 ", 0) == 0);
}
