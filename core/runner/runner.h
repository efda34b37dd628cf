// Runner: the item pipeline of `llmeval run` — reader -> criteria -> limiter -> provider ->
// judge parser -> result sink — driven entirely by the EventLoop.
//
// Concurrency: at most `concurrency` judge calls in flight; the reader runs at most
// `max_rows_ahead` rows ahead of the results, so memory is bounded whatever the dataset size.
// Every row read yields exactly one ResultRecord through the sink (ok, error or invalid), in
// completion order. A failed call retries with capped, fully jittered exponential backoff on a
// timer (never a sleep, never before a Retry-After), within the provider's retry budget, then
// falls back to the next provider of
// the chain. A provider whose circuit breaker is open is skipped for the next one; when it is
// the last, the call waits for the breaker's half-open probe (each wait counts as an attempt).
// An unparseable judge reply gets one repair attempt, then the criterion fails with
// `judge_unparseable`: no score is ever invented. A 401/403 takes that provider out of the
// chain; when none is left, the remaining rows are recorded as `auth` errors without calls.
// With a ResumeIndex, rows already recorded are skipped; a row whose id differs from the
// recorded one stops the run (RunOutcome::resume_mismatch) before anything else is sent.
//
// All collaborators are borrowed and must outlive the runner. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/dataset/jsonl_reader.h"
#include "core/judge/judge_prompt.h"
#include "core/metrics/engine_metrics.h"
#include "core/output/result_record.h"
#include "core/output/resume_index.h"
#include "core/output/summary.h"
#include "core/provider/provider.h"
#include "core/resilience/circuit_breaker.h"
#include "core/resilience/probe_lease.h"
#include "core/resilience/rate_limiter.h"
#include "core/resilience/retry_budget.h"

namespace llmeval::runner {

struct ProviderSlot {
  provider::Provider* provider = nullptr;
  std::string limiter_key;                        // the rate-limit bucket this provider draws from
  resilience::CircuitBreaker* breaker = nullptr;  // optional; borrowed
  resilience::RetryBudget* retry_budget = nullptr;  // optional; borrowed
  resilience::ProbeLease* probe_lease = nullptr;    // optional; borrowed: cluster-wide half-open probes
};

struct RunnerOptions {
  int concurrency = 64;              // judge calls in flight (-j)
  std::size_t max_rows_ahead = 0;    // rows read but not finished; 0 = 2 × concurrency + 16
  judge::JudgeOptions judge;         // prompt settings and per-attempt timeout
  int max_attempts = 4;              // per provider, first try included (--retries + 1)
  std::chrono::milliseconds retry_base{250};
  std::chrono::milliseconds retry_max{20000};
  // A row's calls stop retrying once this long has passed since the row was read (the call
  // then falls back or fails with its last error); 0 = no deadline.
  std::chrono::milliseconds row_deadline{300000};
  std::int64_t limit = -1;           // rows to process; -1 = all
  bool same_model_only = false;      // fall back only to providers running the first one's model
  std::uint64_t seed = 0x5eed;       // backoff jitter
  metrics::EngineMetrics* metrics = nullptr;  // optional; borrowed
  // --resume: rows already recorded are skipped (no result, no call); borrowed, optional.
  const output::ResumeIndex* resume = nullptr;
};

struct RunOutcome {
  output::RunCounters counters;
  bool auth_failed = false;  // every provider rejected its key; later rows were not attempted
  std::string auth_message;
  std::int64_t rows_read = 0;
  std::int64_t rows_skipped = 0;  // already recorded (--resume)
  bool interrupted = false;       // interrupt() was called: unfinished rows were not recorded
  std::string resume_mismatch;    // set when the results file belongs to another dataset
};

using ResultSink = std::function<void(const output::ResultRecord&)>;

class Runner {
 public:
  Runner(EventLoop& loop, Clock& clock, dataset::JsonlReader& reader, std::vector<ProviderSlot> chain,
         resilience::RateLimiter& limiter, ResultSink sink, RunnerOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs the loop until every row read has been recorded, or after interrupt() until the
  // requests in flight are answered or the grace period ends.
  RunOutcome run();

  // Stop taking rows (a signal): calls not yet sent are dropped, requests in flight get up to
  // `grace` to finish and their rows are recorded when complete; every other row is recorded
  // nowhere, so a --resume picks it up. Loop thread only (e.g. from a signal event).
  void interrupt(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::runner
