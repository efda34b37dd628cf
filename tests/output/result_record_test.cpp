#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/output/result_record.h"

using namespace llmeval::output;

namespace {

nlohmann::json as_json(const ResultRecord& record) {
  std::string line;
  append_json(line, record);
  return nlohmann::json::parse(line);
}

CriterionResult criterion(const std::string& name, double score, double normalized, bool pass, double weight = 1) {
  CriterionResult c;
  c.name = name;
  c.score = score;
  c.normalized = normalized;
  c.pass = pass;
  c.weight = weight;
  return c;
}

}  // namespace

TEST_CASE("An ok record scores the weighted mean of normalized scores and passes only if all pass", "[output]") {
  ResultRecord record;
  record.id = "q1";
  record.line = 3;
  record.criteria.push_back(criterion("a", 4, 0.75, true, 3));
  record.criteria.push_back(criterion("b", 1, 1.0, true, 1));
  auto j = as_json(record);
  CHECK(j["id"] == "q1");
  CHECK(j["line"] == 3);
  CHECK(j["status"] == "ok");
  CHECK(j["score"].get<double>() == Approx((3 * 0.75 + 1.0) / 4));
  CHECK(j["pass"] == true);
  CHECK(j["criteria"]["a"]["weight"] == 3);
  CHECK(j["error"].is_null());

  record.criteria[1].pass = false;
  CHECK(as_json(record)["pass"] == false);
}

TEST_CASE("Error and invalid records carry null score and pass and the error object", "[output]") {
  ResultRecord record;
  record.id = 7;
  record.line = 7;
  record.status = Status::kInvalid;
  record.error = ResultError{"invalid_json", "line 7: not \"valid\" JSON"};
  auto j = as_json(record);
  CHECK(j["status"] == "invalid");
  CHECK(j["score"].is_null());
  CHECK(j["pass"].is_null());
  CHECK(j["error"]["kind"] == "invalid_json");
  CHECK(j["error"]["message"] == "line 7: not \"valid\" JSON");
  CHECK(j["criteria"].empty());
}

TEST_CASE("A judged criterion records which provider and model judged it", "[output]") {
  ResultRecord record;
  record.id = 1;
  record.line = 1;
  auto c = criterion("correctness", 4, 0.75, true);
  c.judge = JudgeInfo{"primary", "gpt-4o-mini", 2, true, 812,
                      {.input = 320, .output = 45, .cached_input = 256, .cache_write = 0, .reasoning = 12}, true};
  record.criteria.push_back(c);
  record.metadata = {{"team", "search"}};
  auto j = as_json(record);
  auto judge = j["criteria"]["correctness"]["judge"];
  CHECK(judge["provider"] == "primary");
  CHECK(judge["model"] == "gpt-4o-mini");
  CHECK(judge["attempts"] == 2);
  CHECK(judge["fallback"] == true);
  CHECK(judge["latency_ms"] == 812);
  CHECK(judge["tokens"]["input"] == 320);
  CHECK(judge["tokens"]["output"] == 45);
  CHECK(judge["tokens"]["cached_input"] == 256);
  CHECK_FALSE(judge["tokens"].contains("cache_write"));  // written only when not zero
  CHECK(judge["tokens"]["reasoning"] == 12);
  CHECK(judge["simulated"] == true);
  CHECK(j["metadata"]["team"] == "search");
}
