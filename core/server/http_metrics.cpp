#include "core/server/http_metrics.h"

#include <string>

namespace llmeval::server {

HttpMetrics::HttpMetrics(metrics::Registry& registry, metrics::EngineMetrics& engine)
    : inflight_(engine.inflight_requests.get()),
      requests_(registry.counter("llmeval_http_requests_total", "HTTP requests answered, by path and status code",
                                 {"path", "code"})),
      duration_(registry.histogram("llmeval_http_request_duration_seconds",
                                   "Time from a request read in full to its answer, in seconds", {"path"},
                                   metrics::exponential_buckets(0.001, 2.0, 16))),
      shed_(registry.counter("llmeval_http_rows_shed_total", "Rows refused with 503 because the queue was full")
                .get()),
      connections_(registry.gauge("llmeval_http_open_connections", "Client connections open").get()) {}

void HttpMetrics::evaluation_started() { inflight_.add(1); }
void HttpMetrics::evaluation_finished() { inflight_.add(-1); }

void HttpMetrics::answered(std::string_view path, int status, double seconds) {
  std::string label(path_label(path));
  requests_.with({label, std::to_string(status)}).inc();
  duration_.with({label}).observe(seconds);
}

void HttpMetrics::rows_shed(std::int64_t rows) { shed_.inc(static_cast<double>(rows)); }

std::string_view HttpMetrics::path_label(std::string_view path) {
  for (std::string_view known : {"/v1/evaluate", "/healthz", "/readyz", "/metrics"}) {
    if (path == known) return known;
  }
  return "other";
}

}  // namespace llmeval::server
