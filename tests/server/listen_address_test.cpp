#include "core/server/listen_address.h"

#include <unistd.h>

#include <catch2/catch.hpp>

using llmeval::server::is_loopback;
using llmeval::server::ListenAddress;
using llmeval::server::open_listeners;
using llmeval::server::parse_listen_address;

TEST_CASE("listen addresses parse as HOST:PORT, with IPv6 in brackets", "[server]") {
  auto v4 = parse_listen_address("127.0.0.1:8080");
  REQUIRE(v4.ok());
  CHECK(v4.value().host == "127.0.0.1");
  CHECK(v4.value().port == 8080);
  auto v6 = parse_listen_address("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6.value().host == "::1");
  CHECK(v6.value().to_string() == "[::1]:0");
  for (const char* bad : {"8080", "localhost", ":8080", "127.0.0.1:", "127.0.0.1:70000", "::1:80", "host:8o"}) {
    INFO(bad);
    CHECK_FALSE(parse_listen_address(bad).ok());
  }
}

TEST_CASE("only loopback addresses count as loopback", "[server]") {
  CHECK(is_loopback({"127.0.0.1", 80}).value());
  CHECK(is_loopback({"127.1.2.3", 80}).value());
  CHECK(is_loopback({"::1", 80}).value());
  CHECK(is_loopback({"localhost", 80}).value());
  CHECK_FALSE(is_loopback({"0.0.0.0", 80}).value());
  CHECK_FALSE(is_loopback({"::", 80}).value());
  CHECK_FALSE(is_loopback({"10.1.2.3", 80}).value());
  CHECK_FALSE(is_loopback({"no-such-host.invalid", 80}).ok());
}

TEST_CASE("listeners share one port chosen by the kernel", "[server]") {
  auto listeners = open_listeners({"127.0.0.1", 0}, 3).value();
  REQUIRE(listeners.fds.size() == 3);
  CHECK(listeners.port > 0);
  // The port is taken now: a listener without SO_REUSEPORT semantics for another user fails,
  // and asking for it again still works for us (same user, SO_REUSEPORT).
  auto more = open_listeners({"127.0.0.1", listeners.port}, 1).value();
  CHECK(more.port == listeners.port);
  for (int fd : listeners.fds) ::close(fd);
  for (int fd : more.fds) ::close(fd);
}

TEST_CASE("a listener on an address that is not ours is refused with the reason", "[server]") {
  // 192.0.2.1 (TEST-NET-1) is never assigned to this machine: bind fails, nothing is sent.
  auto refused = open_listeners({"192.0.2.1", 0}, 1);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("cannot listen on 192.0.2.1:0"));
}
