#include "core/runner/batch_spooler.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <utility>
#include <variant>

#include "core/batch/custom_id.h"
#include "core/cache/cache_key.h"

namespace llmeval::runner {
namespace {

constexpr int kRowsPerPump = 256;  // then yield to the loop, so lookups are answered

}  // namespace

std::string spool_path(const std::string& dir, const std::string& local_id) { return dir + "/" + local_id + ".jsonl"; }

void write_spool_text(std::FILE* file, std::string_view text) {
  if (!text.empty()) std::fwrite(text.data(), 1, text.size(), file);
}

struct BatchSpooler::Impl {
  // One judge call to spool: its request line for its target.
  struct Call {
    std::size_t target = 0;
    std::string text;
    std::int64_t input_tokens = 0;
    int cap = 0;
    bool cached = false;
  };
  // A row read, in dataset order; skipped rows (recorded, invalid, already in a window) have
  // no calls but still extend the window's range.
  struct Row {
    std::int64_t line = 0;
    std::vector<Call> calls;
    std::size_t lookups = 0;  // cache lookups not answered yet
  };
  // The open window's batch for one target.
  struct Spool {
    batch::BatchPacker packer;
    std::string local_id;
    std::FILE* file = nullptr;
    std::int64_t requests = 0;
  };

  LibeventLoop& loop;
  dataset::JsonlReader& reader;
  std::vector<BatchTarget> targets;
  batch::BatchJournal& journal;
  BatchSpoolOptions options;
  Sealed sealed;
  std::function<void(const SpoolOutcome&)> done;
  SpoolOutcome outcome;
  std::vector<Spool> spools;              // by target
  std::deque<std::shared_ptr<Row>> rows;  // shared: a cache lookup may outlive a dropped row
  std::size_t lookups_out = 0;
  std::int64_t window_first = 0, window_last = 0;  // 0: no open window
  std::string window_id;
  bool reader_done = false, pump_scheduled = false, reserving = false, finished = false;
  // Makes this run's local batch ids unique beyond this journal: an OpenAI batch carries its
  // local id in its metadata, and a resume looks for it there (BatchApi::find_submitted).
  std::string run_token = random_token();
  std::shared_ptr<char> alive = std::make_shared<char>();

  static std::string random_token() {
    std::random_device device;
    char text[16];
    std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(device()));
    return text;
  }

  Impl(LibeventLoop& l, dataset::JsonlReader& r, std::vector<BatchTarget> t, batch::BatchJournal& j,
       BatchSpoolOptions o, Sealed s)
      : loop(l), reader(r), targets(std::move(t)), journal(j), options(std::move(o)), sealed(std::move(s)) {
    for (const auto& target : targets) {
      Spool spool{batch::BatchPacker(target.api->limits()), {}, nullptr, 0};
      if (options.batch_size > 0) spool.packer.cap_requests(options.batch_size);
      spools.push_back(std::move(spool));
    }
  }

  ~Impl() {
    for (auto& spool : spools) {
      if (spool.file != nullptr) std::fclose(spool.file);
    }
  }

