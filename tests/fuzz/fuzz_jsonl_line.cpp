// libFuzzer target: the dataset reader. The input is a whole JSONL file (BOM, CRLF, a last line
// without a newline, bytes of any kind), read through JsonlReader from memory, so both the line
// splitting and parse_row (one line -> EvalItem or InvalidLine) are fuzzed.
//
// Invariants (jsonl_reader.h): exactly one item per input line, numbered from 1; every
// InvalidLine has a kind and a valid UTF-8 message starting "line N: "; every EvalItem
// has criteria, and its id and metadata serialize (results are JSON). And, differentially:
// parse_json (simdjson, core/common/json_parse.h) gives what nlohmann's json::parse gives.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/common/json_parse.h"
#include "core/dataset/jsonl_reader.h"
#include "core/dataset/message_text.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using llmeval::dataset::EvalItem;
using llmeval::dataset::find_invalid_utf8;
using llmeval::dataset::InvalidLine;
using llmeval::dataset::ReaderOptions;
using llmeval::fuzz::require;

// Lines in a file as jsonl_reader.h defines them: a leading BOM is dropped, a trailing newline
// makes no extra line, and a last line without one still counts.
std::int64_t expected_lines(std::string_view file) {
  if (file.substr(0, 3) == "\xEF\xBB\xBF") file.remove_prefix(3);
  std::int64_t lines = 0;
  for (char c : file) lines += c == '\n';
  if (!file.empty() && file.back() != '\n') ++lines;
  return lines;
}

// A result error kind: a short snake_case word (the list is in jsonl_reader.h and grows).
bool kind_like(const std::string& kind) {
  return !kind.empty() && kind.size() <= 32 &&
         kind.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
}

void check_invalid(const InvalidLine& invalid, std::int64_t number) {
  require(invalid.line == number, "InvalidLine has the wrong line number");
  require(kind_like(invalid.kind), "InvalidLine kind is not a snake_case word");
  require(invalid.message.rfind("line " + std::to_string(number) + ": ", 0) == 0,
          "InvalidLine message does not start with \"line N: \"");
  require(find_invalid_utf8(invalid.message) == std::string::npos, "InvalidLine message is not UTF-8");
  require(invalid.id.is_string() || invalid.id.is_number(), "InvalidLine id is not a string or number");
  (void)invalid.id.dump();  // throws on invalid UTF-8: an uncaught exception is a finding
}

void check_item(const EvalItem& item, std::int64_t number) {
  require(item.line == number, "EvalItem has the wrong line number");
  require(!item.criteria.empty(), "EvalItem has no criteria");
  require(item.id.is_string() || item.id.is_number(), "EvalItem id is not a string or number");
  require(item.metadata.is_object(), "EvalItem metadata is not an object");
  for (const std::string* text : {&item.prompt, &item.output, &item.reference, &item.context}) {
    require(find_invalid_utf8(*text) == std::string::npos, "EvalItem text field is not UTF-8");
  }
  (void)item.id.dump();
  (void)item.metadata.dump();
}

void read_all(std::string& file, const ReaderOptions& options) {
  // fmemopen refuses a zero-length buffer; an empty file has no lines anyway.
  if (file.empty()) return;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream(fmemopen(file.data(), file.size(), "r"), &std::fclose);
  require(stream != nullptr, "fmemopen failed");
  llmeval::dataset::JsonlReader reader(stream.get(), options);
  std::int64_t number = 0;
  while (auto item = reader.next()) {
    ++number;
    if (const auto* invalid = std::get_if<InvalidLine>(&*item)) {
      check_invalid(*invalid, number);
    } else {
      check_item(std::get<EvalItem>(*item), number);
    }
  }
  require(!reader.would_block(), "a memory stream would block");
  require(number == expected_lines(file), "the reader did not yield exactly one item per line");
}

// parse_json must equal json::parse: the same value (types included), or an error for both.
void check_parse_json(std::string_view text) {
  if (llmeval::dataset::too_deeply_nested(text)) return;  // callers never parse such text
  std::optional<nlohmann::json> expected;
  try {
    expected = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception&) {
  }
  std::optional<nlohmann::json> got;
  try {
    got = llmeval::parse_json(text);
  } catch (const nlohmann::json::exception&) {
  }
  require(expected.has_value() == got.has_value(), "parse_json and json::parse disagree on validity");
  if (expected) require(expected->dump() == got->dump(), "parse_json and json::parse give different values");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string file(reinterpret_cast<const char*>(data), size);
  check_parse_json(file);
  // Defaults: 16 MiB lines, no config criteria, so rows must bring their own.
  read_all(file, ReaderOptions{});
  // A tiny line limit (line_too_long around the BOM and CR), config criteria, binary scale.
  ReaderOptions small;
  small.max_line_bytes = 64;
  small.default_scale = llmeval::dataset::Scale::kBinary;
  small.default_criteria = {{"accuracy", "The answer is correct."}};
  read_all(file, small);
  return 0;
}
