#include "core/dataset/jsonl_reader.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/build_paths.h"

using llmeval::dataset::CheckType;
using llmeval::dataset::EvalItem;
using llmeval::dataset::InvalidLine;
using llmeval::dataset::JsonlReader;
using llmeval::dataset::parse_row;
using llmeval::dataset::ReaderOptions;
using llmeval::dataset::ReadItem;
using llmeval::dataset::Scale;
using nlohmann::json;

namespace {

using FilePtr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

FilePtr temp_file_with(const std::string& content) {
  FilePtr file(std::tmpfile(), &std::fclose);
  REQUIRE(file);
  REQUIRE(std::fwrite(content.data(), 1, content.size(), file.get()) == content.size());
  std::rewind(file.get());
  return file;
}

std::vector<ReadItem> read_all(std::FILE* file, ReaderOptions options = {}) {
  JsonlReader reader(file, std::move(options));
  std::vector<ReadItem> items;
  while (auto item = reader.next()) items.push_back(std::move(*item));
  CHECK_FALSE(reader.next());  // stays at the end
  return items;
}

std::vector<ReadItem> read_all(const std::string& content, ReaderOptions options = {}) {
  FilePtr file = temp_file_with(content);
  return read_all(file.get(), std::move(options));
}

EvalItem item_of(const ReadItem& read) {
  if (const auto* invalid = std::get_if<InvalidLine>(&read)) FAIL("invalid: " << invalid->message);
  return std::get<EvalItem>(read);
}

InvalidLine invalid_of(const ReadItem& read) {
  if (!std::holds_alternative<InvalidLine>(read)) FAIL("expected an invalid line");
  return std::get<InvalidLine>(read);
}

ReadItem parse(const std::string& line, const ReaderOptions& options = {}) {
  return parse_row(line, 7, options);
}

const std::string kCriteria = R"("criteria": "Correct.")";
constexpr char kNulRow[] = "{\"output\": \"a\0b\", \"criteria\": \"c\"}";

}  // namespace

TEST_CASE("parse_row reads every field and alias", "[dataset]") {
  struct Case {
    const char* key;
    std::string EvalItem::*field;
  };
  const Case cases[] = {
      {"prompt", &EvalItem::prompt},        {"input", &EvalItem::prompt},
      {"question", &EvalItem::prompt},      {"output", &EvalItem::output},
      {"response", &EvalItem::output},      {"completion", &EvalItem::output},
      {"actual_output", &EvalItem::output}, {"reference", &EvalItem::reference},
      {"expected", &EvalItem::reference},   {"expected_output", &EvalItem::reference},
      {"ideal", &EvalItem::reference},      {"context", &EvalItem::context},
  };
  for (const Case& c : cases) {
    INFO(c.key);
    json row = {{c.key, "text é"}, {"criteria", "Correct."}};
    if (!row.contains("output") && !row.contains("response") && !row.contains("completion") &&
        !row.contains("actual_output")) {
      row["output"] = "answer";
    }
    const EvalItem& item = item_of(parse(row.dump()));
    CHECK(item.*c.field == "text é");
  }
}

TEST_CASE("parse_row fills a full row and defaults the rest", "[dataset]") {
  SECTION("full row") {
    const EvalItem& item = item_of(parse(R"({"id": "q1", "prompt": "P", "output": "O", "reference": "R",
      "context": "C", "metadata": {"team": "support", "n": [1, 2]}, "criteria": {"correctness": "Right."}})"));
    CHECK(item.id == "q1");
    CHECK(item.line == 7);
    CHECK(item.prompt == "P");
    CHECK(item.output == "O");
    CHECK(item.reference == "R");
    CHECK(item.context == "C");
    CHECK(item.metadata == json({{"team", "support"}, {"n", {1, 2}}}));
    REQUIRE(item.criteria.size() == 1);
    CHECK(item.criteria[0].name == "correctness");
  }
  SECTION("minimal row: no id means the line number, a number") {
    const EvalItem& item = item_of(parse(R"({"output": "O", )" + kCriteria + "}"));
    CHECK(item.id == json(7));
    CHECK(item.id.is_number_integer());
    CHECK(item.prompt.empty());
    CHECK(item.reference.empty());
    CHECK(item.context.empty());
    CHECK(item.metadata == json::object());
  }
  SECTION("numeric ids, null optional fields and unknown keys") {
    CHECK(item_of(parse(R"({"id": 12, "output": "O", )" + kCriteria + "}")).id == 12);
    CHECK(item_of(parse(R"({"id": 1.5, "output": "O", )" + kCriteria + "}")).id == 1.5);
    const EvalItem& item =
        item_of(parse(R"({"id": null, "reference": null, "metadata": null, "extra": [1], "output": "O", )" +
                      kCriteria + "}"));
    CHECK(item.id == 7);
    CHECK(item.metadata == json::object());
  }
}

