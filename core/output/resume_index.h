// ResumeIndex: which dataset lines an existing results file already holds, for `--resume`.
//
// load() streams the file once. It repairs it in place: a torn last line (no newline: the run
// died while writing it) is cut off, and with `retry_errors` the `error` rows are removed
// (rewritten through a temporary file and a rename), so their rows run again and the file
// still ends with exactly one line per input line. Every row kept is handed to `kept` (the
// summary of a resumed run covers the whole file). A line in the middle that is not a result
// row, or two rows for one line, mean this is not a file llmeval can resume: an Error (kParse)
// naming the line (and the field, for one of the wrong type); kIo when the file cannot be
// repaired. Nothing here throws. Memory: 16 bytes per recorded row (line number, id fingerprint).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/output/result_record.h"

namespace llmeval::output {

class ResumeIndex {
 public:
  enum class Match { kNotRecorded, kRecorded, kDifferentId };

  // A missing or empty file holds nothing (a fresh start).
  static Result<ResumeIndex> load(const std::string& path, bool retry_errors,
                                  const std::function<void(const ResultRecord&)>& kept);

  // Whether dataset line `line` with this id is already recorded; kDifferentId means the
  // results file belongs to another dataset (or the dataset changed).
  Match check(std::int64_t line, const nlohmann::json& id) const;
  std::size_t size() const { return entries_.size(); }
  std::int64_t max_line() const { return entries_.empty() ? 0 : entries_.back().first; }
  bool torn_line_dropped() const { return torn_; }
  std::int64_t errors_dropped() const { return errors_dropped_; }

 private:
  std::vector<std::pair<std::int64_t, std::uint64_t>> entries_;  // (line, id fingerprint), sorted
  bool torn_ = false;
  std::int64_t errors_dropped_ = 0;
};

// FNV-1a of the id's JSON text: equal ids, equal fingerprints.
std::uint64_t id_fingerprint(const nlohmann::json& id);

}  // namespace llmeval::output
