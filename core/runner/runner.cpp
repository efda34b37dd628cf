#include "core/runner/runner.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <unordered_set>
#include <utility>

#include "core/common/logging.h"
#include "core/judge/checks.h"
#include "core/judge/judge_parser.h"
#include "core/runner/runner_metrics.h"

namespace llmeval::runner {
namespace {

using std::chrono::milliseconds;

// Rows read in one pump before yielding to the loop, so a long run of rows without LLM
// criteria cannot starve replies that are waiting.
constexpr int kRowsPerPump = 256;

// How long a call waits while a half-open breaker's probes are out before asking again.
constexpr std::chrono::milliseconds kProbeWait{100};

struct RowState;

// One (row, LLM criterion) judge call, across its retries, repair and fallbacks.
struct JudgeCall {
  RowState* row = nullptr;
  std::size_t criterion_index = 0;
  provider::CompletionRequest request;
  std::size_t provider_index = 0;
  int attempts_on_provider = 0;
  int attempts_total = 0;
  bool repaired = false;
  std::int64_t reserved_tokens = 0;
  resilience::LeaseId probe_lease;  // held while this attempt is a half-open probe
  provider::TokenUsage tokens;
  Clock::TimePoint sent_at;
  std::optional<Clock::TimePoint> limiter_asked_at;  // first ask of the current admission
};

struct RowState {
  dataset::EvalItem item;
  Clock::TimePoint started;  // read from the dataset; the row deadline counts from here
  std::vector<std::optional<output::CriterionResult>> results;  // by criterion index
  std::vector<std::unique_ptr<JudgeCall>> calls;
  std::size_t pending_calls = 0;
  std::optional<output::ResultError> first_error;
};

// Result error kinds (SPEC §3) for provider-side failures.
const char* result_kind(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kRateLimited: return "rate_limited";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kParse: return "judge_unparseable";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kConnect:
    case ErrorKind::kServer:
    case ErrorKind::kBadRequest:
    case ErrorKind::kIo: return "provider_error";
  }
  return "provider_error";
}

bool retryable(ErrorKind kind) {
  return kind == ErrorKind::kTimeout || kind == ErrorKind::kConnect || kind == ErrorKind::kServer ||
         kind == ErrorKind::kRateLimited || kind == ErrorKind::kIo;
}

output::CriterionResult deterministic_result(const dataset::Criterion& criterion, const std::string& output_text) {
  judge::CheckOutcome outcome = judge::run_check(criterion, output_text);
  output::CriterionResult r;
  r.name = criterion.name;
  r.llm = false;
  r.check = dataset::to_string(criterion.check);
  r.score = outcome.pass ? 1 : 0;
  r.normalized = r.score;
  r.pass = outcome.pass;
  r.weight = criterion.weight;
  r.reason = std::move(outcome.reason);
  return r;
}

std::vector<std::string> provider_names(const std::vector<ProviderSlot>& chain) {
  std::vector<std::string> names;
  for (const auto& slot : chain) names.push_back(slot.provider->name());
  return names;
}

}  // namespace

struct Runner::Impl {
  EventLoop& loop;
  Clock& clock;
  dataset::JsonlReader& reader;
  std::vector<ProviderSlot> chain;
  std::vector<bool> provider_disabled;  // rejected our key (401/403)
  resilience::RateLimiter& limiter;
  ResultSink sink;
  RunnerOptions options;
  std::mt19937_64 random;

  std::shared_ptr<spdlog::logger> log = logger("runner");
  std::vector<bool> fallback_announced;  // by the provider fallen back from: warn once, then debug
  RunOutcome outcome;
  RunnerMetrics metrics;
  std::size_t calls_open = 0;      // created, not finished
  std::size_t requests_out = 0;    // sent, not answered
  std::deque<JudgeCall*> ready;
  int in_flight = 0;
  std::size_t rows_active = 0;
  std::int64_t rows_read = 0;
  bool reader_done = false;
  bool pumping = false;
  bool pump_scheduled = false;
  bool waiting_for_input = false;
  bool dispatching = false;
  bool interrupted = false;
  std::unordered_set<RowState*> live_rows;  // started, not finished; freed by ~Impl if abandoned

