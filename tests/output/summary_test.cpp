#include <catch2/catch.hpp>

#include "core/output/summary.h"

using namespace llmeval::output;

namespace {

ResultRecord judged(std::int64_t line, double score, bool pass, std::int64_t latency_ms) {
  ResultRecord r;
  r.id = line;
  r.line = line;
  CriterionResult c;
  c.name = "quality";
  c.score = score;
  c.normalized = (score - 1) / 4;
  c.pass = pass;
  c.judge = JudgeInfo{"primary", "m", 1, false, latency_ms, {100, 10}, false};
  r.criteria.push_back(c);
  return r;
}

ResultRecord failed(std::int64_t line, Status status, const std::string& kind) {
  ResultRecord r;
  r.id = line;
  r.line = line;
  r.status = status;
  r.error = ResultError{kind, "x"};
  return r;
}

}  // namespace

TEST_CASE("Summary counts statuses and computes pass rate over judged rows only", "[output]") {
  Summary summary;
  summary.set_prices({{"primary", {1.0, 2.0}}});
  summary.add(judged(1, 5, true, 100));
  summary.add(judged(2, 3, false, 200));
  summary.add(judged(3, 4, true, 300));
  summary.add(failed(4, Status::kError, "timeout"));
  summary.add(failed(5, Status::kInvalid, "invalid_json"));
  summary.add(failed(6, Status::kError, "timeout"));

  RunCounters counters;
  counters.provider_requests = 5;
  auto j = summary.to_json(counters, 2.0);
  CHECK(j["rows"] == 6);
  CHECK(j["ok"] == 3);
  CHECK(j["error"] == 2);
  CHECK(j["invalid"] == 1);
  CHECK(j["pass_rate"].get<double>() == Approx(2.0 / 3.0));
  CHECK(j["criteria"]["quality"]["mean"].get<double>() == Approx(4.0));
  CHECK(j["criteria"]["quality"]["stddev"].get<double>() == Approx(1.0));
  CHECK(j["criteria"]["quality"]["min"] == 3);
  CHECK(j["criteria"]["quality"]["max"] == 5);
  CHECK(j["errors_by_kind"]["timeout"]["count"] == 2);
  CHECK(j["errors_by_kind"]["timeout"]["first_lines"] == nlohmann::json({4, 6}));
  CHECK(j["latency_ms"]["p50"] == 200);
  CHECK(j["latency_ms"]["p99"] == 300);
  CHECK(j["tokens"]["input"] == 300);
  CHECK(j["cost"].get<double>() == Approx((300 * 1.0 + 30 * 2.0) / 1e6));
  CHECK(j["rows_per_second"].get<double>() == Approx(3.0));

  std::string table = summary.to_table(counters, 2.0);
  CHECK(table.find("quality") != std::string::npos);
  CHECK(table.find("66.7%") != std::string::npos);
}

TEST_CASE("Summary has no pass rate when nothing was judged", "[output]") {
  Summary summary;
  summary.add(failed(1, Status::kError, "auth"));
  CHECK_FALSE(summary.pass_rate());
  CHECK(summary.to_json({}, 1.0)["pass_rate"].is_null());
  CHECK(summary.to_json({}, 1.0)["cost"].is_null());
}
