#include "core/server/http_metrics.h"

#include <catch2/catch.hpp>

using llmeval::server::HttpMetrics;

TEST_CASE("HTTP metrics label paths from a fixed set and count answers", "[server]") {
  llmeval::metrics::Registry registry;
  llmeval::metrics::EngineMetrics engine(registry);
  HttpMetrics metrics(registry, engine);
  CHECK(HttpMetrics::path_label("/v1/evaluate") == "/v1/evaluate");
  CHECK(HttpMetrics::path_label("/wp-admin/../etc") == "other");
  metrics.evaluation_started();
  metrics.evaluation_started();
  metrics.evaluation_finished();
  metrics.answered("/v1/evaluate", 200, 0.05);
  metrics.answered("/random/1", 404, 0.001);
  metrics.answered("/random/2", 404, 0.001);
  metrics.rows_shed(3);
  std::string text = registry.render();
  CHECK_THAT(text, Catch::Contains("llmeval_inflight_requests 1\n"));
  CHECK_THAT(text, Catch::Contains("llmeval_http_requests_total{path=\"/v1/evaluate\",code=\"200\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("llmeval_http_requests_total{path=\"other\",code=\"404\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("llmeval_http_request_duration_seconds_count{path=\"/v1/evaluate\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("llmeval_http_rows_shed_total 3\n"));
}
