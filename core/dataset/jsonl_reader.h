// JsonlReader: streams a JSONL dataset one line at a time and turns each line into an EvalItem
// or an InvalidLine. Memory is bounded by ReaderOptions::max_line_bytes, whatever the file size:
// an over-long line is skipped to its newline without being held in memory.
//
// Every input line yields exactly one item: blank lines, bad JSON, bad fields are InvalidLines
// with the 1-based line number and a message a person can act on. A trailing newline at the end
// of the file does not make an extra line; a last line without a newline is still a line.
// A UTF-8 BOM at the start and a CR before each LF are ignored.
//
// InvalidLine kinds: blank_line, invalid_json (syntax, not an object, NUL byte, nesting deeper
// than 512), invalid_utf8, missing_field (output, or criteria with no config defaults),
// invalid_field (wrong type, or two aliases of one field), invalid_criteria, invalid_regex,
// line_too_long, io, duplicate_id. A null field counts as absent; unknown fields are ignored.
//
// Duplicate ids (JsonlReader only; parse_row sees one line): the first row that names an id
// claims it, and a later valid row naming the same id is a `duplicate_id` row whose message
// gives the first row's line; it is not judged. A bad row claims its id too, but keeps its own
// error. Rows without an id (their id is their line number) take no part: line 5 without an
// id and a row with "id": 5 are not duplicates. Only a 64-bit hash of each id is kept (see
// id_set.h for the memory, ~20 bytes an id, and the tiny false-positive chance).
//
// Not thread-safe. The FILE* is borrowed and must outlive the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dataset/eval_item.h"
#include "core/dataset/id_set.h"

namespace llmeval::dataset {

struct ReaderOptions {
  // Longest line accepted, in bytes; longer lines become `line_too_long` rows.
  std::size_t max_line_bytes = 16 * 1024 * 1024;
  // Scale for LLM criteria that do not name one (config judge.scale).
  Scale default_scale = Scale::k1to5;
  // Criteria for rows without a `criteria` field (config `criteria`: name -> rubric), in order.
  std::vector<std::pair<std::string, std::string>> default_criteria;
  // Sharding (--shard I/N): only lines with (line - 1) % shard_count == shard_index become
  // items; JsonlReader reads past the others without parsing them. Line numbers stay the
  // file's, and duplicate ids are checked among the shard's own rows.
  std::int64_t shard_index = 0;
  std::int64_t shard_count = 1;
  // false: no duplicate-id check (and none of its memory). run --batch's second reader, the
  // spooler, goes without: the reader that records the rows checks them.
  bool check_duplicate_ids = true;
};

using ReadItem = std::variant<EvalItem, InvalidLine>;

// Parses one dataset line (without its newline). Pure; also the fuzz target's entry point.
ReadItem parse_row(std::string_view line, std::int64_t line_number, const ReaderOptions& options);

// True when the text nests [ and { deeper than rows may (512 levels): such text is refused
// before parsing (see jsonl_reader.cpp).
bool too_deeply_nested(std::string_view text);

// The same for a row already parsed (an element of a `serve` batch); its fields are moved out.
// id_given, when not null, says whether the row named its own id.
ReadItem row_from_json(nlohmann::json& row, std::int64_t line_number, const ReaderOptions& options,
                       bool* id_given = nullptr);

class JsonlReader {
 public:
  JsonlReader(std::FILE* file, ReaderOptions options);
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  // The next line's item, or nullopt at end of input. A read error ends input after an
  // InvalidLine of kind `io` for the line being read.
  //
  // On a non-blocking file descriptor (a pipe on stdin, say), nullopt with would_block() true
  // means no complete line is available yet: wait until fd() is readable and call again. The
  // part of a line read so far is kept.
  std::optional<ReadItem> next();

  bool would_block() const { return would_block_; }
  int fd() const;

  std::int64_t lines_read() const { return line_number_; }
  bool at_end() const { return at_end_; }

  // The line being read, across calls that would block. `length` counts every byte of it,
  // while line_ keeps at most the limit.
  struct PartialLine {
    std::size_t length = 0;
    int last = EOF;  // the last byte before the newline, EOF when the line is empty
  };

 private:
  // One line: its item, or nullopt at the end, on a would-block, or for a line of another shard.
  std::optional<ReadItem> next_line();

  std::FILE* file_;
  ReaderOptions options_;
  std::int64_t line_number_ = 0;
  bool at_end_ = false;
  bool would_block_ = false;
  PartialLine partial_;
  std::string line_;  // reused buffer
  IdSet ids_;         // ids named so far
};

}  // namespace llmeval::dataset
