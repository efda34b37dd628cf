// BatchTracker: the provider side of run --batch (docs/batch.md). It submits each batch the
// spooler seals (and, on --resume, those recorded but never accepted), polls the submitted
// ones, and when one ends streams its results to disk, recording every step in the journal
// first. As the run's RowGate it lets a row be judged once every batch of its window has ended,
// indexing that window's results into the providers' BatchAnswers on the way.
//
// A submission that fails with a retryable error (a timeout, 5xx, 429) is retried with backoff;
// one the API refuses (a 4xx, a rejected key) ends the batch as `not_submitted`: its calls go to
// the fallback when their rows are judged, as those of an expired or failed batch do.
//
// All collaborators are borrowed. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/batch/batch_api.h"
#include "core/batch/batch_journal.h"
#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/runner/batch_answers.h"
#include "core/runner/runner.h"

namespace llmeval::runner {

struct BatchEndpoint {
  batch::BatchApi* api = nullptr;
  BatchAnswers* answers = nullptr;
};

struct BatchTrackerOptions {
  std::string dir;  // spool and results files
  std::chrono::milliseconds poll_interval{30'000};
  int submit_attempts = 6;
  std::chrono::milliseconds submit_backoff{2'000};  // doubled on each retry
};

// What the progress line and the summary show.
struct BatchProgress {
  std::int64_t batches = 0;        // recorded in the journal
  std::int64_t submitted = 0;      // accepted by a provider
  std::int64_t ended = 0;          // results collected (or none to collect)
  std::int64_t requests = 0;       // in all batches
  std::int64_t requests_done = 0;  // answered (succeeded or failed) as last polled, or ended
  double waited_seconds = 0;       // rows held at the gate, waiting for batches to end
};

class BatchTracker final : public RowGate {
 public:
  // endpoints: by provider name (the journal's "provider").
  BatchTracker(LibeventLoop& loop, Clock& clock, batch::BatchJournal& journal,
               std::map<std::string, BatchEndpoint> endpoints, BatchTrackerOptions options);
  ~BatchTracker() override;
  BatchTracker(const BatchTracker&) = delete;
  BatchTracker& operator=(const BatchTracker&) = delete;

  // Submits every batch of the journal not accepted yet and starts polling.
  void start();
  // The spooler sealed (and recorded) a window: submit its batches.
  void window_sealed(const batch::WindowState& window);
  // The spooler is done: no window will follow the last one.
  void spooling_done();

  Verdict check(std::int64_t line, std::function<void()> open) override;
  void done(std::int64_t line) override;

  // --cancel-batches: asks the provider to cancel every batch submitted and not ended; done
  // runs once all have answered.
  void cancel_open(std::function<void()> done);

  BatchProgress progress() const;
  // Every batch of the journal: {"id": local, "provider", "batch_id", "requests", "status"}.
  std::vector<std::map<std::string, std::string>> batches() const;
  // A batch failed in a way the run cannot go on from (the journal cannot be written).
  const std::string& fatal() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The results file of a batch.
std::string results_path(const std::string& dir, const std::string& local_id);

}  // namespace llmeval::runner
