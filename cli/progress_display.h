// ProgressDisplay: what a person sees while `llmeval run` works. On a terminal (stderr a TTY,
// no -q, no --no-progress) a status line redrawn in place four times a second, under the log
// lines (logging.h's set_status_line keeps them apart): rows done of the total, rows/s, ETA,
// errors, retries, open breakers, tokens and cost. Elsewhere (CI logs, a file) a plain line
// every `log_every` instead, through the "progress" logger. NO_COLOR turns colours off.
//
// The total is counted in the background for a regular file (a thread reads it once, counting
// newlines, at disk speed), so a run never waits for it; it is unknown for stdin and URLs.
// Loop thread only, except the counting thread it owns. `loop` must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "core/common/clock.h"
#include "core/common/event_loop.h"

namespace llmeval::cli {

struct ProgressSnapshot {
  std::int64_t done = 0;            // rows recorded (resumed ones included)
  std::int64_t errors = 0;          // error + invalid rows
  std::int64_t retries = 0;
  std::int64_t open_breakers = 0;
  std::int64_t tokens = 0;
  std::optional<double> cost;
  std::string batches;  // run --batch: where its batches stand
};

enum class ProgressMode { kOff, kTerminal, kLogLines };

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kOff;
  bool color = true;
  std::string dataset_path;                 // a regular file: its rows are counted for the total
  std::int64_t shard_index = 0, shard_count = 1;
  std::int64_t limit = -1;                  // --limit caps the total
  std::chrono::milliseconds redraw_every{250};
  std::chrono::milliseconds log_every{10000};
};

// Terminal when stderr is a TTY and progress is wanted; log lines otherwise (unless quiet).
ProgressMode choose_progress_mode(bool quiet, bool no_progress);

class ProgressDisplay {
 public:
  ProgressDisplay(EventLoop& loop, Clock& clock, ProgressOptions options, std::function<ProgressSnapshot()> sample);
  ~ProgressDisplay();  // removes the status line, stops the counting thread
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // The run is over: no more redraws, and the status line is removed before the summary.
  void finish();

  // The text of the status line for a snapshot (exposed for tests).
  std::string render(const ProgressSnapshot& snapshot, bool color) const;

 private:
  void tick();
  std::optional<std::int64_t> total() const;

  EventLoop& loop_;
  Clock& clock_;
  ProgressOptions options_;
  std::function<ProgressSnapshot()> sample_;
  Clock::TimePoint started_;
  std::int64_t done_at_start_ = -1;
  TimerId timer_ = 0;
  Clock::TimePoint last_log_;
  std::atomic<std::int64_t> lines_{-1};  // the dataset's lines, once counted
  std::atomic<bool> stop_counting_{false};
  std::thread counter_;
};

}  // namespace llmeval::cli