  Impl(EventLoop& l, Clock& c, dataset::JsonlReader& r, std::vector<ProviderSlot> ch, resilience::RateLimiter& lim,
       ResultSink s, RunnerOptions o)
      : loop(l), clock(c), reader(r), chain(std::move(ch)), provider_disabled(chain.size(), false), limiter(lim),
        sink(std::move(s)), options(o), random(o.seed), fallback_announced(chain.size(), false),
        metrics(o.metrics, provider_names(chain)) {
    if (options.max_rows_ahead == 0) options.max_rows_ahead = 2 * static_cast<std::size_t>(options.concurrency) + 16;
  }

  ~Impl() {
    for (RowState* row : live_rows) delete row;
  }

  // ---- reading rows --------------------------------------------------------------------

  void pump() {
    if (pumping) return;  // a row finished inside pump(): the outer loop goes on reading
    pumping = true;
    int budget = kRowsPerPump;
    while (!reader_done && rows_active < options.max_rows_ahead) {
      if (budget-- == 0) {
        schedule_pump();
        break;
      }
      if (options.limit >= 0 && rows_read >= options.limit) {
        reader_done = true;
        break;
      }
      std::optional<dataset::ReadItem> next = reader.next();
      if (!next && reader.would_block()) {
        // A pipe with no complete line yet: come back when it has bytes, never wait here.
        wait_for_input();
        break;
      }
      if (!next) {
        reader_done = true;
        break;
      }
      ++rows_read;
      if (already_recorded(*next)) continue;
      if (auto* invalid = std::get_if<dataset::InvalidLine>(&*next)) {
        record_invalid(*invalid);
      } else {
        start_row(std::move(std::get<dataset::EvalItem>(*next)));
      }
    }
    pumping = false;
    dispatch();
    finish_if_done();
  }

  // --resume: true for a row the results file already holds. A row recorded under another id
  // means the file is not this dataset's: stop before judging anything more.
  bool already_recorded(const dataset::ReadItem& next) {
    if (options.resume == nullptr) return false;
    const auto* invalid = std::get_if<dataset::InvalidLine>(&next);
    std::int64_t line = invalid != nullptr ? invalid->line : std::get<dataset::EvalItem>(next).line;
    const nlohmann::json& id = invalid != nullptr ? invalid->id : std::get<dataset::EvalItem>(next).id;
    switch (options.resume->check(line, id)) {
      case output::ResumeIndex::Match::kNotRecorded: return false;
      case output::ResumeIndex::Match::kRecorded: ++outcome.rows_skipped; return true;
      case output::ResumeIndex::Match::kDifferentId: break;
    }
    outcome.resume_mismatch = "line " + std::to_string(line) + " of the dataset has id " + id.dump() +
                              ", but the results file recorded another id for that line: it holds results of a " +
                              "different dataset (or the dataset changed)";
    interrupt(milliseconds(0));
    return true;
  }

  void wait_for_input() {
    if (waiting_for_input) return;
    waiting_for_input = true;
    loop.when_readable(reader.fd(), [this] {
      waiting_for_input = false;
      pump();
    });
  }

  void schedule_pump() {
    if (pump_scheduled) return;
    pump_scheduled = true;
    loop.post([this] {
      pump_scheduled = false;
      pump();
    });
  }

  void record_invalid(const dataset::InvalidLine& invalid) {
    output::ResultRecord record;
    record.id = invalid.id;
    record.line = invalid.line;
    record.status = output::Status::kInvalid;
    record.error = output::ResultError{invalid.kind, invalid.message};
    metrics.evaluation(record.status);
    sink(record);
  }

  void start_row(dataset::EvalItem item) {
    auto row = std::make_unique<RowState>();
    live_rows.insert(row.get());
    row->item = std::move(item);
    row->started = clock.now();
    const auto& criteria = row->item.criteria;
    row->results.resize(criteria.size());
    for (std::size_t i = 0; i < criteria.size(); ++i) {
      if (!criteria[i].llm) {
        row->results[i] = deterministic_result(criteria[i], row->item.output);
        continue;
      }
      auto call = std::make_unique<JudgeCall>();
      call->row = row.get();
      call->criterion_index = i;
      call->request = judge::build_judge_request(row->item, criteria[i], options.judge);
      call->reserved_tokens = judge::estimate_tokens(call->request);
      row->calls.push_back(std::move(call));
    }
    row->pending_calls = row->calls.size();
    ++rows_active;
    RowState* raw = row.release();  // owned by its calls until finish_row
    if (raw->pending_calls == 0) {
      finish_row(raw);
      return;
    }
    for (auto& call : raw->calls) ready.push_back(call.get());
    calls_open += raw->calls.size();
    update_queue_depth();
  }