TEST_CASE("Rows without criteria use the configured defaults", "[dataset]") {
  ReaderOptions options;
  options.default_scale = Scale::k1to10;
  options.default_criteria = {{"correctness", "Right."}, {"tone", "Polite."}};
  const EvalItem& item = item_of(parse(R"({"output": "O"})", options));
  REQUIRE(item.criteria.size() == 2);
  CHECK(item.criteria[0].name == "correctness");
  CHECK(item.criteria[0].rubric == "Right.");
  CHECK(item.criteria[1].name == "tone");
  CHECK(item.criteria[1].scale == Scale::k1to10);
  CHECK(item.criteria[1].threshold == 7);
  CHECK(item.criteria[1].llm);

  SECTION("row criteria win and use the default scale too") {
    const EvalItem& own = item_of(parse(R"({"output": "O", "criteria": ["Short."]})", options));
    REQUIRE(own.criteria.size() == 1);
    CHECK(own.criteria[0].name == "c1");
    CHECK(own.criteria[0].scale == Scale::k1to10);
  }
  SECTION("deterministic row criteria") {
    const EvalItem& own =
        item_of(parse(R"({"output": "O", "criteria": [{"type": "max_chars", "value": 10}]})", options));
    CHECK(own.criteria[0].check == CheckType::kMaxChars);
  }
}

