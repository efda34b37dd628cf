#include "core/runner/batch_tracker.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <utility>

#include "core/common/logging.h"
#include "core/runner/batch_spooler.h"

namespace llmeval::runner {

std::string results_path(const std::string& dir, const std::string& local_id) {
  return dir + "/" + local_id + ".results.jsonl";
}

namespace {

// A batch that ended with every result there is: no call of it is missing for a reason of the
// batch's own (an Anthropic batch ends "ended", its expired requests each say so).
bool ended_whole(const std::string& status) { return status == "completed" || status == "ended"; }

}  // namespace

struct BatchTracker::Impl {
  struct Runtime {
    batch::BatchStatus status;
    bool busy = false;  // a submit, retrieve or download is out
    int submit_attempts = 0;
    bool polled = false;  // status holds a retrieve's answer
  };

  LibeventLoop& loop;
  Clock& clock;
  batch::BatchJournal& journal;
  std::map<std::string, BatchEndpoint> endpoints;
  BatchTrackerOptions options;
  std::map<std::string, Runtime> runtime;  // by local id
  // Windows indexed into the answers (by index in the journal), with their rows let through
  // and not recorded yet; a window is forgotten once the gate is past it and they are all in.
  std::map<std::size_t, std::int64_t> loaded;
  std::size_t reading = 0;  // the window of the last row let through
  bool spooling_done = false;
  std::function<void()> waiting;  // the gate's open, while a row waits
  std::optional<Clock::TimePoint> waiting_since;
  double waited_seconds = 0;
  std::string fatal;
  bool polling = false;
  std::shared_ptr<spdlog::logger> log = logger("batch");
  std::shared_ptr<char> alive = std::make_shared<char>();

  Impl(LibeventLoop& l, Clock& c, batch::BatchJournal& j, std::map<std::string, BatchEndpoint> e, BatchTrackerOptions o)
      : loop(l), clock(c), journal(j), endpoints(std::move(e)), options(std::move(o)) {}