  void update_queue_depth() { metrics.queue_depth(calls_open - requests_out); }

  // ---- judge calls -----------------------------------------------------------------------

  void dispatch() {
    if (dispatching) return;
    dispatching = true;
    while (in_flight < options.concurrency && !ready.empty()) {
      JudgeCall* call = ready.front();
      ready.pop_front();
      ++in_flight;
      admit(call);
    }
    dispatching = false;
  }

  // A provider this call may not use: it rejected our key, or it runs another judge model
  // while the run must keep to one.
  bool unusable(std::size_t index) const {
    if (provider_disabled[index]) return true;
    return options.same_model_only && chain[index].provider->model() != chain.front().provider->model();
  }

  // Skips unusable providers; false when none is left.
  bool choose_provider(JudgeCall* call) {
    while (call->provider_index < chain.size() && unusable(call->provider_index)) {
      ++call->provider_index;
      call->attempts_on_provider = 0;
    }
    return call->provider_index < chain.size();
  }

  void admit(JudgeCall* call) {
    if (interrupted) return;  // dropped: its row is recorded nowhere, so a resume runs it
    if (!choose_provider(call)) {
      fail_call(call, "auth", "not attempted: " + outcome.auth_message);
      return;
    }
    const ProviderSlot& slot = chain[call->provider_index];
    if (slot.breaker != nullptr) metrics.breaker_state(call->provider_index, slot.breaker->state());
    if (slot.breaker != nullptr && slot.breaker->state() == resilience::BreakerState::kOpen) {
      breaker_refused(call);
      return;
    }
    if (!call->limiter_asked_at) call->limiter_asked_at = clock.now();
    limiter.acquire(slot.limiter_key, call->reserved_tokens, [this, call](Result<resilience::Admission> admission) {
      // A failing limiter must not stop the run: the call goes ahead (the limiter degrades itself).
      if (admission.ok() && !admission.value().granted) {
        ++outcome.counters.rate_limit_waits;
        loop.add_timer(admission.value().retry_after, [this, call] { admit(call); });
        return;
      }
      if (admission.ok() && admission.value().waited) ++outcome.counters.rate_limit_waits;
      metrics.rate_limit_wait(call->provider_index,
                              std::chrono::duration<double>(clock.now() - *call->limiter_asked_at).count());
      call->limiter_asked_at.reset();
      // Asked only now, right before sending: a half-open breaker's probe slot is held until
      // the reply, so it must not be taken by a call that then waits for the limiter.
      const ProviderSlot& admitted = chain[call->provider_index];
      if (admitted.breaker != nullptr && !admitted.breaker->allow()) {
        limiter.reconcile(admitted.limiter_key, call->reserved_tokens, 0);
        breaker_refused(call);
        return;
      }
      if (admitted.breaker != nullptr && admitted.probe_lease != nullptr &&
          admitted.breaker->state() == resilience::BreakerState::kHalfOpen) {
        take_probe_lease(call);
        return;
      }
      send(call);
    });
  }

  // A half-open probe also needs the cluster-wide lease, so N processes send a handful of
  // probes between them, not a handful each.
  void take_probe_lease(JudgeCall* call) {
    const ProviderSlot& slot = chain[call->provider_index];
    auto ttl = options.judge.timeout + milliseconds(1000);
    slot.probe_lease->acquire(slot.limiter_key, ttl, [this, call](resilience::LeaseId lease) {
      const ProviderSlot& probed = chain[call->provider_index];
      if (lease.empty()) {
        probed.breaker->on_failure(ErrorKind::kCancelled);  // gives the probe slot back, counts nothing
        limiter.reconcile(probed.limiter_key, call->reserved_tokens, 0);
        breaker_refused(call);
        return;
      }
      call->probe_lease = std::move(lease);
      send(call);
    });
  }

  void release_probe_lease(JudgeCall* call, const ProviderSlot& slot) {
    if (call->probe_lease.empty()) return;
    slot.probe_lease->release(slot.limiter_key, call->probe_lease);
    call->probe_lease.clear();
  }

