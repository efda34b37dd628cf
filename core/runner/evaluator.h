// Evaluator: judges rows one at a time — criteria -> limiter -> breaker -> provider -> judge
// parser -> one ResultRecord per row, handed to that row's own completion callback. `run` feeds
// it from a dataset (Runner); `serve` from HTTP requests, on a loop that runs forever.
//
// Concurrency: at most `concurrency` judge calls in flight; calls beyond that wait in order.
// A failed call retries with capped, fully jittered exponential backoff on a timer (never a
// sleep, never before a Retry-After), within the provider's retry budget and the row deadline,
// then falls back to the next provider of the chain. A provider whose circuit breaker is open is
// skipped for the next one; when it is the last, the call waits for the breaker's half-open
// probe (each wait counts as an attempt). An unparseable judge reply gets one repair attempt,
// then the criterion fails with `judge_unparseable`: no score is ever invented. A 401/403 takes
// that provider out of the chain; when none is left, later calls fail as `auth` without calls.
// A row whose calls failed is an `error` record carrying the scored criteria and the first error.
//
// All collaborators are borrowed and must outlive the evaluator. Loop thread only: one evaluator
// per loop; several evaluators (one per `serve` thread) may share one EngineMetrics. Callbacks
// the loop, limiter, probe lease or providers run after the evaluator is gone do nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cache/judge_cache.h"
#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/dataset/eval_item.h"
#include "core/judge/judge_prompt.h"
#include "core/metrics/engine_metrics.h"
#include "core/output/result_record.h"
#include "core/output/summary.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"
#include "core/resilience/circuit_breaker.h"
#include "core/resilience/cost_budget.h"
#include "core/resilience/probe_lease.h"
#include "core/resilience/rate_limiter.h"
#include "core/resilience/retry_budget.h"
#include "core/resilience/call_policy.h"
#include "core/runner/verdict_resolution.h"

namespace llmeval::runner {

struct ProviderSlot {
  provider::Provider* provider = nullptr;
  std::string limiter_key;                        // the rate-limit bucket this provider draws from
  resilience::CircuitBreaker* breaker = nullptr;  // optional; borrowed
  resilience::RetryBudget* retry_budget = nullptr;  // optional; borrowed
  resilience::ProbeLease* probe_lease = nullptr;    // optional; borrowed: cluster-wide half-open probes
  std::optional<provider::Price> price{};  // for llmeval_cost_usd_total; none: its cost is unknown
};

struct EvaluatorOptions {
  int concurrency = 64;              // judge calls in flight (-j)
  // --repeat: each LLM criterion is judged this many times (samples 0..N-1, each its own cache
  // entry); its score is the samples' mean (output::CriterionResult::samples).
  int repeat = 1;
  // --jury: every provider of the chain is a juror and judges every LLM criterion (no fallback
  // between them); the criterion's result aggregates their verdicts (verdict_resolution.h).
  JuryOptions jury;
  judge::JudgeOptions judge;         // prompt settings and per-attempt timeout
  // Attempts (--retries + 1), backoff, and the row deadline, counted from the row's hand-over
  // to evaluate(): see call_policy.h.
  resilience::CallPolicyOptions policy;
  bool same_model_only = false;      // fall back only to providers running the first one's model
  std::uint64_t seed = 0x5eed;       // backoff jitter
  metrics::EngineMetrics* metrics = nullptr;  // optional; borrowed; may be shared by evaluators
  // run: llmeval_inflight_requests counts judge requests in flight. serve sets false: there the
  // gauge counts HTTP requests (the HPA's metric) and the server maintains it.
  bool judge_calls_are_inflight = true;
  // The judge cache (optional; borrowed): consulted before a call first goes to a provider,
  // written after a verdict, as cache_mode allows.
  cache::JudgeCache* cache = nullptr;
  cache::CacheMode cache_mode = cache::CacheMode::kReadWrite;
  // --max-cost (optional; borrowed): each attempt reserves its worst case at its provider's
  // price before it is sent (a provider without a price reserves nothing). When a reservation
  // is refused the evaluator stops as stop() does and budget_exhausted runs, once.
  resilience::CostBudget* budget = nullptr;
  std::function<void()> budget_exhausted;
  // run --batch: each call's request carries its custom_id (line, criterion, sample, juror,
  // order; core/batch/custom_id.h), so a batch's result can answer it (batch_answers.h).
  bool batch_custom_ids = false;
};

// Names a row handed to evaluate(), for cancel(); never reused by one evaluator.
using RowId = std::uint64_t;

class Evaluator {
 public:
  using Done = std::function<void(output::ResultRecord)>;

  Evaluator(EventLoop& loop, Clock& clock, std::vector<ProviderSlot> chain, resilience::RateLimiter& limiter,
            EvaluatorOptions options);
  ~Evaluator();  // rows not finished are freed; their Done is never called
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Judges one row; done runs exactly once on the loop thread (possibly inside evaluate() when
  // the row has no LLM criteria), unless stop() dropped the row or the evaluator was destroyed
  // first. The record's id, line and metadata come from the item. done may call evaluate() again;
  // it must not destroy the evaluator.
  RowId evaluate(dataset::EvalItem item, Done done);

  // Nobody wants the row's result any more (serve: the client hung up). Its calls not yet sent
  // are never sent, and nothing is retried or repaired for it: each ends as a `cancelled` error
  // when it comes up, so the row still finishes, as an `error`, and done runs. A request already
  // out is not recalled; its answer counts. A row already finished, or unknown, is ignored.
  void cancel(RowId row);

  // While a Batch lives, evaluate() only queues a row's calls; they are sent, in order, when the
  // last Batch ends. The Runner reads a burst of rows under one, so a row that stops the run
  // (a --resume mismatch) stops it before any call of the burst is sent.
  class Batch {
   public:
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    friend class Evaluator;
    explicit Batch(Evaluator& evaluator);
    Evaluator& evaluator_;
  };
  [[nodiscard]] Batch batch();

  // Counts an invalid row (llmeval_evaluations_total{status="invalid"}); the caller records it.
  void count_invalid();

  std::size_t rows_active() const;   // evaluate()d, done not yet called
  std::size_t requests_out() const;  // sent to a provider, not answered

  // Stops sending: calls not yet sent (and those of rows evaluate()d later) are dropped, so
  // their rows never finish; requests already sent are still answered and their rows recorded
  // when complete. when_quiet is posted to the loop once requests_out() is 0 (at once if it
  // already is). Idempotent: a second call changes nothing.
  void stop(std::function<void()> when_quiet);

  // provider_requests, retries, fallbacks, rate_limit_waits; breaker_openings is read from the
  // chain's breakers at each call.
  const output::RunCounters& counters() const;
  bool auth_failed() const;  // every provider rejected its key; later calls were not attempted
  const std::string& auth_message() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::runner
