// One judge call's life, from admission to its result: Evaluator::Impl's steps declared in
// evaluator_impl.h under "one judge call".
#include <algorithm>
#include <cmath>

#include "core/judge/judge_parser.h"
#include "core/runner/evaluator_impl.h"

namespace llmeval::runner {
namespace {

using std::chrono::milliseconds;

// How long a call waits while a half-open breaker's probes are out before asking again.
constexpr milliseconds kProbeWait{100};

}  // namespace

bool Evaluator::Impl::unusable(std::size_t index) const {
  if (provider_disabled[index]) return true;
  return options.same_model_only && chain[index].provider->model() != chain.front().provider->model();
}

bool Evaluator::Impl::choose_provider(JudgeCall* call) {
  while (call->provider_index < chain.size() && unusable(call->provider_index)) {
    ++call->provider_index;
    call->attempts_on_provider = 0;
  }
  return call->provider_index < chain.size();
}

void Evaluator::Impl::admit(JudgeCall* call) {
  if (stopped) return;  // dropped: its row is recorded nowhere, so a resume runs it
  if (!choose_provider(call)) {
    fail_call(call, "auth", "not attempted: " + auth_message);
    return;
  }
  const ProviderSlot& slot = chain[call->provider_index];
  if (slot.breaker != nullptr) metrics.breaker_state(call->provider_index, slot.breaker->state());
  if (slot.breaker != nullptr && slot.breaker->state() == resilience::BreakerState::kOpen) {
    breaker_refused(call);
    return;
  }
  if (!call->limiter_asked_at) call->limiter_asked_at = clock.now();
  limiter.acquire(slot.limiter_key, call->reserved_tokens,
                  guarded([this, call](Result<resilience::Admission> admission) { admitted(call, admission); }));
}

void Evaluator::Impl::admitted(JudgeCall* call, const Result<resilience::Admission>& admission) {
  // A failing limiter must not stop the run: the call goes ahead (the limiter degrades itself).
  if (admission.ok() && !admission.value().granted) {
    ++counters.rate_limit_waits;
    admit_later(admission.value().retry_after, call);
    return;
  }
  if (admission.ok() && admission.value().waited) ++counters.rate_limit_waits;
  metrics.rate_limit_wait(call->provider_index,
                          std::chrono::duration<double>(clock.now() - *call->limiter_asked_at).count());
  call->limiter_asked_at.reset();
  // Asked only now, right before sending: a half-open breaker's probe slot is held until
  // the reply, so it must not be taken by a call that then waits for the limiter.
  const ProviderSlot& slot = chain[call->provider_index];
  if (slot.breaker != nullptr && !slot.breaker->allow()) {
    limiter.reconcile(slot.limiter_key, call->reserved_tokens, 0);
    breaker_refused(call);
    return;
  }
  if (slot.breaker != nullptr && slot.probe_lease != nullptr &&
      slot.breaker->state() == resilience::BreakerState::kHalfOpen) {
    take_probe_lease(call);
    return;
  }
  send(call);
}

void Evaluator::Impl::take_probe_lease(JudgeCall* call) {
  const ProviderSlot& slot = chain[call->provider_index];
  auto ttl = options.judge.timeout + milliseconds(1000);
  slot.probe_lease->acquire(slot.limiter_key, ttl, guarded([this, call](resilience::LeaseId lease) {
    const ProviderSlot& probed = chain[call->provider_index];
    if (lease.empty()) {
      probed.breaker->on_failure(ErrorKind::kCancelled);  // gives the probe slot back, counts nothing
      limiter.reconcile(probed.limiter_key, call->reserved_tokens, 0);
      breaker_refused(call);
      return;
    }
    call->probe_lease = std::move(lease);
    send(call);
  }));
}

void Evaluator::Impl::release_probe_lease(JudgeCall* call, const ProviderSlot& slot) {
  if (call->probe_lease.empty()) return;
  slot.probe_lease->release(slot.limiter_key, call->probe_lease);
  call->probe_lease.clear();
}

void Evaluator::Impl::admit_later(milliseconds delay, JudgeCall* call) {
  loop.add_timer(delay, guarded([this, call] { admit(call); }));
}

void Evaluator::Impl::breaker_refused(JudgeCall* call) {
  const ProviderSlot& slot = chain[call->provider_index];
  Error open{ErrorKind::kServer, "provider " + slot.provider->name() + " is failing (circuit open)",
             slot.breaker->retry_in()};
  if (try_fallback(call)) return;
  bool half_open = slot.breaker->state() == resilience::BreakerState::kHalfOpen;
  if (half_open && !past_deadline(call->row, kProbeWait)) {
    admit_later(kProbeWait, call);
    return;
  }
  if (!half_open && ++call->attempts_on_provider < options.max_attempts) {
    admit_later(std::max(*open.retry_after, milliseconds(1)), call);
    return;
  }
  fail_call(call, result_kind(open.kind), open.message);
}

void Evaluator::Impl::tell_breaker(const ProviderSlot& slot, const Error* error) {
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

void Evaluator::Impl::send(JudgeCall* call) {
  if (stopped) return;
  ++call->attempts_on_provider;
  ++call->attempts_total;
  ++counters.provider_requests;
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
  p->complete(call->request, guarded([this, call](Result<provider::CompletionResponse> reply) {
    on_reply(call, std::move(reply));
  }));
}

void Evaluator::Impl::on_reply(JudgeCall* call, Result<provider::CompletionResponse> reply) {
  const ProviderSlot& slot = chain[call->provider_index];
  --requests_out;
  metrics.request_done(call->provider_index, reply.ok() ? nullptr : &reply.error(),
                       std::chrono::duration<double>(clock.now() - call->sent_at).count());
  update_queue_depth();
  release_probe_lease(call, slot);
  if (stopped && requests_out == 0) post_when_quiet();
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
  call->tokens.cached_input += response.usage.cached_input;
  call->tokens.cache_write += response.usage.cache_write;
  call->tokens.reasoning += response.usage.reasoning;
  metrics.tokens(call->provider_index, response.usage);
  const dataset::Criterion& criterion = call->row->item.criteria[call->criterion_index];
  Result<judge::Verdict> verdict = judge::parse_judge_reply(response.text, criterion.scale);
  if (verdict.ok()) {
    succeed_call(call, verdict.value(), response);
    return;
  }
  if (response.truncated) {
    // Cut off by the token cap (a reasoning model that thought too long): the same call would be
    // cut again, so the one retry gets twice the cap; a second cut ends the criterion.
    if (call->request.cap_scale == 1) {
      call->request.cap_scale = 2;
      ++counters.retries;
      metrics.retry(call->provider_index);
      log->debug("[line={} provider={}] reply cut off by the token cap; once more with twice the cap",
                 call->row->item.line, slot.provider->name());
      admit(call);
      return;
    }
    fail_call(call, "truncated",
              "the judge's reply was cut off by the token cap twice, the second time at twice the cap; raise "
              "judge.max_tokens or the provider's max_tokens, or lower its reasoning_effort");
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

void Evaluator::Impl::on_call_error(JudgeCall* call, const Error& error) {
  const ProviderSlot& slot = chain[call->provider_index];
  if (error.kind == ErrorKind::kAuth) {
    if (!provider_disabled[call->provider_index]) {
      provider_disabled[call->provider_index] = true;
      log->error("[provider={}] {}; taking it out of the chain", slot.provider->name(), error.message);
      auth_message = error.message;
    }
    if (try_fallback(call)) return;
    auth_failed = true;
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
    ++counters.retries;
    metrics.retry(call->provider_index);
    log->debug("[line={} provider={}] retry {}/{} in {}ms ({}: {})", call->row->item.line, slot.provider->name(),
               call->attempts_on_provider, options.max_attempts - 1, delay.count(), to_string(error.kind),
               error.message);
    admit_later(delay, call);
    return;
  }
  if (try_fallback(call)) return;
  fail_call(call, result_kind(error.kind), error.message);
}

bool Evaluator::Impl::past_deadline(const RowState* row, milliseconds delay) const {
  return options.row_deadline.count() > 0 && clock.now() + delay >= row->started + options.row_deadline;
}

bool Evaluator::Impl::may_retry(const ProviderSlot& slot) {
  if (slot.retry_budget == nullptr || slot.retry_budget->try_spend()) return true;
  log->debug("[provider={}] retry budget spent: no retry, the call moves on", slot.provider->name());
  return false;
}

bool Evaluator::Impl::try_fallback(JudgeCall* call) {
  std::size_t from = call->provider_index;
  int attempts = call->attempts_on_provider;
  ++call->provider_index;
  call->attempts_on_provider = 0;
  if (!choose_provider(call)) {
    call->provider_index = from;  // keep the last provider for the record
    call->attempts_on_provider = attempts;
    return false;
  }
  ++counters.fallbacks;
  metrics.fallback(from, call->provider_index);
  auto level = fallback_announced[from] ? spdlog::level::debug : spdlog::level::warn;
  fallback_announced[from] = true;
  log->log(level, "[line={}] falling back from {} to {}", call->row->item.line, chain[from].provider->name(),
           chain[call->provider_index].provider->name());
  admit(call);
  return true;
}

milliseconds Evaluator::Impl::backoff(int attempt) {
  double ceiling = static_cast<double>(options.retry_base.count()) * std::pow(2.0, attempt - 1);
  ceiling = std::min(ceiling, static_cast<double>(options.retry_max.count()));
  std::uniform_real_distribution<double> jitter(0.0, ceiling);
  return milliseconds(static_cast<std::int64_t>(jitter(random)));
}

}  // namespace llmeval::runner
