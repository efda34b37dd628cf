#include "core/metrics/metrics_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace llmeval::metrics {

namespace {

// pid + a per-process sequence number: unique across concurrent writers in this process and
// across processes sharing the directory (several Jobs' pods on one node's textfile dir).
std::filesystem::path temporary_path_for(const std::filesystem::path& target) {
  static std::atomic<unsigned long> sequence{0};
  std::string name = "." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(sequence.fetch_add(1, std::memory_order_relaxed));
  return target.parent_path() / name;
}

Error failure(const std::string& path, const std::string& what, int error) {
  return Error(ErrorKind::kIo, "cannot write metrics file '" + path + "': " + what + ": " + std::strerror(error));
}

// Loops because write() may write less than asked (signals, pipes, quotas) and EINTR is benign.
bool write_all(int fd, const std::string& text) {
  const char* data = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace

Result<Ok> write_metrics_file(const std::string& path, const std::string& text) {
  std::filesystem::path target(path);
  if (target.filename().empty()) {
    return Error(ErrorKind::kIo, "cannot write metrics file '" + path + "': the path names a directory, not a file");
  }
  std::string temporary = temporary_path_for(target).string();

  // 0644: the collector usually runs as another user and only needs to read.
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failure(path, "cannot create temporary file '" + temporary + "'", errno);

  if (!write_all(fd, text)) {
    int error = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    return failure(path, "cannot write temporary file '" + temporary + "'", error);
  }
  // close() reports deferred write errors on some filesystems (NFS): check it before renaming.
  if (::close(fd) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    return failure(path, "cannot close temporary file '" + temporary + "'", error);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    return failure(path, "cannot rename '" + temporary + "' over it", error);
  }
  return Ok{};
}

}  // namespace llmeval::metrics