TEST_CASE("parse_row rejects bad rows with a kind and a message a person can act on", "[dataset]") {
  struct Case {
    std::string line;
    const char* kind;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "blank_line", "line 7: blank line"},
      {" \t \r", "blank_line", "blank line"},
      {R"({"output": "O", )", "invalid_json", "line 7: not valid JSON at column"},
      {R"({"output": tru})", "invalid_json", "invalid literal"},
      {R"({"output": "O"} {"x": 1})", "invalid_json", "not valid JSON"},
      {R"({"output": 1e999, "criteria": "c"})", "invalid_json", "line 7: not valid JSON: number overflow"},
      {R"([{"output": "O"}])", "invalid_json", "line 7: expected a JSON object, got an array"},
      {R"("just a string")", "invalid_json", "expected a JSON object, got a string"},
      {"42", "invalid_json", "got a number"},
      {"null", "invalid_json", "got a null"},
      {std::string(kNulRow, sizeof kNulRow - 1), "invalid_json", "contains a NUL byte at byte 14"},
      {"{\"output\": \"caf\xE9\", \"criteria\": \"c\"}", "invalid_utf8",
       "line 7: not valid UTF-8 (byte 0xE9 at byte 16); re-save the file as UTF-8"},
      {"{\"output\": \"\xED\xA0\x80\", \"criteria\": \"c\"}", "invalid_utf8", "not valid UTF-8"},
      {"\xFF{}", "invalid_utf8", "byte 0xFF at byte 1"},
      {R"({"output": "\ud800", "criteria": "c"})", "invalid_json", "surrogate"},
      {R"({"prompt": "P", "criteria": "c"})", "missing_field",
       "line 7: missing field \"output\" (the answer to judge; \"response\", \"completion\" or "
       "\"actual_output\" "
       "also work); the row has \"criteria\", \"prompt\""},
      {R"({"output": null, "criteria": "c"})", "missing_field", "field \"output\" is null"},
      {R"({"output": "O"})", "missing_field",
       "line 7: missing field \"criteria\" (what to judge the output on); add \"criteria\" to the row or set "
       "\"criteria\" in the config file"},
      {R"({"output": 3, "criteria": "c"})", "invalid_field",
       "line 7: field \"output\" must be a string (got number)"},
      {R"({"response": ["a"], "criteria": "c"})", "invalid_field",
       "field \"response\" must be a string (got array)"},
      {R"({"input": {"role": "user"}, "output": "O", "criteria": "c"})", "invalid_field",
       "field \"input\" must be a string (got object)"},
      {R"({"expected": 4, "output": "O", "criteria": "c"})", "invalid_field",
       "field \"expected\" must be a string"},
      {R"({"context": true, "output": "O", "criteria": "c"})", "invalid_field", "(got boolean)"},
      {R"({"metadata": "x", "output": "O", "criteria": "c"})", "invalid_field",
       "field \"metadata\" must be an object (got string)"},
      {R"({"id": true, "output": "O", "criteria": "c"})", "invalid_field",
       "field \"id\" must be a string or a number (got boolean)"},
      {R"({"id": [1], "output": "O", "criteria": "c"})", "invalid_field", "(got array)"},
      {R"({"output": "O", "response": "R", "criteria": "c"})", "invalid_field",
       "fields \"output\" and \"response\" mean the same thing; keep one of them"},
      {R"({"output": "O", "criteria": []})", "invalid_criteria", "line 7: \"criteria\" is empty"},
      {R"({"output": "O", "criteria": [{"name": "tone", "rubric": "r", "scale": "1-7"}]})",
       "invalid_criteria",
       "line 7: criterion \"tone\": \"scale\" must be \"1-5\", \"1-10\" or \"binary\" (got \"1-7\")"},
      {R"({"output": "O", "criteria": [{"type": "regex", "value": "[a"}]})", "invalid_regex",
       "criterion \"c1\": \"value\" \"[a\" is not a valid regex"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    const InvalidLine& invalid = invalid_of(parse(c.line));
    CHECK(invalid.kind == c.kind);
    CHECK(invalid.line == 7);
    CHECK_THAT(invalid.message, Catch::Contains(c.message_part));
    CHECK_NOTHROW(json(invalid.message).dump());  // always valid UTF-8
  }
}

TEST_CASE("An invalid line carries the row's id when the row had one", "[dataset]") {
  CHECK(invalid_of(parse(R"({"id": "q9", "output": 3, "criteria": "c"})")).id == "q9");
  CHECK(invalid_of(parse(R"({"id": 99, "criteria": "c"})")).id == 99);
  CHECK(invalid_of(parse(R"({"id": "q9", "output": "O", "criteria": []})")).id == "q9");
  CHECK(invalid_of(parse(R"({"id": true, "output": "O", "criteria": "c"})")).id == 7);
  CHECK(invalid_of(parse(R"({"id": "q9", )")).id == 7);
}

TEST_CASE("Absurdly deep JSON is refused without crashing", "[dataset]") {
  SECTION("100,000 levels") {
    const InvalidLine& invalid = invalid_of(parse(std::string(100000, '[') + std::string(100000, ']')));
    CHECK(invalid.kind == "invalid_json");
    CHECK_THAT(invalid.message, Catch::Contains("nested too deeply"));
  }
  SECTION("513 levels inside metadata") {
    const std::string deep = std::string(512, '[') + std::string(512, ']');
    CHECK(invalid_of(parse(R"({"output": "O", "criteria": "c", "metadata": {"x": )" + deep + "}}")).kind ==
          "invalid_json");
  }
  SECTION("brackets inside strings do not count, and 512 levels are fine") {
    const std::string deep = std::string(510, '[') + std::string(510, ']');
    const std::string brackets = std::string(2000, '[');
    const EvalItem& item = item_of(
        parse(R"({"output": ")" + brackets + R"(\"[", "criteria": "c", "metadata": {"x": )" + deep + "}}"));
    CHECK(item.output == brackets + "\"[");
  }
}

TEST_CASE("JsonlReader yields one item per line with correct line numbers", "[dataset]") {
  const std::string good = R"({"output": "O", "criteria": "c"})";
  SECTION("bad lines do not shift later line numbers") {
    auto items = read_all(good + "\n{oops\n\n" + good + "\n[1]\n" +
                          R"({"id": "x", "output": "O", "criteria": "c"})" + "\n");
    REQUIRE(items.size() == 6);
    CHECK(item_of(items[0]).line == 1);
    CHECK(invalid_of(items[1]).line == 2);
    CHECK(invalid_of(items[1]).kind == "invalid_json");
    CHECK(invalid_of(items[2]).kind == "blank_line");
    CHECK(invalid_of(items[2]).line == 3);
    CHECK(item_of(items[3]).id == 4);
    CHECK(invalid_of(items[4]).line == 5);
    CHECK(item_of(items[5]).line == 6);
    CHECK(item_of(items[5]).id == "x");
  }
  SECTION("a trailing newline does not add a line; a last line without one is still a line") {
    CHECK(read_all(good + "\n" + good + "\n").size() == 2);
    CHECK(read_all(good + "\n" + good).size() == 2);
    CHECK(item_of(read_all(good + "\n" + good)[1]).line == 2);
  }
  SECTION("blank lines, including a trailing one, are lines") {
    auto items = read_all(good + "\n\n   \n" + good + "\n\n");
    REQUIRE(items.size() == 5);
    CHECK(invalid_of(items[1]).kind == "blank_line");
    CHECK(invalid_of(items[2]).kind == "blank_line");
    CHECK(item_of(items[3]).line == 4);
    CHECK(invalid_of(items[4]).line == 5);
  }
  SECTION("empty input has no lines") {
    CHECK(read_all(std::string()).empty());
    CHECK(read_all(std::string("\xEF\xBB\xBF")).empty());
  }
  SECTION("a BOM is ignored at the start of the file, and of a line (concatenated files)") {
    auto items = read_all("\xEF\xBB\xBF" + good + "\n\xEF\xBB\xBF" + good + "\n\xEF\xBB\xBF\n");
    REQUIRE(items.size() == 3);
    CHECK(item_of(items[0]).output == "O");
    CHECK(item_of(items[1]).output == "O");
    CHECK(invalid_of(items[2]).kind == "invalid_json");
  }
  SECTION("CRLF line ends are stripped, one CR only") {
    auto items = read_all(R"({"output": "O", "criteria": "c"})"
                          "\r\n"
                          R"({"output": "O2", "criteria": "c"})"
                          "\r\n\r\n");
    REQUIRE(items.size() == 3);
    CHECK(item_of(items[0]).output == "O");
    CHECK(item_of(items[1]).output == "O2");
    CHECK(invalid_of(items[2]).kind == "blank_line");
  }
  SECTION("lines_read counts every line") {
    FilePtr file = temp_file_with(good + "\n\n" + good);
    JsonlReader reader(file.get(), {});
    while (reader.next()) {
    }
    CHECK(reader.lines_read() == 3);
  }
}

TEST_CASE("JsonlReader judges the first row with an id and marks later ones duplicate_id", "[dataset]") {
  auto items = read_all(R"({"id": "q1", "output": "a", "criteria": "c"})" "\n"   // 1: claims q1
                        R"({"id": "q2", "output": "b", "criteria": "c"})" "\n"   // 2
                        R"({"id": "q1", "output": "c", "criteria": "c"})" "\n"   // 3: duplicate of 1
                        R"({"id": 7, "output": 3, "criteria": "c"})" "\n"        // 4: bad, claims 7
                        R"({"id": 7.0, "output": "d", "criteria": "c"})" "\n"    // 5: duplicate of 4
                        R"({"id": "q2", "criteria": "c"})" "\n"                  // 6: its own error first
                        R"({"output": "e", "criteria": "c"})" "\n"               // 7: no id: id 7, not checked
                        R"({"id": null, "output": "f", "criteria": "c"})" "\n"   // 8: null: no id
                        R"({"id": "7", "output": "g", "criteria": "c"})" "\n"    // 9: a string, not 7
                        R"({"id": "q1", "output": "h", "criteria": "c"})" "\n"); // 10: still line 1's
  REQUIRE(items.size() == 10);
  CHECK(item_of(items[0]).id == "q1");
  CHECK(item_of(items[1]).id == "q2");
  const InvalidLine& third = invalid_of(items[2]);
  CHECK(third.kind == "duplicate_id");
  CHECK(third.id == "q1");
  CHECK(third.line == 3);
  CHECK_THAT(third.message, Catch::StartsWith("line 3: id \"q1\" is already used by line 1; "));
  CHECK_THAT(third.message, Catch::Contains("give this row another id"));
  CHECK(invalid_of(items[3]).kind == "invalid_field");
  CHECK(invalid_of(items[4]).kind == "duplicate_id");
  CHECK_THAT(invalid_of(items[4]).message, Catch::Contains("id 7.0 is already used by line 4"));
  CHECK(invalid_of(items[5]).kind == "missing_field");
  CHECK(item_of(items[6]).id == 7);
  CHECK(item_of(items[7]).id == 8);
  CHECK(item_of(items[8]).id == "7");
  CHECK_THAT(invalid_of(items[9]).message, Catch::Contains("already used by line 1"));

  SECTION("check_duplicate_ids false: no row is a duplicate (run --batch's spooler)") {
    ReaderOptions unchecked;
    unchecked.check_duplicate_ids = false;
    auto again = read_all(R"({"id": "q1", "output": "a", "criteria": "c"})" "\n"
                          R"({"id": "q1", "output": "b", "criteria": "c"})" "\n",
                          unchecked);
    REQUIRE(again.size() == 2);
    CHECK(item_of(again[1]).id == "q1");
  }

  SECTION("parse_row alone sees one line and checks nothing across lines") {
    CHECK(item_of(parse(R"({"id": "q1", "output": "a", "criteria": "c"})")).id == "q1");
    CHECK(item_of(parse(R"({"id": "q1", "output": "a", "criteria": "c"})")).id == "q1");
  }
}

TEST_CASE("JsonlReader reads from an in-memory stream", "[dataset]") {
  std::string content =
      "{\"input\": \"Q\", \"response\": \"A\", \"expected\": \"A\", \"criteria\": \"c\"}\n{bad";
  FilePtr file(fmemopen(content.data(), content.size(), "r"), &std::fclose);
  REQUIRE(file);
  auto items = read_all(file.get());
  REQUIRE(items.size() == 2);
  CHECK(item_of(items[0]).prompt == "Q");
  CHECK(item_of(items[0]).reference == "A");
  CHECK(invalid_of(items[1]).line == 2);
}

TEST_CASE("An over-long line is skipped without buffering it and the next line still parses", "[dataset]") {
  ReaderOptions options;
  options.max_line_bytes = 1 << 20;
  FilePtr file(std::tmpfile(), &std::fclose);
  REQUIRE(file);
  const std::string head = R"({"output": ")";
  const std::string chunk(1 << 20, 'x');
  std::fwrite(head.data(), 1, head.size(), file.get());
  for (int i = 0; i < 20; ++i) std::fwrite(chunk.data(), 1, chunk.size(), file.get());
  const std::string tail = "\", \"criteria\": \"c\"}\n{\"output\": \"next\", \"criteria\": \"c\"}\n";
  std::fwrite(tail.data(), 1, tail.size(), file.get());
  std::rewind(file.get());

  auto items = read_all(file.get(), options);
  REQUIRE(items.size() == 2);
  const InvalidLine& invalid = invalid_of(items[0]);
  CHECK(invalid.kind == "line_too_long");
  CHECK(invalid.line == 1);
  CHECK(invalid.id == 1);
  CHECK_THAT(invalid.message,
             Catch::Contains(std::to_string(head.size() + (20u << 20) + tail.find('\n')) + " bytes"));
  CHECK_THAT(invalid.message, Catch::Contains("limit of 1048576 bytes"));
  CHECK(item_of(items[1]).output == "next");
  CHECK(item_of(items[1]).line == 2);
}

