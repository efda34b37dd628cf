// Evaluator::Impl: the Evaluator's state and steps, shared by evaluator.cpp (rows: taking them,
// dispatching their calls within the concurrency, recording them, stopping) and judge_calls.cpp
// (one judge call's life: limiter, breaker, probe lease, send, reply, retry, repair, fallback).
// Internal to core/runner; see evaluator.h for the contract. Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/common/logging.h"
#include "core/resilience/call_policy.h"
#include "core/runner/evaluator.h"
#include "core/runner/row_state.h"
#include "core/runner/runner_metrics.h"

namespace llmeval::runner {

struct Evaluator::Impl {
  EventLoop& loop;
  Clock& clock;
  std::vector<ProviderSlot> chain;
  std::vector<bool> provider_disabled;  // rejected our key (401/403)
  std::vector<Juror> jurors;            // by chain index: with --jury, who each juror is
  resilience::RateLimiter& limiter;
  EvaluatorOptions options;
  std::mt19937_64 random;
  std::shared_ptr<spdlog::logger> log = logger("runner");
  std::vector<bool> fallback_announced;  // by the provider fallen back from: warn once, then debug
  output::RunCounters counters;  // breaker_openings is refreshed by Evaluator::counters()
  bool auth_failed = false;
  std::string auth_message;
  RunnerMetrics metrics;
  std::size_t calls_open = 0;      // created, not finished
  std::size_t requests_out = 0;    // sent, not answered
  std::deque<JudgeCall*> ready;
  int in_flight = 0;
  std::size_t rows_active = 0;
  int batches = 0;                 // Batch objects alive: dispatch waits for the last to end
  bool dispatching = false;
  bool stopped = false;
  std::function<void()> when_quiet;  // from stop(), posted once requests_out reaches 0
  std::unordered_map<RowId, RowState*> live_rows;  // started, not finished; freed by ~Impl if abandoned
  RowId next_row_id = 1;
  // Replies, timers and grants may arrive after the evaluator is gone (serve drops evaluators
  // with requests out); callbacks hold a weak reference to this and then do nothing.
  std::shared_ptr<char> alive = std::make_shared<char>();

  Impl(EventLoop& l, Clock& c, std::vector<ProviderSlot> ch, resilience::RateLimiter& lim, EvaluatorOptions o);
  ~Impl();

  // Wraps a callback that may outlive the evaluator: it then does nothing.
  template <typename F>
  auto guarded(F fn) {
    return [token = std::weak_ptr<char>(alive), fn = std::move(fn)](auto&&... args) mutable {
      if (token.expired()) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  void update_queue_depth() { metrics.queue_depth(calls_open - requests_out); }
  std::size_t index_of(const ProviderSlot& slot) const { return static_cast<std::size_t>(&slot - chain.data()); }

  // ---- rows (evaluator.cpp) -------------------------------------------------------------

  RowId evaluate(dataset::EvalItem item, Done done);
  // How an LLM criterion's calls are laid out (jurors x samples x orders).
  CallLayout layout_of(const dataset::Criterion& criterion) const;
  // Creates the calls of one LLM criterion of the row.
  void add_calls(RowState& row, std::size_t criterion_index);
  // A call has its result: frees its concurrency slot, finishes its row when it was the last.
  void finish_call(JudgeCall* call);
  // Frees the row, then hands its record to done (which may evaluate() more rows).
  void finish_row(RowState* row);
  // Starts waiting calls, oldest first, while there are concurrency slots and no Batch.
  void dispatch();
  // The call has its verdict; `info` says who judged it, at what cost.
  void succeed_call(JudgeCall* call, const judge::Verdict& verdict, output::JudgeInfo info);
  void fail_call(JudgeCall* call, const std::string& kind, const std::string& message);
  // One call of a criterion is in (or failed): when it was the criterion's last, the criterion
  // gets its result from its calls (resolve_criterion), or its row the error.
  void finish_sample(JudgeCall* call);
  void stop(std::function<void()> quiet);
  void post_when_quiet();

  // ---- one judge call (judge_calls.cpp) --------------------------------------------------

  // A provider this call may not use: it rejected our key, it runs another judge model while
  // the run must keep to one, or (--jury) it is another juror.
  bool unusable(const JudgeCall* call, std::size_t index) const;
  std::vector<bool> usable_now(const JudgeCall* call) const;  // by chain position: !unusable
  // Skips unusable providers; false when none is left.
  bool choose_provider(JudgeCall* call);
  // Asks the limiter for the call's provider (or the breaker says it is open); then sends.
  void admit(JudgeCall* call);
  // The first time a call goes to a provider, asks the judge cache; true when the answer will
  // come from the lookup (a hit finishes the call, a miss admits it again).
  bool consult_cache(JudgeCall* call);
  void store_in_cache(const JudgeCall* call, const judge::Verdict& verdict, const output::JudgeInfo& info);
  void admitted(JudgeCall* call, const Result<resilience::Admission>& admission);
  // With --max-cost: reserves the call's worst case, then clears it to go (or stops the run).
  void reserve_cost(JudgeCall* call);
  // The call has its limiter grant (and budget reservation): asks the breaker, then sends.
  void cleared(JudgeCall* call);
  // Gives the call's reservation back, settled at what the attempt cost.
  void settle_cost(JudgeCall* call, const provider::TokenUsage* usage);
  // A half-open probe also needs the cluster-wide lease, so N processes send a handful of
  // probes between them, not a handful each.
  void take_probe_lease(JudgeCall* call);
  void release_probe_lease(JudgeCall* call, const ProviderSlot& slot);
  void admit_later(std::chrono::milliseconds delay, JudgeCall* call);
  // The provider's breaker refused the call (open, or half-open with its probes out here or,
  // with a probe lease, anywhere): the call policy says where it goes.
  void breaker_refused(JudgeCall* call);
  // Feeds the provider's breaker and says so in the log when it opens or closes (one line per
  // change, not per call).
  void tell_breaker(const ProviderSlot& slot, const Error* error);
  void send(JudgeCall* call);
  void on_reply(JudgeCall* call, Result<provider::CompletionResponse> reply);
  void on_call_error(JudgeCall* call, const Error& error);
  // What the call policy needs to know about the call and the world right now.
  resilience::CallState state_of(const JudgeCall* call) const;
  resilience::CallContext context_of(const JudgeCall* call);  // draws the backoff jitter
  // Carries out the call policy's decision; `cause` is what led to it, for the log.
  void carry_out(JudgeCall* call, const resilience::Decision& decision, const Error& cause);
};

}  // namespace llmeval::runner
