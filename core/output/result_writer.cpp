#include "core/output/result_writer.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "core/common/error.h"

namespace llmeval::output {

Result<std::unique_ptr<ResultWriter>> ResultWriter::open(const std::string& path, bool append) {
  if (path.empty() || path == "-") return std::unique_ptr<ResultWriter>(new ResultWriter(STDOUT_FILENO, false, "stdout"));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
  if (fd < 0) return Error(ErrorKind::kIo, "cannot open output file " + path + ": " + std::strerror(errno));
  return std::unique_ptr<ResultWriter>(new ResultWriter(fd, true, path));
}

ResultWriter::~ResultWriter() {
  if (owns_fd_) ::close(fd_);
}

Result<Ok> ResultWriter::write(const ResultRecord& record) {
  line_.clear();
  append_json(line_, record);
  line_.push_back('\n');
  // One write(2) per line; loop only for the rare partial write (pipes, signals).
  const char* data = line_.data();
  std::size_t left = line_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      cut_partial_line(line_.size() - left);
      return Error(ErrorKind::kIo, "cannot write results to " + path_ + ": " + std::strerror(error));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  ++rows_written_;
  return Ok{};
}

void ResultWriter::cut_partial_line(std::size_t written) {
  if (written == 0) return;
  off_t end = ::lseek(fd_, 0, SEEK_CUR);  // fails on a pipe, where nothing can be taken back
  if (end < static_cast<off_t>(written)) return;
  // Best effort: if even this fails, --resume still cuts a torn last line.
  if (::ftruncate(fd_, end - static_cast<off_t>(written)) != 0) return;
}

}  // namespace llmeval::output
