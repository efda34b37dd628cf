// ShutdownSignals: SIGINT and SIGTERM for a command that drains (`run`, `serve`). The first
// signal calls `drain` (finish what is in flight, then stop); a second one ends the process at
// once with exit 130 — after removing the temporary files registered with remove_on_exit, which
// the destructors that would have removed them never get to. Loop thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/common/event_loop.h"

namespace llmeval::cli {

class ShutdownSignals {
 public:
  ShutdownSignals(LibeventLoop& loop, std::function<void()> drain);
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // A file a second signal removes before the process exits.
  void remove_on_exit(std::string path) { temporary_files_.push_back(std::move(path)); }

 private:
  void on_signal();

  std::function<void()> drain_;
  std::vector<std::string> temporary_files_;
  int seen_ = 0;
};

}  // namespace llmeval::cli
