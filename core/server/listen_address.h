// ListenAddress: where `llmeval serve` listens (`--listen HOST:PORT`), whether that is a
// loopback address (the only kind allowed without API tokens), and the listening sockets
// themselves: one per loop thread, all bound to the same port with SO_REUSEPORT so the kernel
// spreads new connections across the threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.h"

namespace llmeval::server {

struct ListenAddress {
  std::string host;  // as given: "127.0.0.1", "::1", "0.0.0.0", "localhost"
  int port = 0;      // 0 = let the kernel pick a free port

  // "127.0.0.1:8080", "[::1]:8080"
  std::string to_string() const;
};

// "HOST:PORT" or "[IPV6]:PORT". kBadRequest with a message for the flag's user.
Result<ListenAddress> parse_listen_address(std::string_view text);

// True when every address HOST resolves to is a loopback one (127.0.0.0/8, ::1). Resolution
// uses getaddrinfo (numeric hosts and /etc/hosts need no network); an error when it fails.
Result<bool> is_loopback(const ListenAddress& address);

struct Listeners {
  std::vector<int> fds;  // non-blocking, listening; the caller owns them
  int port = 0;          // the port bound (the one the kernel chose when asked for 0)
};

// Opens `count` sockets listening on the address with SO_REUSEPORT. An error with the reason when
// the address cannot be resolved or bound (in use, not local, no right).
Result<Listeners> open_listeners(const ListenAddress& address, int count, int backlog = 4096);

}  // namespace llmeval::server