  // The provider's breaker is open: go to the next provider at once, or, on the last one, wait
  // until the breaker lets a probe through. Each wait for an open breaker counts as an attempt,
  // so a provider that never recovers ends the call instead of parking it forever. A half-open
  // breaker whose probes are all out (here or, with a probe lease, anywhere) is about to decide:
  // that short wait counts nothing, and the row deadline still bounds it.
  void breaker_refused(JudgeCall* call) {
    const ProviderSlot& slot = chain[call->provider_index];
    Error open{ErrorKind::kServer, "provider " + slot.provider->name() + " is failing (circuit open)",
               slot.breaker->retry_in()};
    if (try_fallback(call)) return;
    bool half_open = slot.breaker->state() == resilience::BreakerState::kHalfOpen;
    if (half_open && !past_deadline(call->row, kProbeWait)) {
      loop.add_timer(kProbeWait, [this, call] { admit(call); });
      return;
    }
    if (!half_open && ++call->attempts_on_provider < options.max_attempts) {
      loop.add_timer(std::max(*open.retry_after, std::chrono::milliseconds(1)), [this, call] { admit(call); });
      return;
    }
    fail_call(call, result_kind(open.kind), open.message);
  }

  // Feeds the provider's breaker and says so in the log when it opens or closes (one line per
  // change, not per call).
  std::size_t index_of(const ProviderSlot& slot) const { return static_cast<std::size_t>(&slot - chain.data()); }

  void tell_breaker(const ProviderSlot& slot, const Error* error) {
    if (slot.breaker == nullptr) return;
    resilience::BreakerState before = slot.breaker->state();
    if (error == nullptr) {
      slot.breaker->on_success();
    } else {
      slot.breaker->on_failure(error->kind);
    }
    resilience::BreakerState after = slot.breaker->state();
    metrics.breaker_state(index_of(slot), after);
    if (after == before) return;
    if (after == resilience::BreakerState::kOpen) {
      log->warn("[provider={}] circuit opened ({}); calls go to the next provider for now",
                slot.provider->name(), error != nullptr ? error->message : "");
    } else if (after == resilience::BreakerState::kClosed) {
      log->info("[provider={}] circuit closed: the provider answers again", slot.provider->name());
    }
  }

  void send(JudgeCall* call) {
    if (interrupted) return;
    ++call->attempts_on_provider;
    ++call->attempts_total;
    ++outcome.counters.provider_requests;
    call->sent_at = clock.now();
    ++requests_out;
    metrics.request_sent();
    update_queue_depth();
    if (auto* budget = chain[call->provider_index].retry_budget) budget->on_request();
    provider::Provider* p = chain[call->provider_index].provider;
    log->debug("[line={} provider={}] criterion {} attempt {}", call->row->item.line, p->name(),
               call->row->item.criteria[call->criterion_index].name, call->attempts_total);
    if (log->should_log(spdlog::level::trace)) {
      for (const auto& message : call->request.messages) {
        log->trace("[line={}] {}: {}", call->row->item.line, message.role, message.content);
      }
    }
    p->complete(call->request, [this, call](Result<provider::CompletionResponse> reply) {
      on_reply(call, std::move(reply));
    });
  }

  void on_reply(JudgeCall* call, Result<provider::CompletionResponse> reply) {
    const ProviderSlot& slot = chain[call->provider_index];
    --requests_out;
    metrics.request_done(call->provider_index, reply.ok() ? nullptr : &reply.error(),
                         std::chrono::duration<double>(clock.now() - call->sent_at).count());
    update_queue_depth();
    release_probe_lease(call, slot);
    if (interrupted && requests_out == 0) loop.post([this] { loop.stop(); });
    tell_breaker(slot, reply.ok() ? nullptr : &reply.error());
    if (!reply.ok()) {
      limiter.reconcile(slot.limiter_key, call->reserved_tokens, 0);
      on_call_error(call, reply.error());
      return;
    }
    const provider::CompletionResponse& response = reply.value();
    log->trace("[line={}] judge reply: {}", call->row->item.line, response.text);
    if (response.exhausted_for) limiter.hold_off(slot.limiter_key, *response.exhausted_for);
    // A server that reports no usage keeps the estimate reserved rather than returning it all.
    std::int64_t used = response.usage.input + response.usage.output;
    limiter.reconcile(slot.limiter_key, call->reserved_tokens, used > 0 ? used : call->reserved_tokens);
    call->tokens.input += response.usage.input;
    call->tokens.output += response.usage.output;
    metrics.tokens(call->provider_index, response.usage);
    const dataset::Criterion& criterion = call->row->item.criteria[call->criterion_index];
    Result<judge::Verdict> verdict = judge::parse_judge_reply(response.text, criterion.scale);
    if (verdict.ok()) {
      succeed_call(call, verdict.value(), response);
      return;
    }
    if (!call->repaired) {
      // One repair attempt: show the judge its reply and what was wrong with it.
      call->repaired = true;
      call->request = judge::build_repair_request(call->request, response.text, verdict.error().message);
      admit(call);
      return;
    }
    fail_call(call, "judge_unparseable",
              "the judge's reply could not be used, even after one repair attempt: " + verdict.error().message);
  }

