// run --batch (docs/batch.md): the judge calls of chosen providers go through their batch APIs
// at half price. BatchMode puts the run's parts together: the journal next to the output
// (OUT.batches.jsonl) and its spool and results files (OUT.batches/), a BatchSpooler reading
// the dataset a second time to fill and seal batches as it streams, a BatchTracker submitting
// and polling them, and in the chain the run judges with, each batched provider stood in for
// by a BatchAnswers that answers its calls from their batch's results. The Runner reads rows
// as usual, through the tracker as its RowGate. Both phases run on one loop at once: rows are
// judged window by window as batches end, while later windows are still being spooled.
//
// Which providers batch: --batch batches chain[0] (with --jury, every juror); a provider's
// config "batch": true batches it alone. --batch-fallback error keeps a non-jury chain to its
// batched provider: nothing is judged online.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cli/engine_setup.h"
#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/dataset/jsonl_reader.h"
#include "core/output/resume_index.h"
#include "core/resilience/cost_budget.h"
#include "core/runner/runner.h"

namespace llmeval::cli {

struct BatchFlags {
  bool batch = false;
  std::string fallback = "online";
  std::size_t batch_size = 0;
  std::string poll = "30s";
  bool cancel_batches = false;
};

void add_batch_flags(CLI::App& command, BatchFlags& flags);

// What the run needs to know to set batch mode up.
struct BatchRunContext {
  std::string dataset;       // a regular file: read twice
  std::string results_path;  // the JSONL results file (-o)
  bool resume = false;
  dataset::ReaderOptions reader;
  runner::RunnerOptions runner;  // judge, repeat, jury, cache, resume, limit
  resilience::CostBudget* budget = nullptr;
};

class BatchMode {
 public:
  // Throws FatalError (exit 2) for what cannot be batched (stdin, a provider without a batch
  // API, results not in a file), and when a fresh run would forget batches still open.
  BatchMode(LibeventLoop& loop, Clock& clock, const BatchFlags& flags, const EngineSettings& settings,
            const std::vector<runner::ProviderSlot>& chain, BatchRunContext context);
  ~BatchMode();
  BatchMode(const BatchMode&) = delete;
  BatchMode& operator=(const BatchMode&) = delete;

  bool active() const;
  // The chain to judge with: the batched providers stood in for by their BatchAnswers.
  std::vector<runner::ProviderSlot> chain() const;
  runner::RowGate* gate();
  // Sets the Runner's options for batch mode (custom_ids on requests, the gate).
  void configure(runner::RunnerOptions& options);
  // Starts spooling, submitting and polling (on the loop the Runner then runs).
  void start();
  // SIGINT: stop spooling; submitted batches keep running (a --resume collects them).
  void interrupt();
  // After the run: --cancel-batches cancels the batches still open when the run was stopped.
  void after_run(bool interrupted);
  bool budget_exhausted() const;
  const std::string& fatal() const;  // the journal or a spool file could not be written

  // " batches 2/3 done, requests 1.2k/4k" for the progress line; empty when not active.
  std::string progress_text() const;
  // The summary's "batch" object, or null.
  nlohmann::json summary_json() const;
  std::string summary_line() const;  // for the table; empty when not active

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace llmeval::cli
