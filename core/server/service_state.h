// ServiceState: what every loop thread of `llmeval serve` shares: readiness and draining, the
// bounded queue of rows (load shedding), auth, metrics and the request settings. Thread-safe:
// the flags and the queue are atomics; the rest is read-only once serving starts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/dataset/jsonl_reader.h"
#include "core/metrics/registry.h"
#include "core/provider/provider.h"
#include "core/server/bearer_auth.h"
#include "core/server/http_metrics.h"

namespace llmeval::server {

struct ServiceState {
  ServiceState(metrics::Registry& r, HttpMetrics& m, BearerAuth a) : registry(r), http_metrics(m), auth(std::move(a)) {}

  metrics::Registry& registry;
  HttpMetrics& http_metrics;
  const BearerAuth auth;
  dataset::ReaderOptions reader_options;
  std::map<std::string, provider::Price> prices;  // for the batch summary's cost
  std::chrono::milliseconds request_timeout{120000};
  std::int64_t max_queue = 1024;  // rows accepted and not finished, all threads together

  std::atomic<bool> ready{false};     // every loop thread is serving
  std::atomic<bool> draining{false};  // SIGTERM: no new evaluations
  std::atomic<std::int64_t> rows_queued{0};

  // Reserves room for `rows` in the queue; false (nothing reserved) when they do not fit.
  bool reserve_rows(std::int64_t rows) {
    std::int64_t before = rows_queued.fetch_add(rows);
    if (before + rows <= max_queue) return true;
    rows_queued.fetch_sub(rows);
    return false;
  }
  void release_rows(std::int64_t rows) { rows_queued.fetch_sub(rows); }
};

}  // namespace llmeval::server
