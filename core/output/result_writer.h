// ResultWriter: appends ResultRecords to the results file (or stdout) as JSONL. Each line reaches
// the file whole, in one write(2) call, as soon as its row finishes, so a crash leaves at most
// one torn last line and a reader tailing the file sees rows as they complete.
//
// Owns the file descriptor it opened (not stdout's). Loop thread only. Write failures (disk
// full, closed pipe) throw FatalError: a run that cannot record results must stop, not
// pretend.
#pragma once

#include <string>

#include "core/output/result_record.h"

namespace llmeval::output {

class ResultWriter {
 public:
  // path "-" (or empty) writes to stdout. Truncates an existing file, or with `append`
  // (--resume) adds to it.
  explicit ResultWriter(const std::string& path, bool append = false);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  void write(const ResultRecord& record);
  std::int64_t rows_written() const { return rows_written_; }

 private:
  int fd_ = -1;
  bool owns_fd_ = false;
  std::string path_;
  std::string line_;  // reused buffer
  std::int64_t rows_written_ = 0;
};

}  // namespace llmeval::output
