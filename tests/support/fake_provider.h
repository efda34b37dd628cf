// FakeProviderServer: runs the real llmeval_fake_provider binary (tests/fakes/
// fake_provider_server.cpp) on 127.0.0.1, on a free port, for integration tests.
//
// The constructor blocks until the server printed PORT=<n> (up to 10 s) and throws
// std::runtime_error if it did not. The destructor stops the server (SIGTERM). Flags are the
// binary's own: {"--latency-ms", "50"}, {"--api-key", "k"}, {"--error-rate", "0.1"}, ...
// Markers in the judged text script single requests; see the binary's --help.
#pragma once

#include <nlohmann/json.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/process.h"

namespace llmeval::testing {

class FakeProviderServer {
 public:
  explicit FakeProviderServer(std::vector<std::string> flags = {});
  // Same, with an explicit path to the binary (benchmarks built outside llmeval_tests).
  FakeProviderServer(const std::string& binary, std::vector<std::string> flags);

  int port() const { return port_; }
  std::string base_url_openai() const;     // "http://127.0.0.1:P/v1" (client appends /chat/completions)
  std::string base_url_anthropic() const;  // "http://127.0.0.1:P"    (client appends /v1/messages)
  std::string url(std::string_view path) const;  // "http://127.0.0.1:P" + path

  // GET /stats: {"requests", "in_flight", "max_in_flight", "by_path": {path: n},
  // "status_counts": {"200": n, ...}, "rate_limited" (429s from --rpm/--tpm), "throttled"
  // (429s from a throttle_ms window), "mode", "now_ms" (the server's clock, as in log()),
  // "sent": {field: n} API requests that carried max_tokens, max_completion_tokens, temperature,
  // response_format_json_schema, response_format_json_object, output_config_format,
  // output_config_effort, reasoning_effort, cache_control}, "batch": {calls, openai_created,
  // anthropic_created, openai_requests, anthropic_requests, files_uploaded, openai_cancels,
  // anthropic_cancels, retrieves, file_downloads, results_downloads, delay_ms, expire} (the
  // batch APIs' calls, which requests and by_path do not count).
  // /stats, /control and /log calls themselves are not counted.
  // Throws std::runtime_error if the server does not answer.
  nlohmann::json stats() const;
  // POST /stats/reset: zeroes the counters, forgets fail_first counts and cached prompt
  // prefixes, clears the log, sets mode ok, ends a throttle window and refills the --rpm/--tpm
  // buckets.
  void reset_stats() const;

  // POST /control: {"mode": "ok"} | {"mode": "fail", "status": 503} | {"mode": "hang"} |
  // {"throttle_ms": 500} | {"batch_expire": true, "batch_delay_ms": 0}. Applies to API
  // requests arriving afterwards (the batch knobs: to batches not yet processed). Throws
  // std::runtime_error unless the server answers 200.
  void control(const nlohmann::json& body) const;

  // GET /log: {"requests": [{"path", "arrived_ms", "finished_ms" (null while pending), "status"
  // (0 until answered), "client_closed"}, ...], "log_dropped", "now_ms"}: API requests in
  // arrival order, in milliseconds since the server started. Throws like stats().
  nlohmann::json log() const;
  // Polls stats() until at least / fewer than `count` API requests are in flight; false when
  // `limit` passes first. For tests that must act while calls are out, on a machine of any speed.
  bool wait_for_in_flight(int count, std::chrono::milliseconds limit) const;
  bool wait_for_in_flight_below(int count, std::chrono::milliseconds limit) const;

  // SIGTERM and wait; returns the exit code (0 on a clean stop).
  int stop();
  BackgroundProcess& process() { return process_; }

 private:
  BackgroundProcess process_;
  int port_ = 0;
};

}  // namespace llmeval::testing
