// Runner: the item pipeline of `llmeval run` — reader -> Evaluator (criteria -> limiter ->
// provider -> judge parser) -> result sink — driven entirely by the EventLoop. The Runner is the
// reading half: it pumps rows from the JsonlReader into an Evaluator it owns (evaluator.h says
// how a row is judged: retries, fallback, breakers, repair, auth) and records each result.
//
// Concurrency: at most `evaluator.concurrency` judge calls in flight; the reader runs at most
// `max_rows_ahead` rows ahead of the results, so memory is bounded whatever the dataset size.
// Every row read yields exactly one ResultRecord through the sink (ok, error or invalid), in
// completion order. A 401/403 from every provider records the remaining rows as `auth` errors
// without calls. With a ResumeIndex, rows already recorded are skipped; a row whose id differs
// from the recorded one stops the run (RunOutcome::resume_mismatch) before anything else is sent.
// With a cost budget, a refused reservation stops the run like interrupt() does
// (RunOutcome::budget_exhausted).
// A sink that fails stops the run at once (RunOutcome::record_error); it is not called again.
//
// All collaborators are borrowed and must outlive the runner. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/dataset/jsonl_reader.h"
#include "core/output/result_record.h"
#include "core/output/resume_index.h"
#include "core/output/summary.h"
#include "core/resilience/rate_limiter.h"
#include "core/runner/evaluator.h"

namespace llmeval::runner {

// run --batch (batch_run.h): a row may be judged only once the batches holding its calls have
// ended. The Runner asks before it hands a row (valid or not) to the evaluator.
class RowGate {
 public:
  enum class Verdict {
    kGo,    // judge it now
    kWait,  // not yet: `open` runs later, once, on the loop, and the row is asked about again
    kEnd,   // no row from this line on is judged in this run (its calls were never submitted)
  };
  virtual ~RowGate() = default;
  virtual Verdict check(std::int64_t line, std::function<void()> open) = 0;
  // A row the gate let through has been recorded.
  virtual void done(std::int64_t line) = 0;
};

struct RunnerOptions {
  EvaluatorOptions evaluator;      // judging: -j, attempt timeout, retries, deadline, metrics
  std::size_t max_rows_ahead = 0;  // rows read but not finished; 0 = 2 × evaluator.concurrency + 16
  std::int64_t limit = -1;         // rows to process; -1 = all
  // --resume: rows already recorded are skipped (no result, no call); borrowed, optional.
  const output::ResumeIndex* resume = nullptr;
  RowGate* gate = nullptr;  // optional; borrowed
};

struct RunOutcome {
  output::RunCounters counters;
  bool auth_failed = false;  // every provider rejected its key; later rows were not attempted
  std::string auth_message;
  std::int64_t rows_read = 0;
  std::int64_t rows_skipped = 0;  // already recorded (--resume)
  bool interrupted = false;       // interrupt() was called: unfinished rows were not recorded
  std::string resume_mismatch;    // set when the results file belongs to another dataset
  std::string record_error;       // set when the sink failed: the run stopped there
  // --max-cost: a call would have passed the budget, so nothing more was sent; the requests in
  // flight were answered and their rows recorded; rows not finished were not (a --resume does them).
  bool budget_exhausted = false;
  bool gate_ended = false;  // the gate said kEnd: rows from there on were read but not judged
};

// Records one row; an error (the results file cannot be written) stops the run: rows not yet
// recorded stay unrecorded, so a --resume judges them.
using ResultSink = std::function<Result<Ok>(const output::ResultRecord&)>;

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

  // The counters so far (provider requests, retries, ...), for a progress display. Loop thread.
  const output::RunCounters& live_counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::runner
