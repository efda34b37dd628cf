#include "tests/support/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

namespace llmeval::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// The Content-Length of a response head (the text before "\r\n\r\n"), if it has one.
std::optional<std::size_t> content_length(std::string_view head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return std::nullopt;
  std::size_t pos = at + std::strlen("\r\ncontent-length:");
  while (pos < lower.size() && (lower[pos] == ' ' || lower[pos] == '\t')) ++pos;
  std::size_t value = 0;
  bool digits = false;
  for (; pos < lower.size() && std::isdigit(static_cast<unsigned char>(lower[pos])); ++pos) {
    value = value * 10 + static_cast<std::size_t>(lower[pos] - '0');
    digits = true;
  }
  return digits ? std::optional<std::size_t>(value) : std::nullopt;
}

}  // namespace

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = 0;
  do {
    rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int error = errno;
    ::close(fd_);
    throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error));
  }
  // One segment per send: a byte dripped by send_slowly() reaches the server when we send it.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

RawConnection::SlowSend RawConnection::send_slowly(std::string_view bytes, std::chrono::milliseconds per_byte_delay,
                                                   bool stop_when_closed) {
  SlowSend result;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (closed_ && stop_when_closed) break;
    if (!send(bytes.substr(i, 1))) break;
    ++result.sent;
    if (i + 1 == bytes.size()) break;
    // Wait out the delay, noticing a close (and keeping any reply) as it happens.
    auto until = Clock::now() + per_byte_delay;
    while (Clock::now() < until) {
      if (closed_) {
        if (stop_when_closed) break;
        std::this_thread::sleep_until(until);
        break;
      }
      fill(std::chrono::milliseconds(remaining_ms(until)));
    }
  }
  result.peer_closed = closed_;
  return result;
}

bool RawConnection::fill(std::chrono::milliseconds timeout) {
  if (closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return false;
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n > 0) {
    pending_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
  closed_ = true;  // EOF, or a reset / other hard error
  return true;
}

RawConnection::Read RawConnection::take(std::size_t bytes) {
  Read read;
  bytes = std::min(bytes, pending_.size());
  read.data = pending_.substr(0, bytes);
  pending_.erase(0, bytes);
  read.peer_closed = closed_;
  return read;
}

RawConnection::Read RawConnection::read_some(std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  while (pending_.empty() && !closed_ && Clock::now() < until) {
    fill(std::chrono::milliseconds(remaining_ms(until)));
  }
  return take(pending_.size());
}

RawConnection::Read RawConnection::read_until_closed(std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  while (!closed_ && Clock::now() < until) fill(std::chrono::milliseconds(remaining_ms(until)));
  return take(pending_.size());
}

RawConnection::Read RawConnection::read_response(std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  for (;;) {
    auto head_end = pending_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto length = content_length(std::string_view(pending_).substr(0, head_end));
      if (length && pending_.size() >= head_end + 4 + *length) return take(head_end + 4 + *length);
    }
    if (closed_ || Clock::now() >= until) return take(pending_.size());
    fill(std::chrono::milliseconds(remaining_ms(until)));
  }
}

void RawConnection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

}  // namespace llmeval::testing
