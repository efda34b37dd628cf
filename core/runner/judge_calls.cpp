// One judge call's life, from admission to its result: Evaluator::Impl's steps declared in
// evaluator_impl.h under "one judge call".
#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "core/cache/cache_key.h"
#include "core/judge/judge_parser.h"
#include "core/judge/judge_prompt.h"
#include "core/runner/evaluator_impl.h"

namespace llmeval::runner {
namespace {

using resilience::CallContext;
using resilience::CallState;
using resilience::Decision;
using resilience::Outcome;
using std::chrono::milliseconds;

}  // namespace

bool Evaluator::Impl::unusable(const JudgeCall* call, std::size_t index) const {
  if (provider_disabled[index]) return true;
  if (call->juror) return index != *call->juror;
  return options.same_model_only && chain[index].provider->model() != chain.front().provider->model();
}

std::vector<bool> Evaluator::Impl::usable_now(const JudgeCall* call) const {
  std::vector<bool> usable(chain.size());
  for (std::size_t i = 0; i < chain.size(); ++i) usable[i] = !unusable(call, i);
  return usable;
}

bool Evaluator::Impl::choose_provider(JudgeCall* call) {
  std::optional<std::size_t> next = resilience::next_usable(call->provider_index, usable_now(call));
  if (!next) return false;
  if (*next != call->provider_index) {
    call->provider_index = *next;
    call->attempts_on_provider = 0;
  }
  return true;
}

void Evaluator::Impl::admit(JudgeCall* call) {
  if (stopped) return;  // dropped: its row is recorded nowhere, so a resume runs it
  if (call->row->cancelled) {
    fail_call(call, "cancelled", "not sent: the request was cancelled (the client went away)");
    return;
  }
  if (!choose_provider(call)) {
    fail_call(call, "auth", "not attempted: " + auth_message);
    return;
  }
  if (consult_cache(call)) return;
  const ProviderSlot& slot = chain[call->provider_index];
  // A provider batch's result (run --batch) was paid for and sent long ago: it takes nothing
  // from the RPM/TPM limits, the breaker or the cost budget now.
  call->prepaid = slot.provider->prepaid(call->request);
  if (call->prepaid) {
    send(call);
    return;
  }
  if (slot.breaker != nullptr) metrics.breaker_state(call->provider_index, slot.breaker->state());
  if (slot.breaker != nullptr && slot.breaker->state() == resilience::BreakerState::kOpen) {
    breaker_refused(call);
    return;
  }
  if (!call->limiter_asked_at) call->limiter_asked_at = clock.now();
  limiter.acquire(slot.limiter_key, call->reserved_tokens,
                  guarded([this, call](Result<resilience::Admission> admission) { admitted(call, admission); }));
}

bool Evaluator::Impl::consult_cache(JudgeCall* call) {
  if (options.cache == nullptr || options.cache_mode == cache::CacheMode::kOff) return false;
  if (call->cache_provider == call->provider_index) return false;  // asked for this provider already
  call->cache_provider = call->provider_index;
  std::string identity = chain[call->provider_index].provider->request_identity(call->request);
  call->cache_key = identity.empty() ? std::string() : cache::cache_key(identity, call->sample);
  if (call->cache_key.empty() || !cache::reads(options.cache_mode)) return false;
  options.cache->lookup(call->cache_key, guarded([this, call](std::optional<cache::CachedVerdict> hit) {
    // A stored score outside this criterion's scale (a damaged entry) is a miss.
    if (hit && (hit->score < call->request.score_min || hit->score > call->request.score_max)) hit.reset();
    metrics.cache_lookup(hit.has_value());
    if (!hit) {
      admit(call);
      return;
    }
    output::JudgeInfo info;
    info.provider = chain[call->provider_index].provider->name();
    info.model = hit->model;
    info.fallback = call->provider_index > 0 && !call->juror;  // a juror is itself, never a fallback
    info.tokens = hit->tokens;
    info.latency_ms = hit->latency_ms;
    info.cached = true;
    succeed_call(call, judge::Verdict{hit->score, std::move(hit->reason)}, std::move(info));
  }));
  return true;
}

void Evaluator::Impl::store_in_cache(const JudgeCall* call, const judge::Verdict& verdict,
                                     const output::JudgeInfo& info) {
  if (options.cache == nullptr || !cache::writes(options.cache_mode) || call->cache_key.empty()) return;
  if (call->cache_provider != call->provider_index) return;  // the key is another provider's
  options.cache->store(call->cache_key, cache::CachedVerdict{verdict.score, verdict.reason, info.model, info.tokens,
                                                             info.latency_ms});
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
  reserve_cost(call);
}

void Evaluator::Impl::reserve_cost(JudgeCall* call) {
  const ProviderSlot& slot = chain[call->provider_index];
  if (options.budget == nullptr || !slot.price) {
    cleared(call);
    return;
  }
  const std::int64_t cap = slot.provider->token_cap(call->request);
  const resilience::Nanodollars amount = resilience::to_nanodollars(
      provider::worst_case_cost(judge::estimate_input_tokens(call->request), cap, *slot.price));
  options.budget->reserve(amount, guarded([this, call, amount](bool granted) {
    if (!granted) {
      limiter.reconcile(chain[call->provider_index].limiter_key, call->reserved_tokens, 0);
      if (stopped) return;
      log->warn("stopping at the cost budget: the next call could cost up to ${:.6f}, more than is left of ${:.2f}",
                resilience::to_dollars(amount), resilience::to_dollars(options.budget->limit()));
      if (options.budget_exhausted) options.budget_exhausted();  // the owner stops us (Runner::interrupt)
      if (!stopped) stop(nullptr);
      return;
    }
    call->reserved_cost = amount;
    if (stopped) {
      settle_cost(call, nullptr);
      return;
    }
    cleared(call);
  }));
}

void Evaluator::Impl::settle_cost(JudgeCall* call, const provider::TokenUsage* usage) {
  if (options.budget == nullptr || call->reserved_cost == 0) return;
  const ProviderSlot& slot = chain[call->provider_index];
  // A reply without usage (some compatible servers) is taken at its worst case, never as free.
  resilience::Nanodollars actual = 0;
  if (usage != nullptr && usage->input + usage->output == 0) {
    actual = call->reserved_cost;
  } else if (usage != nullptr && slot.price) {
    actual = resilience::to_nanodollars(provider::cost_of(*usage, *slot.price));
  }
  options.budget->settle(call->reserved_cost, actual);
  call->reserved_cost = 0;
}

void Evaluator::Impl::cleared(JudgeCall* call) {
  // Asked only now, right before sending: a half-open breaker's probe slot is held until
  // the reply, so it must not be taken by a call that then waits for the limiter.
  const ProviderSlot& slot = chain[call->provider_index];
  if (slot.breaker != nullptr && !slot.breaker->allow()) {
    limiter.reconcile(slot.limiter_key, call->reserved_tokens, 0);
    settle_cost(call, nullptr);
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
      settle_cost(call, nullptr);
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
  Outcome outcome;
  outcome.kind = slot.breaker->state() == resilience::BreakerState::kHalfOpen ? Outcome::Kind::kBreakerProbing
                                                                             : Outcome::Kind::kBreakerOpen;
  outcome.error = Error{ErrorKind::kServer, "provider " + slot.provider->name() + " is failing (circuit open)",
                        slot.breaker->retry_in()};
  carry_out(call, resilience::decide(options.policy, state_of(call), outcome, context_of(call)), outcome.error);
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
  if (stopped) {
    settle_cost(call, nullptr);
    return;
  }
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
  const bool prepaid = call->prepaid;  // took no grant, no breaker slot, no reservation
  call->prepaid = false;
  if (!prepaid) tell_breaker(slot, reply.ok() ? nullptr : &reply.error());
  if (!reply.ok()) {
    if (!prepaid) limiter.reconcile(slot.limiter_key, call->reserved_tokens, 0);
    settle_cost(call, nullptr);
    on_call_error(call, reply.error());
    return;
  }
  const provider::CompletionResponse& response = reply.value();
  log->trace("[line={}] judge reply: {}", call->row->item.line, response.text);
  if (response.exhausted_for) limiter.hold_off(slot.limiter_key, *response.exhausted_for);
  // A server that reports no usage keeps the estimate reserved rather than returning it all.
  std::int64_t used = response.usage.input + response.usage.output;
  if (!prepaid) limiter.reconcile(slot.limiter_key, call->reserved_tokens, used > 0 ? used : call->reserved_tokens);
  settle_cost(call, &response.usage);
  call->tokens.input += response.usage.input;
  call->tokens.output += response.usage.output;
  call->tokens.cached_input += response.usage.cached_input;
  call->tokens.cache_write += response.usage.cache_write;
  call->tokens.reasoning += response.usage.reasoning;
  metrics.tokens(call->provider_index, response.usage);
  const dataset::Criterion& criterion = call->row->item.criteria[call->criterion_index];
  Result<judge::Verdict> verdict = criterion.pairwise ? judge::parse_pairwise_reply(response.text)
                                                      : judge::parse_judge_reply(response.text, criterion.scale);
  if (verdict.ok()) {
    const provider::Provider* p = slot.provider;
    output::JudgeInfo info;
    info.provider = p->name();
    info.model = response.model.empty() ? p->model() : response.model;
    info.attempts = call->attempts_total;
    info.fallback = call->provider_index > 0 && !call->juror;  // a juror is itself, never a fallback
    info.tokens = call->tokens;
    info.simulated = response.simulated;
    info.batch = response.batch_id;
    info.batch_fallback = response.batch_fallback;
    info.latency_ms = std::chrono::duration_cast<milliseconds>(clock.now() - call->sent_at).count();
    store_in_cache(call, verdict.value(), info);
    succeed_call(call, verdict.value(), std::move(info));
    return;
  }
  Outcome outcome{response.truncated ? Outcome::Kind::kTruncated : Outcome::Kind::kUnparseable,
                  Error{ErrorKind::kParse, verdict.error().message}};
  Decision decision = resilience::decide(options.policy, state_of(call), outcome, context_of(call));
  if (decision.action == Decision::Action::kRepair) {
    // One repair attempt: show the judge its reply and what was wrong with it.
    call->repaired = true;
    call->request = judge::build_repair_request(call->request, response.text, verdict.error().message);
  }
  carry_out(call, decision, outcome.error);
}

void Evaluator::Impl::on_call_error(JudgeCall* call, const Error& error) {
  const Outcome outcome{Outcome::Kind::kFailed, error};
  carry_out(call, resilience::decide(options.policy, state_of(call), outcome, context_of(call)), error);
}

CallState Evaluator::Impl::state_of(const JudgeCall* call) const {
  return CallState{call->provider_index, call->attempts_on_provider, call->repaired, call->request.cap_scale > 1};
}

CallContext Evaluator::Impl::context_of(const JudgeCall* call) {
  CallContext context;
  context.now = clock.now();
  context.row_started = call->row->started;
  context.usable = usable_now(call);
  const ProviderSlot& slot = chain[call->provider_index];
  context.retry_budget_left = slot.retry_budget == nullptr || slot.retry_budget->has_room();
  context.jitter = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  return context;
}

void Evaluator::Impl::carry_out(JudgeCall* call, const Decision& decision, const Error& cause) {
  const std::size_t index = call->provider_index;
  const ProviderSlot& slot = chain[index];
  if (decision.hold_off) limiter.hold_off(slot.limiter_key, *decision.hold_off);  // every call to it waits
  if (decision.disable_provider && !provider_disabled[index]) {
    provider_disabled[index] = true;
    log->error("[provider={}] {}; taking it out of the chain", slot.provider->name(), cause.message);
    auth_message = cause.message;
  }
  if (decision.spend_retry_budget && slot.retry_budget != nullptr) slot.retry_budget->spend();
  if (decision.counts_as_retry) {
    ++counters.retries;
    metrics.retry(index);
  }
  if (*decision.why != '\0') {
    log->debug("[line={} provider={}] no retry ({}): {}", call->row->item.line, slot.provider->name(), decision.why,
               cause.message);
  }
  switch (decision.action) {
    case Decision::Action::kRetry:
      log->debug("[line={} provider={}] retry {}/{} in {}ms ({}: {})", call->row->item.line, slot.provider->name(),
                 call->attempts_on_provider, options.policy.max_attempts - 1, decision.delay.count(),
                 to_string(cause.kind), cause.message);
      admit_later(decision.delay, call);
      return;
    case Decision::Action::kWait:
      if (decision.charge_attempt) ++call->attempts_on_provider;
      admit_later(decision.delay, call);
      return;
    case Decision::Action::kWiden:
      call->request.cap_scale = 2;
      log->debug("[line={} provider={}] reply cut off by the token cap; once more with twice the cap",
                 call->row->item.line, slot.provider->name());
      admit(call);
      return;
    case Decision::Action::kRepair:  // the caller put the repair turn in the request
      admit(call);
      return;
    case Decision::Action::kFallback: {
      call->provider_index = decision.provider;
      call->attempts_on_provider = 0;
      ++counters.fallbacks;
      metrics.fallback(index, decision.provider);
      auto level = fallback_announced[index] ? spdlog::level::debug : spdlog::level::warn;
      fallback_announced[index] = true;
      log->log(level, "[line={}] falling back from {} to {}", call->row->item.line, slot.provider->name(),
               chain[decision.provider].provider->name());
      admit(call);
      return;
    }
    case Decision::Action::kFail:
      // No provider left that takes our key; a jury goes on while any juror does.
      if (decision.disable_provider) {
        auth_failed = !call->juror || std::all_of(provider_disabled.begin(), provider_disabled.end(),
                                                  [](bool disabled) { return disabled; });
      }
      fail_call(call, decision.fail_kind, decision.message);
      return;
  }
}

}  // namespace llmeval::runner
