// ServeProcess: the real `llmeval serve` binary, running in the background on 127.0.0.1 for
// integration tests, with its stderr (the logs) captured to a file the test can read.
//
// The constructor starts `llmeval serve ARGS`, adding `--listen 127.0.0.1:0` and `--grace 2s`
// unless ARGS set them, and blocks until the server prints `listening on http://HOST:PORT`
// (with `--log-format json`, a JSON line whose "url" is http://HOST:PORT) on stdout (up to
// 15 s); it throws std::runtime_error with the server's stderr if it does not. The
// destructor sends SIGTERM and waits (BackgroundProcess: up to 5 s, then SIGKILL). Declare it
// after the fake provider it talks to, so it stops first. Not thread-safe, except the HTTP
// helpers (get/post), which any thread may call.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/process.h"

namespace llmeval::testing {

class ServeProcess {
 public:
  // env is added to the test's environment (no_proxy for 127.0.0.1 is always added).
  explicit ServeProcess(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  // The stdout line that said where the server listens.
  const std::string& listening_line() const { return listening_line_; }
  std::string url(std::string_view path) const;  // "http://127.0.0.1:PORT" + path

  HttpReply get(const std::string& path, const std::vector<std::string>& headers = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  HttpReply post(const std::string& path, const std::string& body, const std::vector<std::string>& headers = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // Everything the server wrote to stderr so far.
  std::string log() const;

  void signal(int sig) { process_->signal(sig); }
  int wait(std::chrono::milliseconds timeout) { return process_->wait(timeout); }
  bool running() const { return process_->running(); }

 private:
  TempDir dir_;
  std::string stderr_path_;
  std::unique_ptr<BackgroundProcess> process_;
  std::string listening_line_;
  int port_ = 0;
};

// The reply's body as JSON; a discarded value (is_discarded()) when it is not JSON.
nlohmann::json json_body(const HttpReply& reply);
// error.kind of an {"error": {"kind", "message"}} body; "" when the body is not one.
std::string error_kind(const HttpReply& reply);

// In a Prometheus text exposition, the value of the first sample of `name` whose labels include
// every `label="value"` string in labels; nullopt when there is none.
std::optional<double> metric_sample(const std::string& exposition, const std::string& name,
                                    const std::vector<std::string>& labels = {});

}  // namespace llmeval::testing
