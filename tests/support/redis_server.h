// RedisServer: a real redis-server (Debian package redis-server; bin/setup installs it) on
// 127.0.0.1 on a free port, for integration tests: no persistence, no protected mode, a process
// of its own that the test can stall, kill and bring back.
//
// The constructor blocks until the server answers PING (up to 10 s; another free port is tried
// if it cannot bind) and throws std::runtime_error when it does not come up, e.g. because
// redis-server is not installed. pause() SIGSTOPs it: its socket stays open and connects still
// succeed, but nothing answers, like a stalled server. kill() SIGKILLs it: connections are
// refused. restart() starts a fresh, empty server on the same port. The destructor resumes a
// paused server, then stops it (SIGTERM, then SIGKILL after 5 s).
//
// Not thread-safe: use one RedisServer from one thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace llmeval::testing {

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "redis://127.0.0.1:P/0"

  void pause();    // SIGSTOP
  void resume();   // SIGCONT
  void kill();     // SIGKILL, and reap it
  // Stops the server if it still runs, starts a new one on the same port and waits for PING.
  // Its data is gone. Throws std::runtime_error if it does not come up.
  void restart();

  // Runs one command on a fresh blocking hiredis connection and returns the reply as text:
  // strings and statuses as they are, integers in decimal, nil as "(nil)", arrays as their
  // elements joined by '\n'. Throws std::runtime_error on an error reply, or when connecting or
  // the reply takes longer than timeout (each).
  std::string command(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;

 private:
  // Starts redis-server on port; an empty string when it answers, else why it did not.
  std::string start(int port);
  void stop();

  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
  bool paused_ = false;
};

}  // namespace llmeval::testing