  void on_call_error(JudgeCall* call, const Error& error) {
    const ProviderSlot& slot = chain[call->provider_index];
    if (error.kind == ErrorKind::kAuth) {
      if (!provider_disabled[call->provider_index]) {
        provider_disabled[call->provider_index] = true;
        log->error("[provider={}] {}; taking it out of the chain", slot.provider->name(), error.message);
        outcome.auth_message = error.message;
      }
      if (try_fallback(call)) return;
      outcome.auth_failed = true;
      fail_call(call, "auth", error.message);
      return;
    }
    if (error.kind == ErrorKind::kRateLimited && error.retry_after) {
      // Every call to this provider holds back, not only the one that was told.
      limiter.hold_off(slot.limiter_key, *error.retry_after);
    }
    // A 429 that said when to come back is paced by the provider itself (everyone holds off),
    // so it does not draw on the retry budget, which guards against storms.
    bool paced = error.kind == ErrorKind::kRateLimited && error.retry_after;
    milliseconds delay = backoff(call->attempts_on_provider);
    if (error.retry_after) delay = std::max(delay, *error.retry_after);
    if (past_deadline(call->row, milliseconds(0))) {
      fail_call(call, result_kind(error.kind), error.message + " (row deadline of " +
                                                   std::to_string(options.row_deadline.count()) + "ms passed)");
      return;
    }
    if (retryable(error.kind) && call->attempts_on_provider < options.max_attempts &&
        !past_deadline(call->row, delay) && (paced || may_retry(slot))) {
      ++outcome.counters.retries;
      metrics.retry(call->provider_index);
      log->debug("[line={} provider={}] retry {}/{} in {}ms ({}: {})", call->row->item.line, slot.provider->name(),
                 call->attempts_on_provider, options.max_attempts - 1, delay.count(), to_string(error.kind),
                 error.message);
      loop.add_timer(delay, [this, call] { admit(call); });
      return;
    }
    if (try_fallback(call)) return;
    fail_call(call, result_kind(error.kind), error.message);
  }

  // Whether waiting `delay` more would take the row past its overall deadline.
  bool past_deadline(const RowState* row, milliseconds delay) const {
    return options.row_deadline.count() > 0 && clock.now() + delay >= row->started + options.row_deadline;
  }

  bool may_retry(const ProviderSlot& slot) {
    if (slot.retry_budget == nullptr || slot.retry_budget->try_spend()) return true;
    log->debug("[provider={}] retry budget spent: no retry, the call moves on", slot.provider->name());
    return false;
  }

  bool try_fallback(JudgeCall* call) {
    std::size_t from = call->provider_index;
    int attempts = call->attempts_on_provider;
    ++call->provider_index;
    call->attempts_on_provider = 0;
    if (!choose_provider(call)) {
      call->provider_index = from;  // keep the last provider for the record
      call->attempts_on_provider = attempts;
      return false;
    }
    ++outcome.counters.fallbacks;
    metrics.fallback(from, call->provider_index);
    auto level = fallback_announced[from] ? spdlog::level::debug : spdlog::level::warn;
    fallback_announced[from] = true;
    log->log(level, "[line={}] falling back from {} to {}", call->row->item.line, chain[from].provider->name(),
             chain[call->provider_index].provider->name());
    admit(call);
    return true;
  }

  // Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^n)].
  milliseconds backoff(int attempt) {
    double ceiling = static_cast<double>(options.retry_base.count()) * std::pow(2.0, attempt - 1);
    ceiling = std::min(ceiling, static_cast<double>(options.retry_max.count()));
    std::uniform_real_distribution<double> jitter(0.0, ceiling);
    return milliseconds(static_cast<std::int64_t>(jitter(random)));
  }

  output::JudgeInfo judge_info(const JudgeCall* call, const std::string& model, bool simulated) const {
    const provider::Provider* p = chain[call->provider_index].provider;
    output::JudgeInfo info;
    info.provider = p->name();
    info.model = model.empty() ? p->model() : model;
    info.attempts = call->attempts_total;
    info.fallback = call->provider_index > 0;
    info.tokens = call->tokens;
    info.simulated = simulated;
    return info;
  }

  void succeed_call(JudgeCall* call, const judge::Verdict& verdict, const provider::CompletionResponse& response) {
    const dataset::Criterion& criterion = call->row->item.criteria[call->criterion_index];
    dataset::ScaleRange range = dataset::range_of(criterion.scale);
    output::CriterionResult r;
    r.name = criterion.name;
    r.score = verdict.score;
    r.normalized = (verdict.score - range.min) / static_cast<double>(range.max - range.min);
    r.pass = verdict.score >= criterion.threshold;
    r.weight = criterion.weight;
    r.reason = verdict.reason;
    r.judge = judge_info(call, response.model, response.simulated);
    r.judge->latency_ms =
        std::chrono::duration_cast<milliseconds>(clock.now() - call->sent_at).count();
    call->row->results[call->criterion_index] = std::move(r);
    finish_call(call);
  }

  void fail_call(JudgeCall* call, const std::string& kind, const std::string& message) {
    RowState* row = call->row;
    const dataset::Criterion& criterion = row->item.criteria[call->criterion_index];
    if (!row->first_error) {
      row->first_error = output::ResultError{kind, "criterion \"" + criterion.name + "\": " + message};
    }
    log->debug("[line={}] criterion {} failed ({}): {}", row->item.line, criterion.name, kind, message);
    finish_call(call);
  }

  void finish_call(JudgeCall* call) {
    --in_flight;
    --calls_open;
    update_queue_depth();
    RowState* row = call->row;
    if (--row->pending_calls == 0) finish_row(row);
    dispatch();
    pump();
  }

  void finish_row(RowState* row) {
    output::ResultRecord record;
    record.id = std::move(row->item.id);
    record.line = row->item.line;
    record.metadata = std::move(row->item.metadata);
    for (auto& result : row->results) {
      if (result) record.criteria.push_back(std::move(*result));
    }
    if (row->first_error) {
      record.status = output::Status::kError;
      record.error = std::move(row->first_error);
    }
    live_rows.erase(row);
    delete row;
    --rows_active;
    metrics.evaluation(record.status);
    sink(record);
  }

  void finish_if_done() {
    if (reader_done && rows_active == 0) loop.stop();
  }

  void interrupt(milliseconds grace) {
    if (interrupted) return;
    interrupted = true;
    reader_done = true;
    ready.clear();
    if (requests_out == 0) {
      loop.stop();
      return;
    }
    loop.add_timer(grace, [this] { loop.stop(); });
  }
};

Runner::Runner(EventLoop& loop, Clock& clock, dataset::JsonlReader& reader, std::vector<ProviderSlot> chain,
               resilience::RateLimiter& limiter, ResultSink sink, RunnerOptions options)
    : impl_(std::make_unique<Impl>(loop, clock, reader, std::move(chain), limiter, std::move(sink), options)) {}

Runner::~Runner() = default;

void Runner::interrupt(std::chrono::milliseconds grace) { impl_->interrupt(grace); }

RunOutcome Runner::run() {
  impl_->loop.post([this] { impl_->pump(); });
  impl_->loop.run();
  impl_->outcome.rows_read = impl_->rows_read;
  impl_->outcome.interrupted = impl_->interrupted;
  for (const auto& slot : impl_->chain) {
    if (slot.breaker != nullptr) impl_->outcome.counters.breaker_openings += slot.breaker->openings();
  }
  return impl_->outcome;
}

}  // namespace llmeval::runner