TEST_CASE("The line limit counts content, not the CR or the BOM", "[dataset]") {
  ReaderOptions options;
  const std::string line = R"({"output": "O", "criteria": "c"})";
  options.max_line_bytes = line.size();
  auto items = read_all("\xEF\xBB\xBF" + line + "\r\n" + line + "x\r\n" + line, options);
  REQUIRE(items.size() == 3);
  CHECK(item_of(items[0]).line == 1);
  CHECK(invalid_of(items[1]).kind == "line_too_long");
  CHECK(item_of(items[2]).line == 3);
}

TEST_CASE("A read error ends input with an io line", "[dataset]") {
  // Reading a directory through stdio fails with EISDIR on Linux.
  FilePtr dir(std::fopen("/", "r"), &std::fclose);
  REQUIRE(dir);
  auto items = read_all(dir.get());
  REQUIRE(items.size() == 1);
  CHECK(invalid_of(items[0]).kind == "io");
  CHECK(invalid_of(items[0]).line == 1);
  CHECK_THAT(invalid_of(items[0]).message, Catch::Contains("could not read the dataset"));
}

TEST_CASE("datasets/sample.jsonl is valid from the first row to the last", "[dataset]") {
  FilePtr file(std::fopen((llmeval::testing::source_dir() + "/datasets/sample.jsonl").c_str(), "r"), &std::fclose);
  REQUIRE(file);
  auto items = read_all(file.get());
  CHECK(items.size() == 30);
  bool llm = false, check = false, string_id = false, number_id = false, line_id = false;
  for (const ReadItem& read : items) {
    const EvalItem& item = item_of(read);
    for (const auto& criterion : item.criteria) (criterion.llm ? llm : check) = true;
    string_id = string_id || item.id.is_string();
    number_id = number_id || (item.id.is_number() && item.id != item.line);
    line_id = line_id || item.id == item.line;
  }
  CHECK((llm && check && string_id && number_id && line_id));
}

