#include "core/server/listen_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace llmeval::server {
namespace {

using AddrInfo = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

Result<AddrInfo> resolve(const ListenAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return Error(ErrorKind::kBadRequest,
                 "--listen " + address.to_string() + ": cannot resolve " + address.host + ": " + gai_strerror(rc));
  }
  return AddrInfo(found, &freeaddrinfo);
}

bool loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  }
  return false;
}

int bound_port(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return 0;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
}

// One socket on the address; SO_REUSEPORT on every one of them lets them share the port.
int listen_on(const addrinfo& ai, int port, int backlog, std::string& error) {
  int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  sockaddr_storage target{};
  std::memcpy(&target, ai.ai_addr, ai.ai_addrlen);
  if (target.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&target)->sin_port = htons(static_cast<uint16_t>(port));
  if (target.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&target)->sin6_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&target), ai.ai_addrlen) != 0 || ::listen(fd, backlog) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error{ErrorKind::kBadRequest, "--listen " + std::string(text) + ": " + why +
                                             " (expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080)"};
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return bad("no host");
  if (host.find(':') != std::string_view::npos && text.front() != '[') return bad("put an IPv6 address in brackets");
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  return ListenAddress{std::string(host), port};
}

Result<bool> is_loopback(const ListenAddress& address) {
  Result<AddrInfo> found = resolve(address);
  if (!found) return found.error();
  for (const addrinfo* ai = found.value().get(); ai != nullptr; ai = ai->ai_next) {
    if (!loopback(ai->ai_addr)) return false;
  }
  return true;
}

Result<Listeners> open_listeners(const ListenAddress& address, int count, int backlog) {
  Result<AddrInfo> found = resolve(address);
  if (!found) return found.error();
  Listeners listeners;
  listeners.port = address.port;
  std::string error;
  for (int i = 0; i < count; ++i) {
    int fd = listen_on(*found.value(), listeners.port, backlog, error);
    if (fd < 0) {
      for (int open : listeners.fds) ::close(open);
      return Error(ErrorKind::kIo, "cannot listen on " + address.to_string() + ": " + error);
    }
    if (listeners.port == 0) listeners.port = bound_port(fd);  // the others join the port chosen
    listeners.fds.push_back(fd);
  }
  return listeners;
}

}  // namespace llmeval::server
