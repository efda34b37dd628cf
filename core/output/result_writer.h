// ResultWriter: appends ResultRecords to the results file (or stdout) as JSONL. Each line reaches
// the file whole, in one write(2) call, as soon as its row finishes, so a crash leaves at most
// one torn last line and a reader tailing the file sees rows as they complete.
//
// Owns the file descriptor it opened (not stdout's). Loop thread only. A write that fails (disk
// full, file too large, closed pipe) returns the error, and a part of the line already in a
// regular file is cut off again, so the file keeps only whole lines: a run that cannot record
// results must stop, not pretend, and what it recorded stays readable and resumable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "core/common/error.h"
#include "core/output/result_record.h"

namespace llmeval::output {

class ResultWriter {
 public:
  // path "-" (or empty) writes to stdout. Truncates an existing file, or with `append`
  // (--resume) adds to it. An error when the file cannot be opened.
  static Result<std::unique_ptr<ResultWriter>> open(const std::string& path, bool append = false);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  Result<Ok> write(const ResultRecord& record);
  std::int64_t rows_written() const { return rows_written_; }

 private:
  ResultWriter(int fd, bool owns_fd, std::string path) : fd_(fd), owns_fd_(owns_fd), path_(std::move(path)) {}

  // A failed write left the first `written` bytes of the line in the file: cut them off.
  void cut_partial_line(std::size_t written);

  int fd_ = -1;
  bool owns_fd_ = false;
  std::string path_;
  std::string line_;  // reused buffer
  std::int64_t rows_written_ = 0;
};

}  // namespace llmeval::output
