// HttpMetrics: what `llmeval serve` adds to the contract metrics (docs/formats.md §7):
//
//   llmeval_inflight_requests                          gauge      evaluation requests read, not answered
//   llmeval_http_requests_total{path,code}             counter    answered requests; code "0" = client gone
//   llmeval_http_request_duration_seconds{path}        histogram  read to answered
//   llmeval_http_rows_shed_total                       counter    rows refused with 503 (queue full)
//   llmeval_http_open_connections                      gauge      client connections open
//
// In serve, llmeval_inflight_requests counts POST /v1/evaluate requests in flight (the HPA's
// signal), not judge calls. `path` is one of the API's paths or "other", so a scanner trying
// random URLs cannot blow up the series count. Thread-safe (shared by all loop threads).
#pragma once

#include <string_view>

#include "core/metrics/engine_metrics.h"
#include "core/metrics/registry.h"

namespace llmeval::server {

class HttpMetrics {
 public:
  HttpMetrics(metrics::Registry& registry, metrics::EngineMetrics& engine);

  void evaluation_started();
  void evaluation_finished();
  void answered(std::string_view path, int status, double seconds);
  void rows_shed(std::int64_t rows);
  metrics::Gauge& open_connections() { return connections_; }

  // The label for a request path.
  static std::string_view path_label(std::string_view path);

 private:
  metrics::Gauge& inflight_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& duration_;
  metrics::Counter& shed_;
  metrics::Gauge& connections_;
};

}  // namespace llmeval::server
