#include "core/runner/evaluator.h"

#include <algorithm>
#include <utility>

#include "core/batch/custom_id.h"
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
      metrics(o.metrics, provider_names(chain), o.judge_calls_are_inflight, provider_prices(chain)) {
  for (const auto& slot : chain) jurors.push_back(Juror{slot.provider->name(), slot.provider->model()});
}

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
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    if (!criteria[i].llm) {
      row->results[i] = deterministic_result(criteria[i], row->item.output);
      continue;
    }
    add_calls(*row, i);
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

CallLayout Evaluator::Impl::layout_of(const dataset::Criterion& criterion) const {
  CallLayout layout;
  layout.jurors = options.jury.method == JuryMethod::kNone ? 1 : chain.size();
  layout.samples = criterion.pairwise ? 1 : std::max(1, options.repeat);
  layout.orders = criterion.pairwise ? 2 : 1;
  return layout;
}

void Evaluator::Impl::add_calls(RowState& row, std::size_t criterion_index) {
  const dataset::Criterion& criterion = row.item.criteria[criterion_index];
  const CallLayout layout = layout_of(criterion);
  CriterionSamples& samples = row.samples[criterion_index];
  samples.layout = layout;
  samples.by_index.resize(layout.size());
  samples.pending = layout.size();
  // One request per order, shared by every juror and sample: the last call of an order takes
  // it by move, so a criterion judged once copies nothing.
  std::vector<provider::CompletionRequest> requests;
  for (int order = 0; order < layout.orders; ++order) {
    requests.push_back(criterion.pairwise
                           ? judge::build_pairwise_request(row.item, criterion, order == 1, options.judge)
                           : judge::build_judge_request(row.item, criterion, options.judge));
  }
  const bool jury = options.jury.method != JuryMethod::kNone;
  for (std::size_t juror = 0; juror < layout.jurors; ++juror) {
    for (int sample = 0; sample < layout.samples; ++sample) {
      for (int order = 0; order < layout.orders; ++order) {
        auto call = std::make_unique<JudgeCall>();
        call->row = &row;
        call->criterion_index = criterion_index;
        call->sample = sample;
        call->slot = layout.index(juror, sample, order);
        if (jury) {
          call->juror = juror;
          call->provider_index = juror;
        }
        const bool last_of_order = juror + 1 == layout.jurors && sample + 1 == layout.samples;
        auto& request = requests[static_cast<std::size_t>(order)];
        call->request = last_of_order ? std::move(request) : request;
        if (options.batch_custom_ids) {
          call->request.custom_id = batch::to_custom_id(batch::CallKey{
              row.item.line, static_cast<std::uint32_t>(criterion_index), static_cast<std::uint32_t>(sample),
              static_cast<std::uint32_t>(juror), static_cast<std::uint32_t>(order)});
        }
        call->reserved_tokens = judge::estimate_tokens(call->request);
        row.calls.push_back(std::move(call));
      }
    }
  }
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
  call->row->samples[call->criterion_index].by_index[call->slot].verdict = output::Sample{
      verdict.score, verdict.score >= criterion.threshold, verdict.reason, std::move(info)};
  finish_sample(call);
}

void Evaluator::Impl::fail_call(JudgeCall* call, const std::string& kind, const std::string& message) {
  RowState* row = call->row;
  const dataset::Criterion& criterion = row->item.criteria[call->criterion_index];
  CallOutcome& outcome = row->samples[call->criterion_index].by_index[call->slot];
  outcome.error = output::ResultError{kind, "criterion \"" + criterion.name + "\": " + message};
  outcome.spent.provider = chain[call->provider_index].provider->name();
  outcome.spent.model = chain[call->provider_index].provider->model();
  outcome.spent.attempts = call->attempts_total;
  outcome.spent.tokens = call->tokens;
  log->debug("[line={}] criterion {} failed ({}): {}", row->item.line, criterion.name, kind, message);
  finish_sample(call);
}

void Evaluator::Impl::finish_sample(JudgeCall* call) {
  RowState* row = call->row;
  const std::size_t index = call->criterion_index;
  CriterionSamples& samples = row->samples[index];
  if (--samples.pending == 0) {
    CriterionOutcome outcome = resolve_criterion(row->item.criteria[index], samples.layout, std::move(samples.by_index),
                                                 options.jury, jurors);
    if (auto* result = std::get_if<output::CriterionResult>(&outcome)) {
      row->results[index] = std::move(*result);
    } else if (!row->first_error) {
      row->first_error = std::get<output::ResultError>(std::move(outcome));
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
