#include <catch2/catch.hpp>

#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/metrics/engine_metrics.h"
#include "core/metrics/registry.h"
#include "core/resilience/local_rate_limiter.h"
#include "core/runner/evaluator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_event_loop.h"

using llmeval::ErrorKind;
using llmeval::Result;
using llmeval::dataset::CheckType;
using llmeval::dataset::Criterion;
using llmeval::dataset::EvalItem;
using llmeval::output::ResultRecord;
using llmeval::output::Status;
using llmeval::provider::CompletionRequest;
using llmeval::provider::CompletionResponse;
using llmeval::resilience::LocalRateLimiter;
using llmeval::runner::Evaluator;
using llmeval::runner::EvaluatorOptions;
using llmeval::testing::FakeClock;
using llmeval::testing::FakeEventLoop;
using namespace std::chrono_literals;

namespace {

// A provider that keeps every request until the test answers it, oldest first.
class HeldProvider final : public llmeval::provider::Provider {
 public:
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return model_; }
  void complete(const CompletionRequest&, llmeval::provider::CompletionCallback callback) override {
    held_.push_back(std::move(callback));
  }

  std::size_t held() const { return held_.size(); }
  void answer(int score) {
    CompletionResponse response;
    response.text = R"({"score": )" + std::to_string(score) + R"(, "pass": true, "reason": "fine"})";
    response.model = model_;
    reply(std::move(response));
  }
  void fail(ErrorKind kind) { reply(llmeval::Error(kind, "scripted failure")); }

 private:
  void reply(Result<CompletionResponse> result) {
    auto callback = std::move(held_.front());
    held_.pop_front();
    callback(std::move(result));
  }

  std::string name_ = "held";
  std::string model_ = "judge-1";
  std::deque<llmeval::provider::CompletionCallback> held_;
};

Criterion llm(const std::string& name) {
  Criterion c;
  c.name = name;
  c.rubric = "The answer is correct.";
  return c;
}

Criterion contains(const std::string& text) {
  Criterion c;
  c.name = "mentions " + text;
  c.llm = false;
  c.check = CheckType::kContains;
  c.value = text;
  return c;
}

EvalItem item(std::int64_t line, std::vector<Criterion> criteria) {
  EvalItem i;
  i.id = "row-" + std::to_string(line);
  i.line = line;
  i.prompt = "What is 2+2?";
  i.output = "4";
  i.metadata = {{"line", line}};
  i.criteria = std::move(criteria);
  return i;
}

// One evaluator with one HeldProvider, on a fake loop and clock.
struct Bench {
  explicit Bench(EvaluatorOptions options = {}) : loop(clock), limiter(clock) {
    options.policy.max_attempts = 1;  // no retries: a failure ends the call, so tests stay short
    evaluator.emplace(loop, clock, std::vector<llmeval::runner::ProviderSlot>{{&provider, "held"}}, limiter, options);
  }

  // Submits a row whose record lands in records[slot] when done.
  llmeval::runner::RowId submit(EvalItem row) {
    std::size_t slot = records.size();
    records.emplace_back();
    return evaluator->evaluate(std::move(row), [this, slot](ResultRecord record) {
      REQUIRE_FALSE(records[slot].has_value());  // done runs exactly once
      records[slot] = std::move(record);
    });
  }

  FakeClock clock;
  FakeEventLoop loop;
  LocalRateLimiter limiter;
  HeldProvider provider;
  std::optional<Evaluator> evaluator;
  std::vector<std::optional<ResultRecord>> records;
};

}  // namespace

TEST_CASE("Evaluator gives each row submitted on its own its own done, with its id and line", "[runner][evaluator]") {
  Bench bench;
  bench.submit(item(7, {llm("correct")}));
  bench.submit(item(9, {llm("correct")}));
  CHECK(bench.provider.held() == 2);

  bench.provider.answer(2);  // row 7's call was sent first
  REQUIRE(bench.records[0]);
  CHECK_FALSE(bench.records[1]);
  CHECK(bench.records[0]->id == "row-7");
  CHECK(bench.records[0]->line == 7);
  CHECK(bench.records[0]->metadata["line"] == 7);
  CHECK(bench.records[0]->status == Status::kOk);
  CHECK(bench.records[0]->criteria.at(0).score == 2);

  bench.provider.fail(ErrorKind::kBadRequest);
  REQUIRE(bench.records[1]);
  CHECK(bench.records[1]->id == "row-9");
  CHECK(bench.records[1]->status == Status::kError);
  CHECK(bench.records[1]->error->kind == "provider_error");
  CHECK(bench.evaluator->counters().provider_requests == 2);
}

TEST_CASE("Evaluator finishes a row without LLM criteria inside evaluate()", "[runner][evaluator]") {
  Bench bench;
  bench.submit(item(1, {contains("4")}));
  REQUIRE(bench.records[0]);  // no loop turn needed
  CHECK(bench.records[0]->status == Status::kOk);
  CHECK(bench.records[0]->criteria.at(0).pass);
  CHECK(bench.evaluator->rows_active() == 0);
  CHECK(bench.provider.held() == 0);
}