TEST_CASE("tests/data/bad_lines.jsonl yields each kind of bad line", "[dataset]") {
  FilePtr file(std::fopen((llmeval::testing::source_dir() + "/tests/data/bad_lines.jsonl").c_str(), "r"), &std::fclose);
  REQUIRE(file);
  std::vector<std::string> kinds;
  for (const ReadItem& read : read_all(file.get())) {
    kinds.push_back(std::holds_alternative<EvalItem>(read) ? "ok" : invalid_of(read).kind);
  }
  const std::vector<std::string> expected = {"ok",
                                             "invalid_json",
                                             "ok",
                                             "blank_line",
                                             "invalid_json",
                                             "invalid_utf8",
                                             "missing_field",
                                             "missing_field",
                                             "invalid_field",
                                             "invalid_field",
                                             "invalid_field",
                                             "invalid_criteria",
                                             "invalid_criteria",
                                             "invalid_regex",
                                             "invalid_json",
                                             "invalid_json",
                                             "duplicate_id",
                                             "ok"};
  CHECK(kinds == expected);
}

TEST_CASE("A shard reads only its own lines, with the file's line numbers", "[dataset]") {
  std::string dataset;
  for (int i = 1; i <= 10; ++i) {
    dataset += i == 5 ? std::string("{broken\n") : R"({"id": "dup", "output": "x", "criteria": "c"})" "\n";
  }
  ReaderOptions options;
  options.shard_index = 1;
  options.shard_count = 3;
  auto items = read_all(dataset, options);
  // (line - 1) % 3 == 1: lines 2, 5, 8.
  REQUIRE(items.size() == 3);
  CHECK(std::get<EvalItem>(items[0]).line == 2);
  CHECK(std::get<InvalidLine>(items[1]).kind == "invalid_json");
  CHECK(std::get<InvalidLine>(items[1]).line == 5);
  // Duplicate ids are found among the shard's own rows: line 8 repeats line 2's id.
  CHECK(std::get<InvalidLine>(items[2]).kind == "duplicate_id");
  CHECK(std::get<InvalidLine>(items[2]).line == 8);
}

