#include "cli/shutdown_signals.h"

#include <unistd.h>

#include <csignal>
#include <utility>

namespace llmeval::cli {

ShutdownSignals::ShutdownSignals(LibeventLoop& loop, std::function<void()> drain) : drain_(std::move(drain)) {
  loop.on_signal(SIGINT, [this] { on_signal(); });
  loop.on_signal(SIGTERM, [this] { on_signal(); });
}

void ShutdownSignals::on_signal() {
  if (++seen_ == 1) {
    drain_();
    return;
  }
  for (const auto& path : temporary_files_) ::unlink(path.c_str());
  ::_exit(130);
}

}  // namespace llmeval::cli
