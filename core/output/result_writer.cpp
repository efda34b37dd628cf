#include "core/output/result_writer.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "core/common/error.h"

namespace llmeval::output {

ResultWriter::ResultWriter(const std::string& path, bool append) : path_(path) {
  if (path.empty() || path == "-") {
    fd_ = STDOUT_FILENO;
    path_ = "stdout";
    return;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw FatalError("cannot open output file " + path + ": " + std::strerror(errno));
  }
  owns_fd_ = true;
}

ResultWriter::~ResultWriter() {
  if (owns_fd_) ::close(fd_);
}

void ResultWriter::write(const ResultRecord& record) {
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
      throw FatalError("cannot write results to " + path_ + ": " + std::strerror(errno), 1);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  ++rows_written_;
}

}  // namespace llmeval::output