TEST_CASE("The shards of a dataset cover each line exactly once", "[dataset]") {
  std::string dataset;
  for (int i = 1; i <= 17; ++i) dataset += R"({"output": "x", "criteria": "c"})" "\n";
  std::vector<int> seen(18, 0);
  for (int index = 0; index < 4; ++index) {
    ReaderOptions options;
    options.shard_index = index;
    options.shard_count = 4;
    for (const auto& item : read_all(dataset, options)) ++seen[static_cast<std::size_t>(std::get<EvalItem>(item).line)];
  }
  for (int line = 1; line <= 17; ++line) CHECK(seen[static_cast<std::size_t>(line)] == 1);
}

TEST_CASE("parse_row reads a row's group: a string or a number, else invalid_field", "[dataset]") {
  CHECK(item_of(parse(R"({"output": "O", "criteria": "c", "group": "doc-7"})")).group == "doc-7");
  CHECK(item_of(parse(R"({"output": "O", "criteria": "c", "group": 7})")).group == 7);
  CHECK(item_of(parse(R"({"output": "O", "criteria": "c"})")).group.is_null());
  InvalidLine bad = invalid_of(parse(R"({"output": "O", "criteria": "c", "group": ["a"]})"));
  CHECK(bad.kind == "invalid_field");
  CHECK(bad.message == "line 7: field \"group\" must be a string or a number (got array): rows with the same group "
                       "are judged as related, e.g. questions on one document");
}

