#include "core/runner/evaluator.h"

#include <algorithm>
#include <utility>

#include "core/runner/evaluator_impl.h"

namespace llmeval::runner {
namespace {

std::vector<std::string> provider_names(const std::vector<ProviderSlot>& chain) {
  std::vector<std::string> names;
  for (const auto& slot : chain) names.push_back(slot.provider->name());
  return names;
}

std::vector<std::optional<provider::Price>> provider_prices(const std::vector<ProviderSlot>& chain) {
  std::vector<std::optional<provider::Price>> prices;
  for (const auto& slot : chain) prices.push_back(slot.price);
  return prices;
}

}  // namespace

Evaluator::Impl::Impl(EventLoop& l, Clock& c, std::vector<ProviderSlot> ch, resilience::RateLimiter& lim,
                      EvaluatorOptions o)
    : loop(l), clock(c), chain(std::move(ch)), provider_disabled(chain.size(), false), limiter(lim), options(o),
      random(o.seed), fallback_announced(chain.size(), false),
      metrics(o.metrics, provider_names(chain), o.judge_calls_are_inflight, provider_prices(chain)) {}

Evaluator::Impl::~Impl() {
  for (auto& [id, row] : live_rows) delete row;
}

RowId Evaluator::Impl::evaluate(dataset::EvalItem item, Done done) {
  auto row = std::make_unique<RowState>();
  row->id = next_row_id++;
  live_rows.emplace(row->id, row.get());
  row->item = std::move(item);
  row->done = std::move(done);
  row->started = clock.now();
  const auto& criteria = row->item.criteria;
  row->results.resize(criteria.size());
  row->samples.resize(criteria.size());
  const int repeat = std::max(1, options.repeat);
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    if (!criteria[i].llm) {
      row->results[i] = deterministic_result(criteria[i], row->item.output);
      continue;
    }
    row->samples[i].by_index.resize(static_cast<std::size_t>(repeat));
    row->samples[i].pending = repeat;
    provider::CompletionRequest request = judge::build_judge_request(row->item, criteria[i], options.judge);
    for (int sample = 0; sample < repeat; ++sample) {
      auto call = std::make_unique<JudgeCall>();
      call->row = row.get();
      call->criterion_index = i;
      call->sample = sample;
      // The last (with --repeat 1, the only) sample takes the request itself: no copy per row.
      call->request = sample + 1 < repeat ? request : std::move(request);
      call->reserved_tokens = judge::estimate_tokens(call->request);
      row->calls.push_back(std::move(call));
    }
  }
  row->pending_calls = row->calls.size();
  ++rows_active;
  RowState* raw = row.release();  // owned by live_rows until finish_row
  RowId id = raw->id;
  if (raw->pending_calls == 0) {
    finish_row(raw);
    return id;
  }
  if (stopped) return id;  // dropped like the calls stop() found waiting; freed by ~Impl
  for (auto& call : raw->calls) ready.push_back(call.get());
  calls_open += raw->calls.size();
  update_queue_depth();
  dispatch();
  return id;
}

void Evaluator::Impl::finish_call(JudgeCall* call) {
  --in_flight;
  --calls_open;
  update_queue_depth();
  RowState* row = call->row;  // call is freed with its row below: not used after this
  if (--row->pending_calls == 0) finish_row(row);
  dispatch();
}

void Evaluator::Impl::finish_row(RowState* row) {
  output::ResultRecord record = take_record(*row);
  Done done = std::move(row->done);
  live_rows.erase(row->id);
  delete row;
  --rows_active;
  metrics.evaluation(record.status);
  done(std::move(record));  // may evaluate() more rows: our state is consistent by now
}

void Evaluator::Impl::dispatch() {
  if (dispatching || batches > 0) return;
  dispatching = true;
  while (in_flight < options.concurrency && !ready.empty()) {
    JudgeCall* call = ready.front();
    ready.pop_front();
    ++in_flight;
    admit(call);
  }
  dispatching = false;
}