  template <typename F>
  auto guarded(F fn) {
    return [token = std::weak_ptr<char>(alive), fn = std::move(fn)](auto&&... args) mutable {
      if (token.expired()) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  void pump() {
    pump_scheduled = false;
    for (int budget = kRowsPerPump; budget > 0 && !reader_done && lookups_out < options.lookups_in_flight; --budget) {
      if (options.limit >= 0 && outcome.rows_read >= options.limit) {
        reader_done = true;
        break;
      }
      std::optional<dataset::ReadItem> next = reader.next();
      if (!next && reader.would_block()) {
        loop.when_readable(reader.fd(), guarded([this] { pump(); }));
        return;
      }
      if (!next) {
        reader_done = true;
        break;
      }
      ++outcome.rows_read;
      take(*next);
    }
    drain();
    if (!reader_done && lookups_out < options.lookups_in_flight) schedule_pump();
  }

  void schedule_pump() {
    if (pump_scheduled || finished) return;
    pump_scheduled = true;
    loop.post(guarded([this] { pump(); }));
  }

  void take(const dataset::ReadItem& next) {
    auto row = std::make_shared<Row>();
    const auto* invalid = std::get_if<dataset::InvalidLine>(&next);
    row->line = invalid != nullptr ? invalid->line : std::get<dataset::EvalItem>(next).line;
    std::shared_ptr<Row> raw = row;
    rows.push_back(std::move(row));
    if (invalid != nullptr || raw->line <= journal.last_line()) return;
    const auto& item = std::get<dataset::EvalItem>(next);
    if (options.resume != nullptr &&
        options.resume->check(item.line, item.id) != output::ResumeIndex::Match::kNotRecorded) {
      return;  // recorded (or another dataset's: the second phase stops the run on it)
    }
    for (std::size_t c = 0; c < item.criteria.size(); ++c) {
      const dataset::Criterion& criterion = item.criteria[c];
      if (!criterion.llm) continue;
      // The calls the evaluator makes (its add_calls): jurors x samples x orders.
      const int samples = criterion.pairwise ? 1 : std::max(1, options.repeat);
      for (int order = 0; order < (criterion.pairwise ? 2 : 1); ++order) {
        provider::CompletionRequest request = criterion.pairwise
                                                  ? judge::build_pairwise_request(item, criterion, order == 1,
                                                                                  options.judge)
                                                  : judge::build_judge_request(item, criterion, options.judge);
        for (std::size_t t = 0; t < targets.size(); ++t) {
          for (int sample = 0; sample < samples; ++sample) {
            add_call(raw, t, request,
                     batch::CallKey{item.line, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(sample),
                                    static_cast<std::uint32_t>(targets[t].juror), static_cast<std::uint32_t>(order)});
          }
        }
      }
    }
  }

  void add_call(const std::shared_ptr<Row>& shared_row, std::size_t t, const provider::CompletionRequest& request,
                const batch::CallKey& key) {
    Row& row = *shared_row;
    const BatchTarget& target = targets[t];
    Call call;
    call.target = t;
    call.text = target.provider->batch_request(request, batch::to_custom_id(key));
    call.input_tokens = judge::estimate_input_tokens(request);
    call.cap = target.provider->token_cap(request);
    row.calls.push_back(std::move(call));
    if (options.cache == nullptr || !cache::reads(options.cache_mode)) return;
    const std::string identity = target.provider->request_identity(request);
    if (identity.empty()) return;
    ++row.lookups;
    ++lookups_out;
    const std::size_t index = row.calls.size() - 1;
    options.cache->lookup(cache::cache_key(identity, static_cast<int>(key.sample)),
                          guarded([this, shared_row, index, min = request.score_min,
                                   max = request.score_max](std::optional<cache::CachedVerdict> hit) {
                            --lookups_out;
                            --shared_row->lookups;
                            // The same test the evaluator makes: an entry outside the scale is a miss.
                            shared_row->calls[index].cached = hit && hit->score >= min && hit->score <= max;
                            drain();
                            if (!reader_done) schedule_pump();
                          }));
  }

  // Spools the rows at the head whose lookups are all answered, in dataset order.
  void drain() {
    while (!reserving && !finished && !rows.empty() && rows.front()->lookups == 0) {
      Row& row = *rows.front();
      if (row.line <= journal.last_line()) {  // in a window of an earlier run already
        rows.pop_front();
        continue;
      }
      std::erase_if(row.calls, [this](const Call& call) {
        if (call.cached) ++outcome.calls_cached;
        return call.cached;
      });
      if (!fits(row)) seal();
      if (finished) return;
      if (!row.calls.empty() && options.budget != nullptr && reserve(row)) return;  // continues when granted
      commit(row);
      if (finished) return;
      rows.pop_front();
    }
    finish_if_done();
  }

  bool fits(const Row& row) const {
    for (std::size_t t = 0; t < targets.size(); ++t) {
      std::size_t n = 0;
      std::uint64_t bytes = 0;
      for (const auto& call : row.calls) {
        if (call.target != t) continue;
        ++n;
        bytes += call.text.size() + targets[t].api->spool_separator().size();
      }
      if (n > 0 && !spools[t].packer.fits(n, bytes)) return false;
    }
    return true;
  }

  // With a budget: reserves the row's worst case at the batch price; true when the answer
  // comes later (drain goes on from the callback).
  bool reserve(Row& row) {
    resilience::Nanodollars amount = 0;
    for (const auto& call : row.calls) {
      const BatchTarget& target = targets[call.target];
      if (!target.price) continue;
      amount += resilience::to_nanodollars(
          provider::worst_case_cost(call.input_tokens, call.cap, provider::batch_price(*target.price)));
    }
    if (amount == 0) return false;
    reserving = true;
    options.budget->reserve(amount, guarded([this, amount](bool granted) {
                              reserving = false;
                              if (!granted) {
                                outcome.budget_exhausted = true;
                                reader_done = true;
                                rows.clear();  // this row and those after it are in no batch: a --resume spools them
                                seal();
                                finish_if_done();
                                return;
                              }
                              // A submitted batch is committed: what it may cost stays counted as spent.
                              options.budget->settle(amount, amount);
                              commit(*rows.front());
                              if (finished) return;
                              rows.pop_front();
                              drain();
                              if (!reader_done) schedule_pump();
                            }));
    return true;
  }

  void commit(const Row& row) {
    if (window_first == 0) {
      window_first = row.line;
      window_id = journal.next_window_id();
    }
    window_last = row.line;
    for (const auto& call : row.calls) {
      Spool& spool = spools[call.target];
      const batch::BatchApi& api = *targets[call.target].api;
      if (spool.file == nullptr && !open_spool(call.target)) return;
      if (spool.requests > 0) write_spool_text(spool.file, api.spool_separator());
      write_spool_text(spool.file, call.text);
      spool.packer.add(1, call.text.size() + api.spool_separator().size());
      ++spool.requests;
      ++outcome.calls_spooled;
    }
  }

  bool open_spool(std::size_t t) {
    Spool& spool = spools[t];
    spool.local_id = window_id + "j" + std::to_string(targets[t].juror) + "-" + run_token;
    const std::string path = spool_path(options.dir, spool.local_id);
    spool.file = std::fopen(path.c_str(), "wb");
    if (spool.file == nullptr) {
      fail("cannot write the batch spool file " + path + ": " + std::strerror(errno));
      return false;
    }
    const std::string_view prefix = targets[t].api->spool_prefix();
    write_spool_text(spool.file, prefix);
    return true;
  }

  // Closes the open window: spool files synced, the window in the journal, handed on.
  void seal() {
    if (window_first == 0) return;
    batch::WindowState window;
    window.id = window_id;
    window.first_line = window_first;
    window.last_line = window_last;
    for (std::size_t t = 0; t < targets.size(); ++t) {
      Spool& spool = spools[t];
      if (spool.file == nullptr) continue;
      const std::string_view suffix = targets[t].api->spool_suffix();
      write_spool_text(spool.file, suffix);
      const bool written = std::fflush(spool.file) == 0 && ::fdatasync(::fileno(spool.file)) == 0;
      const bool closed = std::fclose(spool.file) == 0;
      spool.file = nullptr;
      if (!written || !closed) {
        fail("cannot write the batch spool file " + spool_path(options.dir, spool.local_id) + ": " +
             std::strerror(errno));
        return;
      }
      batch::BatchState state;
      state.local_id = spool.local_id;
      state.provider = targets[t].provider->name();
      state.api = targets[t].api_name;
      state.requests = spool.requests;
      window.batches.push_back(std::move(state));
      spool.requests = 0;
      spool.packer.reset();
    }
    window_first = window_last = 0;
    if (Result<Ok> recorded = journal.prepared(window); !recorded.ok()) {
      fail(recorded.error().message);
      return;
    }
    ++outcome.windows;
    sealed(window);
  }

  void fail(std::string message) {
    if (outcome.error.empty()) outcome.error = std::move(message);
    drop_open_window();
    finish();
  }

  // The window not sealed is in no journal entry: its spool files go.
  void drop_open_window() {
    for (auto& spool : spools) {
      if (spool.file == nullptr) continue;
      std::fclose(spool.file);
      spool.file = nullptr;
      ::unlink(spool_path(options.dir, spool.local_id).c_str());
      spool.requests = 0;
      spool.packer.reset();
    }
    window_first = window_last = 0;
  }

  void finish_if_done() {
    if (finished || reserving || !reader_done || !rows.empty() || lookups_out > 0) return;
    seal();
    finish();
  }

  void finish() {
    if (finished) return;
    finished = true;
    reader_done = true;
    loop.post(guarded([this] {
      if (done) done(outcome);
    }));
  }

  void stop() {
    if (finished) return;
    outcome.stopped = true;
    rows.clear();
    drop_open_window();
    finish();
  }
};

BatchSpooler::BatchSpooler(LibeventLoop& loop, dataset::JsonlReader& reader, std::vector<BatchTarget> targets,
                           batch::BatchJournal& journal, BatchSpoolOptions options, Sealed sealed)
    : impl_(std::make_unique<Impl>(loop, reader, std::move(targets), journal, std::move(options), std::move(sealed))) {}

BatchSpooler::~BatchSpooler() = default;

void BatchSpooler::start(std::function<void(const SpoolOutcome&)> done) {
  impl_->done = std::move(done);
  impl_->schedule_pump();
}

void BatchSpooler::stop() { impl_->stop(); }

const SpoolOutcome& BatchSpooler::outcome() const { return impl_->outcome; }

}  // namespace llmeval::runner