  template <typename F>
  auto guarded(F fn) {
    return [token = std::weak_ptr<char>(alive), fn = std::move(fn)](auto&&... args) mutable {
      if (token.expired()) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  batch::BatchApi* api_of(const batch::BatchState& batch) {
    auto it = endpoints.find(batch.provider);
    return it == endpoints.end() ? nullptr : it->second.api;
  }

  // A batch an earlier run prepared but never recorded as accepted may have been accepted all
  // the same (the crash came in between): look for it before submitting it again.
  void start() {
    for (const auto& window : journal.windows()) {
      for (const auto& batch : window.batches) {
        if (!batch.ended.empty() || batch.submitted()) continue;
        batch::BatchApi* api = api_of(batch);
        if (api == nullptr) {
          submit(batch.local_id);
          continue;
        }
        runtime[batch.local_id].busy = true;
        api->find_submitted(
            batch.local_id, guarded([this, local_id = batch.local_id](Result<std::string> found) {
              runtime[local_id].busy = false;
              if (found.ok() && !found.value().empty()) {
                log->info("batch {}: found at the provider as {} (accepted before the crash)", local_id, found.value());
                if (Result<Ok> recorded = journal.submitted(local_id, found.value()); !recorded.ok()) {
                  fail(recorded.error().message);
                }
                return;
              }
              if (!found.ok())
                log->warn("batch {}: cannot list the provider's batches ({})", local_id, found.error().message);
              submit(local_id);
            }));
      }
    }
    schedule_poll(std::chrono::milliseconds(0));
  }

  void submit(const std::string& local_id) {
    const batch::BatchState* batch = journal.batch(local_id);
    batch::BatchApi* api = batch != nullptr ? api_of(*batch) : nullptr;
    if (api == nullptr) {
      end_batch(local_id, "not_submitted", "provider " + (batch ? batch->provider : "?") + " is not in this run");
      return;
    }
    Runtime& rt = runtime[local_id];
    rt.busy = true;
    ++rt.submit_attempts;
    api->submit(spool_path(options.dir, local_id), local_id, batch->file_id,
                guarded([this, local_id](Result<batch::Submitted> submitted) { on_submitted(local_id, submitted); }));
  }

  void on_submitted(const std::string& local_id, const Result<batch::Submitted>& submitted) {
    Runtime& rt = runtime[local_id];
    rt.busy = false;
    if (!submitted.ok()) {
      const Error& error = submitted.error();
      const bool retryable = error.kind == ErrorKind::kTimeout || error.kind == ErrorKind::kConnect ||
                             error.kind == ErrorKind::kServer || error.kind == ErrorKind::kRateLimited ||
                             error.kind == ErrorKind::kIo;
      if (retryable && rt.submit_attempts < options.submit_attempts) {
        auto delay = options.submit_backoff * (1 << std::min(rt.submit_attempts - 1, 5));
        if (error.retry_after) delay = std::max(delay, *error.retry_after);
        log->warn("batch {}: submission failed ({}); trying again in {}ms", local_id, error.message, delay.count());
        loop.add_timer(delay, guarded([this, local_id] { submit(local_id); }));
        return;
      }
      log->error("batch {}: not submitted: {}; its calls go to the fallback", local_id, error.message);
      end_batch(local_id, "not_submitted", error.message);
      return;
    }
    const batch::Submitted& s = submitted.value();
    Result<Ok> recorded = s.file_id.empty() ? Result<Ok>(Ok{}) : journal.uploaded(local_id, s.file_id);
    if (recorded.ok()) recorded = journal.submitted(local_id, s.batch_id);
    if (!recorded.ok()) {
      fail(recorded.error().message);
      return;
    }
    ::unlink(spool_path(options.dir, local_id).c_str());  // the provider has it now
    log->info("batch {}: submitted as {}", local_id, s.batch_id);
  }

  void schedule_poll(std::chrono::milliseconds delay) {
    if (polling) return;
    polling = true;
    loop.add_timer(delay, guarded([this] {
                     polling = false;
                     poll();
                   }));
  }

  // Asks after every batch submitted and not ended; keeps polling while any is open.
  void poll() {
    bool open = false;
    for (const auto& window : journal.windows()) {
      for (const auto& batch : window.batches) {
        if (!batch.ended.empty()) continue;
        open = true;
        if (!batch.submitted()) continue;
        Runtime& rt = runtime[batch.local_id];
        if (rt.busy) continue;
        batch::BatchApi* api = api_of(batch);
        if (api == nullptr) continue;
        rt.busy = true;
        api->retrieve(batch.batch_id, guarded([this, local_id = batch.local_id](Result<batch::BatchStatus> status) {
                        on_status(local_id, std::move(status));
                      }));
      }
    }
    if (open || !spooling_done) schedule_poll(options.poll_interval);
  }

  void on_status(const std::string& local_id, Result<batch::BatchStatus> status) {
    Runtime& rt = runtime[local_id];
    if (!status.ok()) {
      rt.busy = false;
      log->warn("batch {}: cannot get its status ({}); asking again later", local_id, status.error().message);
      return;
    }
    rt.status = std::move(status.value());
    rt.polled = true;
    if (!rt.status.ended) {
      rt.busy = false;
      return;
    }
    if (!rt.status.failure.empty()) log->warn("batch {} failed: {}", local_id, rt.status.failure);
    download(local_id);
  }

  void download(const std::string& local_id) {
    Runtime& rt = runtime[local_id];
    const batch::BatchState* batch = journal.batch(local_id);
    batch::BatchApi* api = batch != nullptr ? api_of(*batch) : nullptr;
    if (api == nullptr) return;
    if (rt.status.output_file_id.empty() && rt.status.error_file_id.empty() && rt.status.results_url.empty()) {
      std::FILE* empty = std::fopen(results_path(options.dir, local_id).c_str(), "wb");  // nothing came back
      if (empty != nullptr) std::fclose(empty);
      rt.busy = false;
      end_batch(local_id, rt.status.provider_status, rt.status.failure);
      return;
    }
    api->download(rt.status, results_path(options.dir, local_id), guarded([this, local_id](Result<std::int64_t> bytes) {
                    Runtime& r = runtime[local_id];
                    r.busy = false;
                    if (!bytes.ok()) {
                      log->warn("batch {}: cannot download its results ({}); trying again later", local_id,
                                bytes.error().message);
                      return;
                    }
                    end_batch(local_id, r.status.provider_status, "");
                  }));
  }

  void end_batch(const std::string& local_id, const std::string& status, const std::string& why) {
    if (Result<Ok> recorded = journal.ended(local_id, status); !recorded.ok()) {
      fail(recorded.error().message);
      return;
    }
    if (!why.empty()) not_submitted_reason[local_id] = why;
    log->info("batch {}: ended ({})", local_id, status);
    wake();
  }

  void wake() {
    if (!waiting) return;
    auto open = std::move(waiting);
    waiting = nullptr;
    if (waiting_since) {
      waited_seconds += std::chrono::duration<double>(clock.now() - *waiting_since).count();
      waiting_since.reset();
    }
    loop.post(guarded([open = std::move(open)] { open(); }));
  }

  void fail(std::string message) {
    if (fatal.empty()) fatal = std::move(message);
    log->error("{}", fatal);
    wake();
  }

  Verdict check(std::int64_t line, std::function<void()> open) {
    if (!fatal.empty()) return Verdict::kEnd;
    const auto& windows = journal.windows();
    std::size_t w = 0;
    while (w < windows.size() && windows[w].last_line < line) ++w;
    if (w == windows.size()) {
      if (spooling_done) return Verdict::kEnd;
      return hold(std::move(open));
    }
    if (!windows[w].ended()) return hold(std::move(open));
    load(w);
    ++loaded[w];
    if (w > reading) {
      const std::size_t before = reading;
      reading = w;
      for (std::size_t past = before; past < w; ++past) forget_if_done(past);
    }
    return Verdict::kGo;
  }

  void done(std::int64_t line) {
    const auto& windows = journal.windows();
    auto it = std::lower_bound(windows.begin(), windows.end(), line,
                               [](const batch::WindowState& window, std::int64_t l) { return window.last_line < l; });
    if (it == windows.end()) return;
    const auto w = static_cast<std::size_t>(it - windows.begin());
    auto counted = loaded.find(w);
    if (counted == loaded.end()) return;
    --counted->second;
    forget_if_done(w);
  }

  // The answers of a window nobody can ask for any more go: the gate is past it and every row
  // it let through is recorded (an answer never asked for: a row recorded before a resume, or
  // a call the cache answered after all).
  void forget_if_done(std::size_t w) {
    auto counted = loaded.find(w);
    if (counted == loaded.end() || counted->second > 0 || w >= reading) return;
    for (auto& [name, endpoint] : endpoints) {
      if (endpoint.answers != nullptr) endpoint.answers->forget(journal.windows()[w].id);
    }
    loaded.erase(counted);
    forgotten.insert(w);
  }

  Verdict hold(std::function<void()> open) {
    waiting = std::move(open);
    if (!waiting_since) waiting_since = clock.now();
    return Verdict::kWait;
  }

  // Indexes window w's results, once.
  void load(std::size_t w) {
    const batch::WindowState& window = journal.windows()[w];
    if (loaded.count(w) > 0 || forgotten.count(w) > 0) return;
    loaded[w] = 0;
    for (const auto& batch : window.batches) {
      auto endpoint = endpoints.find(batch.provider);
      if (endpoint == endpoints.end() || endpoint->second.answers == nullptr) continue;
      BatchAnswers& answers = *endpoint->second.answers;
      const std::string name = batch.batch_id.empty() ? batch.local_id : batch.batch_id;
      if (batch.ended != "not_submitted") {
        Result<std::int64_t> indexed = answers.load(window.id, results_path(options.dir, batch.local_id), name);
        if (!indexed.ok())
          log->warn("batch {}: {}; its calls go to the fallback", batch.local_id, indexed.error().message);
      }
      if (!ended_whole(batch.ended)) {
        auto why = not_submitted_reason.find(batch.local_id);
        answers.set_missing_reason(window.first_line, window.last_line,
                                   "batch " + name + " " + batch.ended +
                                       (why != not_submitted_reason.end() ? ": " + why->second : std::string()));
      }
    }
  }

  void cancel_open(std::function<void()> done) {
    auto remaining = std::make_shared<int>(1);
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    auto one_done = [remaining, finish] {
      if (--*remaining == 0 && *finish) (*finish)();
    };
    for (const auto& window : journal.windows()) {
      for (const auto& batch : window.batches) {
        if (!batch.ended.empty() || !batch.submitted()) continue;
        batch::BatchApi* api = api_of(batch);
        if (api == nullptr) continue;
        ++*remaining;
        api->cancel(batch.batch_id, guarded([this, id = batch.batch_id, one_done](Result<batch::BatchStatus> status) {
                      if (status.ok()) {
                        log->warn("batch {}: cancelled ({})", id, status.value().provider_status);
                      } else {
                        log->error("batch {}: could not cancel it: {}", id, status.error().message);
                      }
                      one_done();
                    }));
      }
    }
    one_done();
  }

  std::map<std::string, std::string> not_submitted_reason;
  std::set<std::size_t> forgotten;
};

BatchTracker::BatchTracker(LibeventLoop& loop, Clock& clock, batch::BatchJournal& journal,
                           std::map<std::string, BatchEndpoint> endpoints, BatchTrackerOptions options)
    : impl_(std::make_unique<Impl>(loop, clock, journal, std::move(endpoints), std::move(options))) {}

BatchTracker::~BatchTracker() = default;

void BatchTracker::start() { impl_->start(); }

void BatchTracker::window_sealed(const batch::WindowState& window) {
  for (const auto& batch : window.batches) impl_->submit(batch.local_id);
  impl_->wake();  // a row waiting for its window to be sealed now waits for its batches
  impl_->schedule_poll(impl_->options.poll_interval);
}

void BatchTracker::spooling_done() {
  impl_->spooling_done = true;
  impl_->wake();
}

RowGate::Verdict BatchTracker::check(std::int64_t line, std::function<void()> open) {
  return impl_->check(line, std::move(open));
}

void BatchTracker::done(std::int64_t line) { impl_->done(line); }

void BatchTracker::cancel_open(std::function<void()> done) { impl_->cancel_open(std::move(done)); }

BatchProgress BatchTracker::progress() const {
  BatchProgress p;
  for (const auto& window : impl_->journal.windows()) {
    for (const auto& batch : window.batches) {
      ++p.batches;
      p.requests += batch.requests;
      if (batch.submitted()) ++p.submitted;
      if (!batch.ended.empty()) {
        ++p.ended;
        p.requests_done += batch.requests;
      } else if (auto rt = impl_->runtime.find(batch.local_id); rt != impl_->runtime.end() && rt->second.polled) {
        p.requests_done += rt->second.status.requests_done + rt->second.status.requests_failed;
      }
    }
  }
  p.waited_seconds = impl_->waited_seconds;
  if (impl_->waiting_since) {
    p.waited_seconds += std::chrono::duration<double>(impl_->clock.now() - *impl_->waiting_since).count();
  }
  return p;
}

std::vector<std::map<std::string, std::string>> BatchTracker::batches() const {
  std::vector<std::map<std::string, std::string>> out;
  for (const auto& window : impl_->journal.windows()) {
    for (const auto& batch : window.batches) {
      out.push_back({{"id", batch.local_id},
                     {"provider", batch.provider},
                     {"batch_id", batch.batch_id},
                     {"requests", std::to_string(batch.requests)},
                     {"status", batch.ended.empty() ? (batch.submitted() ? "submitted" : "prepared") : batch.ended}});
    }
  }
  return out;
}

const std::string& BatchTracker::fatal() const { return impl_->fatal; }

}  // namespace llmeval::runner