TEST_CASE("Evaluator counts rows active and requests out, within its concurrency", "[runner][evaluator]") {
  EvaluatorOptions options;
  options.concurrency = 2;
  Bench bench(options);
  bench.submit(item(1, {llm("a"), llm("b")}));
  bench.submit(item(2, {llm("a"), contains("4")}));
  CHECK(bench.evaluator->rows_active() == 2);
  CHECK(bench.evaluator->requests_out() == 2);  // row 2's call waits for a slot

  bench.provider.answer(5);
  CHECK(bench.evaluator->requests_out() == 2);  // the slot went to row 2's call at once
  bench.provider.answer(5);
  REQUIRE(bench.records[0]);  // both of row 1's criteria are in
  CHECK(bench.records[0]->criteria.size() == 2);
  CHECK(bench.evaluator->rows_active() == 1);
  CHECK(bench.evaluator->requests_out() == 1);

  bench.provider.answer(4);
  REQUIRE(bench.records[1]);
  CHECK(bench.records[1]->criteria.size() == 2);  // the check and the LLM criterion, in order
  CHECK(bench.records[1]->criteria[0].name == "a");
  CHECK(bench.evaluator->rows_active() == 0);
  CHECK(bench.evaluator->requests_out() == 0);
}

TEST_CASE("Evaluator::stop drops unsent rows and calls when_quiet once the requests out are answered",
          "[runner][evaluator]") {
  EvaluatorOptions options;
  options.concurrency = 1;
  Bench bench(options);
  bench.submit(item(1, {llm("a")}));
  bench.submit(item(2, {llm("a")}));  // waits for the one slot
  int quiet = 0;
  bench.evaluator->stop([&] { ++quiet; });
  bench.evaluator->stop([&] { quiet += 100; });  // idempotent: ignored
  bench.loop.run_until_idle();
  CHECK(quiet == 0);

  bench.provider.answer(3);  // sent before stop(): still recorded
  REQUIRE(bench.records[0]);
  CHECK(bench.records[0]->status == Status::kOk);
  CHECK(quiet == 0);  // posted, not called inside the reply
  bench.loop.run_until_idle();
  CHECK(quiet == 1);
  CHECK(bench.provider.held() == 0);  // row 2 was never sent
  CHECK_FALSE(bench.records[1]);
  CHECK(bench.evaluator->rows_active() == 1);
  bench.evaluator->evaluate(item(3, {llm("a")}), [](ResultRecord) { FAIL("a row evaluated after stop() finished"); });
  bench.loop.run_until_idle();
  CHECK(bench.provider.held() == 0);
}

TEST_CASE("Evaluator::stop with no request out posts when_quiet at once", "[runner][evaluator]") {
  Bench bench;
  bool called = false;
  bench.evaluator->stop([&] { called = true; });
  CHECK_FALSE(called);
  bench.loop.run_until_idle();
  CHECK(called);
}

TEST_CASE("Evaluator destroyed with a request out never calls done, and the late reply does nothing",
          "[runner][evaluator]") {
  Bench bench;
  bench.submit(item(1, {llm("a")}));
  REQUIRE(bench.provider.held() == 1);
  bench.evaluator.reset();
  bench.provider.answer(5);
  CHECK_FALSE(bench.records[0]);
}

TEST_CASE("Evaluators sharing one EngineMetrics sum their queue depth and in-flight requests", "[runner][evaluator]") {
  llmeval::metrics::Registry registry;
  llmeval::metrics::EngineMetrics metrics(registry);
  auto& queue = metrics.queue_depth.get();
  auto& inflight = metrics.inflight_requests.get();
  EvaluatorOptions options;
  options.concurrency = 1;
  options.metrics = &metrics;
  Bench first(options);
  Bench second(options);
  first.submit(item(1, {llm("a"), llm("b"), llm("c")}));  // 1 sent, 2 waiting
  second.submit(item(1, {llm("a"), llm("b")}));           // 1 sent, 1 waiting
  CHECK(queue.value() == 3);
  CHECK(inflight.value() == 2);

  first.provider.answer(5);  // its next call goes out: 1 waiting there
  CHECK(queue.value() == 2);
  CHECK(inflight.value() == 2);

  SECTION("serve keeps llmeval_inflight_requests to itself") {
    options.judge_calls_are_inflight = false;
    Bench serving(options);
    serving.submit(item(1, {llm("a")}));
    CHECK(inflight.value() == 2);
    CHECK(queue.value() == 2);
  }
  SECTION("an evaluator destroyed takes its share back out") {
    second.evaluator.reset();
    CHECK(queue.value() == 1);
    CHECK(inflight.value() == 1);
  }
  SECTION("both drained, both gauges read 0") {
    first.provider.answer(5);
    first.provider.answer(5);
    second.provider.answer(5);
    second.provider.answer(5);
    CHECK(queue.value() == 0);
    CHECK(inflight.value() == 0);
    CHECK(metrics.evaluations.with({"ok"}).value() == 2);
  }
}

TEST_CASE("Evaluator sends nothing more for a cancelled row, which still finishes", "[runner][evaluator]") {
  EvaluatorOptions options;
  options.concurrency = 1;
  Bench bench(options);
  auto first = bench.submit(item(1, {llm("a")}));
  auto second = bench.submit(item(2, {llm("a"), llm("b"), contains("4")}));
  CHECK(bench.provider.held() == 1);  // row 2's calls wait for the one slot

  bench.evaluator->cancel(second);
  bench.evaluator->cancel(first);  // already out: its answer still counts
  bench.provider.answer(4);
  bench.loop.run_until_idle();
  CHECK(bench.provider.held() == 0);  // row 2's two calls were never sent
  CHECK(bench.evaluator->counters().provider_requests == 1);
  REQUIRE(bench.records[0]);
  CHECK(bench.records[0]->status == Status::kOk);
  REQUIRE(bench.records[1]);
  CHECK(bench.records[1]->status == Status::kError);
  CHECK(bench.records[1]->error->kind == "cancelled");
  CHECK(bench.evaluator->rows_active() == 0);

  bench.evaluator->cancel(second);  // finished: nothing happens
  bench.evaluator->cancel(12345);   // unknown
}
