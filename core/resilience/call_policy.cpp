#include "core/resilience/call_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace llmeval::resilience {
namespace {

using std::chrono::milliseconds;

// How long a call waits while a half-open breaker's probes are out before asking again.
constexpr milliseconds kProbeWait{100};

bool past_deadline(const CallPolicyOptions& options, const CallContext& context, milliseconds delay) {
  return options.row_deadline.count() > 0 && context.now + delay >= context.row_started + options.row_deadline;
}

Decision fail(std::string kind, std::string message) {
  Decision d;
  d.action = Decision::Action::kFail;
  d.fail_kind = std::move(kind);
  d.message = std::move(message);
  return d;
}

// Moves on to the next usable provider, or fails with `kind` and `message` on the last.
Decision fall_back_or_fail(const CallState& state, const CallContext& context, std::string kind,
                           std::string message) {
  if (auto next = next_usable(state.provider + 1, context.usable)) {
    Decision d;
    d.action = Decision::Action::kFallback;
    d.provider = *next;
    return d;
  }
  return fail(std::move(kind), std::move(message));
}

Decision after_failure(const CallPolicyOptions& options, const CallState& state, const Error& error,
                       const CallContext& context) {
  if (error.kind == ErrorKind::kAuth) {
    Decision d = fall_back_or_fail(state, context, "auth", error.message);
    d.disable_provider = true;
    return d;
  }
  std::optional<milliseconds> hold_off;
  if (error.kind == ErrorKind::kRateLimited && error.retry_after) hold_off = *error.retry_after;
  // A 429 that said when to come back is paced by the provider itself (everyone holds off), so
  // it does not draw on the retry budget, which guards against storms.
  bool paced = hold_off.has_value();
  milliseconds delay = backoff(options, state.attempts_on_provider, context.jitter);
  if (error.retry_after) delay = std::max(delay, *error.retry_after);

  Decision d;
  const char* why = "";
  if (past_deadline(options, context, milliseconds(0))) {
    d = fail(result_kind(error.kind), error.message + " (row deadline of " +
                                          std::to_string(options.row_deadline.count()) + "ms passed)");
    d.hold_off = hold_off;
    return d;
  }
  if (!retryable(error.kind)) {
    why = "not retryable";
  } else if (state.attempts_on_provider >= options.max_attempts) {
    why = "attempts spent";
  } else if (past_deadline(options, context, delay)) {
    why = "the wait would pass the row deadline";
  } else if (!paced && !context.retry_budget_left) {
    why = "retry budget spent";
  } else {
    d.action = Decision::Action::kRetry;
    d.delay = delay;
    d.spend_retry_budget = !paced;
    d.counts_as_retry = true;
    d.hold_off = hold_off;
    return d;
  }
  d = fall_back_or_fail(state, context, result_kind(error.kind), error.message);
  d.hold_off = hold_off;
  d.why = why;
  return d;
}

Decision after_breaker_refusal(const CallPolicyOptions& options, const CallState& state, const Outcome& outcome,
                               const CallContext& context) {
  const Error& open = outcome.error;
  Decision d = fall_back_or_fail(state, context, result_kind(open.kind), open.message);
  if (d.action == Decision::Action::kFallback) return d;
  if (outcome.kind == Outcome::Kind::kBreakerProbing) {
    if (past_deadline(options, context, kProbeWait)) return d;
    d.action = Decision::Action::kWait;
    d.delay = kProbeWait;
    return d;
  }
  if (state.attempts_on_provider + 1 < options.max_attempts) {
    d.action = Decision::Action::kWait;
    d.delay = std::max(open.retry_after.value_or(milliseconds(0)), milliseconds(1));
    d.charge_attempt = true;
  }
  return d;
}

}  // namespace

Decision decide(const CallPolicyOptions& options, const CallState& state, const Outcome& outcome,
                const CallContext& context) {
  switch (outcome.kind) {
    case Outcome::Kind::kFailed: return after_failure(options, state, outcome.error, context);
    case Outcome::Kind::kUnparseable: {
      if (state.repaired) {
        return fail("judge_unparseable",
                    "the judge's reply could not be used, even after one repair attempt: " + outcome.error.message);
      }
      Decision d;
      d.action = Decision::Action::kRepair;
      return d;
    }
    case Outcome::Kind::kTruncated: {
      // Cut off by the token cap (a reasoning model that thought too long): the same call would
      // be cut again, so the one retry gets twice the cap; a second cut ends the criterion.
      if (state.widened) {
        return fail("truncated",
                    "the judge's reply was cut off by the token cap twice, the second time at twice the cap; raise "
                    "judge.max_tokens or the provider's max_tokens, or lower its reasoning_effort");
      }
      Decision d;
      d.action = Decision::Action::kWiden;
      d.counts_as_retry = true;
      return d;
    }
    case Outcome::Kind::kBreakerOpen:
    case Outcome::Kind::kBreakerProbing: return after_breaker_refusal(options, state, outcome, context);
  }
  return fail("provider_error", outcome.error.message);
}

std::optional<std::size_t> next_usable(std::size_t from, const std::vector<bool>& usable) {
  for (std::size_t i = from; i < usable.size(); ++i) {
    if (usable[i]) return i;
  }
  return std::nullopt;
}

milliseconds backoff(const CallPolicyOptions& options, int attempt, double jitter) {
  double ceiling = static_cast<double>(options.retry_base.count()) * std::pow(2.0, std::max(attempt, 1) - 1);
  ceiling = std::min(ceiling, static_cast<double>(options.retry_max.count()));
  return milliseconds(static_cast<std::int64_t>(std::clamp(jitter, 0.0, 1.0) * ceiling));
}

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

}  // namespace llmeval::resilience