void Evaluator::Impl::succeed_call(JudgeCall* call, const judge::Verdict& verdict, output::JudgeInfo info) {
  const dataset::Criterion& criterion = call->row->item.criteria[call->criterion_index];
  call->row->samples[call->criterion_index].by_index[static_cast<std::size_t>(call->sample)] = output::Sample{
      verdict.score, verdict.score >= criterion.threshold, verdict.reason, std::move(info)};
  finish_sample(call);
}

void Evaluator::Impl::fail_call(JudgeCall* call, const std::string& kind, const std::string& message) {
  RowState* row = call->row;
  const dataset::Criterion& criterion = row->item.criteria[call->criterion_index];
  CriterionSamples& samples = row->samples[call->criterion_index];
  ++samples.failed;
  if (!samples.error) samples.error = output::ResultError{kind, "criterion \"" + criterion.name + "\": " + message};
  log->debug("[line={}] criterion {} failed ({}): {}", row->item.line, criterion.name, kind, message);
  finish_sample(call);
}

void Evaluator::Impl::finish_sample(JudgeCall* call) {
  RowState* row = call->row;
  const std::size_t index = call->criterion_index;
  CriterionSamples& samples = row->samples[index];
  if (--samples.pending == 0) {
    std::vector<output::Sample> judged;
    for (auto& sample : samples.by_index) {
      if (sample) judged.push_back(std::move(*sample));
    }
    const dataset::Criterion& criterion = row->item.criteria[index];
    if (judged.empty()) {
      if (!row->first_error) row->first_error = std::move(samples.error);
    } else if (samples.by_index.size() == 1) {
      output::CriterionResult r = verdict_result(criterion, judge::Verdict{judged[0].score, judged[0].reason});
      r.judge = std::move(judged[0].judge);
      row->results[index] = std::move(r);
    } else {
      row->results[index] = repeated_result(criterion, std::move(judged), samples.failed);
    }
  }
  finish_call(call);
}

void Evaluator::Impl::stop(std::function<void()> quiet) {
  if (stopped) return;
  stopped = true;
  ready.clear();
  when_quiet = std::move(quiet);
  if (requests_out == 0) post_when_quiet();
}

void Evaluator::Impl::post_when_quiet() {
  if (!when_quiet) return;
  loop.post(guarded(std::exchange(when_quiet, nullptr)));
}

Evaluator::Evaluator(EventLoop& loop, Clock& clock, std::vector<ProviderSlot> chain, resilience::RateLimiter& limiter,
                     EvaluatorOptions options)
    : impl_(std::make_unique<Impl>(loop, clock, std::move(chain), limiter, options)) {}

Evaluator::~Evaluator() = default;

RowId Evaluator::evaluate(dataset::EvalItem item, Done done) {
  return impl_->evaluate(std::move(item), std::move(done));
}

void Evaluator::cancel(RowId row) {
  auto it = impl_->live_rows.find(row);
  if (it != impl_->live_rows.end()) it->second->cancelled = true;
}

Evaluator::Batch::Batch(Evaluator& evaluator) : evaluator_(evaluator) { ++evaluator_.impl_->batches; }

Evaluator::Batch::~Batch() {
  if (--evaluator_.impl_->batches == 0) evaluator_.impl_->dispatch();
}

Evaluator::Batch Evaluator::batch() { return Batch(*this); }

void Evaluator::count_invalid() { impl_->metrics.evaluation(output::Status::kInvalid); }

std::size_t Evaluator::rows_active() const { return impl_->rows_active; }

std::size_t Evaluator::requests_out() const { return impl_->requests_out; }

void Evaluator::stop(std::function<void()> when_quiet) { impl_->stop(std::move(when_quiet)); }

const output::RunCounters& Evaluator::counters() const {
  impl_->counters.breaker_openings = 0;
  for (const auto& slot : impl_->chain) {
    if (slot.breaker != nullptr) impl_->counters.breaker_openings += slot.breaker->openings();
  }
  return impl_->counters;
}

bool Evaluator::auth_failed() const { return impl_->auth_failed; }

const std::string& Evaluator::auth_message() const { return impl_->auth_message; }

}  // namespace llmeval::runner
