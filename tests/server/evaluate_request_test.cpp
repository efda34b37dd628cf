#include "core/server/evaluate_request.h"

#include <catch2/catch.hpp>

using llmeval::dataset::EvalItem;
using llmeval::dataset::InvalidLine;
using llmeval::dataset::ReaderOptions;
using llmeval::server::parse_evaluate_request;

TEST_CASE("a body with one row is a single evaluation on line 1", "[server]") {
  auto request = parse_evaluate_request(R"({"id": "q", "output": "4", "criteria": ["Correct."]})", ReaderOptions{}, 10);
  REQUIRE_FALSE(request.error);
  CHECK_FALSE(request.batch);
  REQUIRE(request.rows.size() == 1);
  const auto& item = std::get<EvalItem>(request.rows[0]);
  CHECK(item.id == "q");
  CHECK(item.line == 1);
  CHECK(item.output == "4");
}

TEST_CASE("a bad single row is an error for the request, with the row's kind", "[server]") {
  auto missing = parse_evaluate_request(R"({"prompt": "no output"})", ReaderOptions{}, 10);
  REQUIRE(missing.error);
  CHECK(missing.error->status == 400);
  CHECK(missing.error->kind == "missing_field");
  auto broken = parse_evaluate_request(R"({"output": )", ReaderOptions{}, 10);
  REQUIRE(broken.error);
  CHECK(broken.error->kind == "invalid_json");
  CHECK(parse_evaluate_request("  \n", ReaderOptions{}, 10).error->kind == "invalid_json");
  CHECK(parse_evaluate_request("[1, 2]", ReaderOptions{}, 10).error->kind == "invalid_json");
  CHECK(parse_evaluate_request(std::string(600, '[') + std::string(600, ']'), ReaderOptions{}, 10).error->kind ==
        "invalid_json");
}

TEST_CASE("a batch keeps its rows in order, bad ones as invalid rows in place", "[server]") {
  auto request = parse_evaluate_request(
      R"({"rows": [{"id": "a", "output": "x", "criteria": ["c"]}, {"output": 5}, {"id": "a", "output": "y", "criteria": ["c"]},
                   {"output": "z", "criteria": ["c"]}]})",
      ReaderOptions{}, 10);
  REQUIRE_FALSE(request.error);
  CHECK(request.batch);
  REQUIRE(request.rows.size() == 4);
  CHECK(std::get<EvalItem>(request.rows[0]).line == 1);
  CHECK(std::get<InvalidLine>(request.rows[1]).kind == "invalid_field");
  CHECK(std::get<InvalidLine>(request.rows[2]).kind == "duplicate_id");
  CHECK(std::get<InvalidLine>(request.rows[2]).line == 3);
  CHECK(std::get<EvalItem>(request.rows[3]).id == 4);  // no id: the row number
}

TEST_CASE("batch shape errors and the size limit", "[server]") {
  auto not_array = parse_evaluate_request(R"({"rows": {"output": "x"}})", ReaderOptions{}, 10);
  REQUIRE(not_array.error);
  CHECK(not_array.error->kind == "invalid_request");
  auto too_many = parse_evaluate_request(R"({"rows": [{"output": "a"}, {"output": "b"}, {"output": "c"}]})",
                                         ReaderOptions{}, 2);
  REQUIRE(too_many.error);
  CHECK(too_many.error->status == 413);
  CHECK(too_many.error->kind == "batch_too_large");
  auto empty = parse_evaluate_request(R"({"rows": []})", ReaderOptions{}, 2);
  REQUIRE_FALSE(empty.error);
  CHECK(empty.batch);
  CHECK(empty.rows.empty());
}