TEST_CASE("parse_row reads labels by criterion name, in the criterion's scale", "[dataset][labels]") {
  EvalItem item = item_of(parse(
      R"({"output": "o", "criteria": [{"name": "tone", "rubric": "T."}, {"name": "ok", "rubric": "O.", "scale": "binary"}, {"name": "len", "type": "max_chars", "value": 5}], "labels": {"tone": 5, "ok": true}})"));
  REQUIRE(item.labels.size() == 3);
  CHECK(item.labels[0] == 5.0);
  CHECK(item.labels[1] == 1.0);
  CHECK_FALSE(item.labels[2]);
  CHECK(item_of(parse(R"({"output": "o", "criteria": "c", "labels": {"default": null}})")).labels.size() == 1);

  const std::pair<const char*, const char*> bad[] = {
      {R"({"output": "o", "criteria": "c", "labels": {"default": 6}})", "outside its scale"},
      {R"({"output": "o", "criteria": "c", "labels": {"default": 2.5}})", "outside its scale"},
      {R"({"output": "o", "criteria": "c", "labels": {"default": true}})", "outside its scale"},
      {R"({"output": "o", "criteria": "c", "labels": {"other": 3}})", "not one of the row's criteria"},
      {R"({"output": "o", "criteria": "c", "labels": [3]})", "must be an object"},
      {R"({"output": "o", "criteria": [{"name": "n", "type": "min_chars", "value": 1}], "labels": {"n": 1}})",
       "not scored by the judge"},
  };
  for (const auto& [line, words] : bad) {
    INFO(line);
    InvalidLine invalid = invalid_of(parse(line));
    CHECK(invalid.kind == "invalid_field");
    CHECK(invalid.message.find(words) != std::string::npos);
  }
}

TEST_CASE("parse_row reads two answers for pairwise criteria, and needs them", "[dataset][pairwise]") {
  EvalItem item = item_of(parse(
      R"({"prompt": "p", "output_a": "A text", "output_b": "B text", "model_a": "m1", "model_b": "m2", "criteria": [{"name": "better", "type": "pairwise", "rubric": "More helpful."}]})"));
  CHECK(item.output_a == "A text");
  CHECK(item.output_b == "B text");
  CHECK(item.model_a == "m1");
  CHECK(item.model_b == "m2");
  REQUIRE(item.criteria.size() == 1);
  CHECK(item.criteria[0].pairwise);
  CHECK(item.criteria[0].llm);

  CHECK(invalid_of(parse(R"({"output_a": "x", "criteria": "c"})")).message.find("\"output_b\" is missing") !=
        std::string::npos);
  CHECK(invalid_of(parse(R"({"output_a": "x", "output_b": "y", "criteria": "c"})")).message.find(
            "missing field \"output\" for criterion \"default\"") != std::string::npos);
  CHECK(invalid_of(parse(R"({"output": "x", "criteria": [{"name": "b", "type": "pairwise", "rubric": "R."}]})"))
            .kind == "missing_field");
  InvalidLine scale = invalid_of(
      parse(R"({"output_a": "x", "output_b": "y", "criteria": [{"type": "pairwise", "rubric": "R.", "scale": "1-5"}]})"));
  CHECK(scale.kind == "invalid_criteria");
  CHECK(scale.message.find("does not apply to a \"pairwise\" criterion") != std::string::npos);
}
