#include "cli/progress_display.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/common/logging.h"

namespace llmeval::cli {
namespace {

// Lines in a file: newlines, plus a last line without one. -1 when it cannot be read.
std::int64_t count_lines(const std::string& path, const std::atomic<bool>& stop) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::vector<char> buffer(1 << 20);
  std::int64_t lines = 0;
  char last = '\n';
  for (;;) {
    if (stop) {
      ::close(fd);
      return -1;
    }
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    lines += std::count(buffer.data(), buffer.data() + n, '\n');
    last = buffer[static_cast<std::size_t>(n - 1)];
  }
  ::close(fd);
  return lines + (last != '\n' ? 1 : 0);
}

std::string compact(std::int64_t value) {
  char text[32];
  if (value >= 10'000'000) {
    std::snprintf(text, sizeof text, "%.0fM", static_cast<double>(value) / 1e6);
  } else if (value >= 10'000) {
    std::snprintf(text, sizeof text, "%.0fk", static_cast<double>(value) / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(value));
  }
  return text;
}

std::string duration(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  }
  return text;
}

}  // namespace

ProgressMode choose_progress_mode(bool quiet, bool no_progress) {
  if (quiet) return ProgressMode::kOff;
  if (!no_progress && ::isatty(STDERR_FILENO)) return ProgressMode::kTerminal;
  return ProgressMode::kLogLines;
}

ProgressDisplay::ProgressDisplay(EventLoop& loop, Clock& clock, ProgressOptions options,
                                 std::function<ProgressSnapshot()> sample)
    : loop_(loop), clock_(clock), options_(std::move(options)), sample_(std::move(sample)), started_(clock.now()),
      last_log_(started_) {
  if (options_.mode == ProgressMode::kOff) return;
  struct stat info {};
  if (!options_.dataset_path.empty() && ::stat(options_.dataset_path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
    counter_ = std::thread([this] { lines_ = count_lines(options_.dataset_path, stop_counting_); });
  }
  timer_ = loop_.add_timer(options_.redraw_every, [this] { tick(); });
}

ProgressDisplay::~ProgressDisplay() {
  finish();
  stop_counting_ = true;
  if (counter_.joinable()) counter_.join();
}

void ProgressDisplay::finish() {
  loop_.cancel_timer(timer_);
  timer_ = 0;
  if (options_.mode == ProgressMode::kTerminal) set_status_line("");
}

std::optional<std::int64_t> ProgressDisplay::total() const {
  std::int64_t lines = lines_;
  if (lines < 0) return std::nullopt;
  // Shard I of N owns lines I+1, I+1+N, ...
  std::int64_t own = lines > options_.shard_index
                         ? (lines - 1 - options_.shard_index) / options_.shard_count + 1
                         : 0;
  if (options_.limit >= 0) own = std::min(own, options_.limit);
  return own;
}

std::string ProgressDisplay::render(const ProgressSnapshot& s, bool color) const {
  double elapsed = std::chrono::duration<double>(clock_.now() - started_).count();
  std::int64_t done_here = s.done - std::max<std::int64_t>(done_at_start_, 0);
  double rate = elapsed > 0.5 ? static_cast<double>(done_here) / elapsed : 0.0;
  std::string text = "rows " + compact(s.done);
  auto all = total();
  if (all && *all > 0) {
    char percent[16];
    std::snprintf(percent, sizeof percent, " (%.0f%%)", 100.0 * static_cast<double>(s.done) / static_cast<double>(*all));
    text += "/" + compact(*all) + percent;
  }
  if (elapsed > 0.5) {
    char speed[32];
    std::snprintf(speed, sizeof speed, "  %.0f rows/s", rate);
    text += speed;
  }
  if (all && rate > 0 && *all > s.done) text += "  ETA " + duration(static_cast<double>(*all - s.done) / rate);
  if (!s.batches.empty()) text += "  " + s.batches;
  const char* red = color ? "\x1b[31m" : "";
  const char* yellow = color ? "\x1b[33m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  text += "  errors ";
  text += s.errors > 0 ? red + compact(s.errors) + reset : compact(s.errors);
  text += "  retries " + compact(s.retries);
  if (s.open_breakers > 0) text += std::string("  ") + yellow + "breakers open " + compact(s.open_breakers) + reset;
  text += "  tokens " + compact(s.tokens);
  if (s.cost) {
    char cost[32];
    std::snprintf(cost, sizeof cost, "  $%.2f", *s.cost);
    text += cost;
  }
  return text;
}

void ProgressDisplay::tick() {
  ProgressSnapshot snapshot = sample_();
  if (done_at_start_ < 0) done_at_start_ = snapshot.done;  // resumed rows do not count for the rate
  if (options_.mode == ProgressMode::kTerminal) {
    set_status_line(render(snapshot, options_.color));
  } else if (clock_.now() - last_log_ >= options_.log_every) {
    last_log_ = clock_.now();
    logger("progress")->info("{}", render(snapshot, false));
  }
  timer_ = loop_.add_timer(options_.redraw_every, [this] { tick(); });
}

}  // namespace llmeval::cli
