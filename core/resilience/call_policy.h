// CallPolicy: what happens next to one judge call, decided from what just happened to it and
// the state that matters — and nothing else. Pure: no clock (the caller passes `now`), no
// randomness (the caller passes the jitter draw), no I/O, no logging. The Evaluator asks it after
// every failed attempt, unusable reply and breaker refusal, and only carries the decision out,
// so every branch of retry, repair, fallback and failure is tested as a table
// (tests/resilience/call_policy_test.cpp).
//
// The rules, in order (docs/resilience.md):
//  - 401/403: the provider is taken out of the chain for the run; the call moves on to the next
//    usable provider, or fails as `auth`.
//  - 429 with Retry-After: the provider's whole bucket holds off that long. Paced by the provider,
//    such a retry does not draw on the retry budget.
//  - The row deadline has passed: the call fails with its error.
//  - A retryable error (timeout, connection, 5xx/529, 429, I/O) is retried on the same provider
//    after capped, fully jittered exponential backoff (never before Retry-After) while attempts
//    remain, the wait ends before the row deadline and the retry budget has room. Otherwise,
//    and for a 400, the call moves to the next usable provider; on the last it fails.
//  - An unparseable reply gets one repair turn, then fails as `judge_unparseable`.
//  - A reply cut off by the token cap is sent once more at twice the cap, then fails as
//    `truncated`.
//  - An open breaker sends the call to the next provider; on the last, the call waits for the
//    breaker's probe, each wait counting as an attempt. A half-open breaker whose probes are out
//    is about to decide: that short wait counts nothing, and the row deadline still bounds it.
//
// A refused request parameter (today's judge models) never reaches the policy: the provider
// adapts its request and resends it itself, and that resend is not an attempt.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/common/error.h"

namespace llmeval::resilience {

struct CallPolicyOptions {
  int max_attempts = 4;  // per provider, first try included
  std::chrono::milliseconds retry_base{250};
  std::chrono::milliseconds retry_max{20000};
  std::chrono::milliseconds row_deadline{300000};  // from the row's start; 0 = none
};

// Where a call stands.
struct CallState {
  std::size_t provider = 0;      // its position in the fallback chain
  int attempts_on_provider = 0;  // sent to this provider, or refused by its open breaker
  bool repaired = false;         // the one repair turn was used
  bool widened = false;          // the one resend at twice the token cap was used
};

// What just happened to the call.
struct Outcome {
  enum class Kind {
    kFailed,          // the provider call failed; `error` says how
    kUnparseable,     // the reply is not a verdict; `error.message` says why
    kTruncated,       // the reply was cut off by the token cap before a verdict
    kBreakerOpen,     // the breaker refused the call; `error.retry_after`: until it lets a probe through
    kBreakerProbing,  // the breaker is half-open and its probes are out
  };
  Kind kind = Kind::kFailed;
  Error error;
};

// The world at the moment of the decision.
struct CallContext {
  Clock::TimePoint now;
  Clock::TimePoint row_started;
  std::vector<bool> usable;        // by chain position: may take calls (key accepted, allowed model)
  bool retry_budget_left = true;   // the provider's retry budget has room for one more retry
  double jitter = 0.5;             // a uniform draw in [0, 1): where in the backoff range a retry lands
};

struct Decision {
  enum class Action {
    kRetry,     // the same provider again after `delay`, through the limiter
    kRepair,    // the repair turn, now, on the same provider
    kWiden,     // the same request at twice the token cap, now
    kFallback,  // provider `provider`, now
    kWait,      // ask the breaker again after `delay`
    kFail,      // the criterion ends as an error of kind `fail_kind` with `message`
  };
  Action action = Action::kFail;
  std::chrono::milliseconds delay{0};
  std::size_t provider = 0;
  std::string fail_kind;  // a result error kind (docs/formats.md §3)
  std::string message;

  // Carried out whatever the action:
  bool disable_provider = false;   // the provider rejected our key: out of the chain for the run
  std::optional<std::chrono::milliseconds> hold_off;  // the provider's bucket waits this long
  bool spend_retry_budget = false;  // this retry is charged to the provider's retry budget
  bool charge_attempt = false;      // a breaker wait that counts as an attempt on the provider
  bool counts_as_retry = false;     // for the run's retry counter and metric
  const char* why = "";             // a few words for the debug log, e.g. "retry budget spent"
};

Decision decide(const CallPolicyOptions& options, const CallState& state, const Outcome& outcome,
                const CallContext& context);

// The first usable chain position at or after `from`; nullopt when none is left.
std::optional<std::size_t> next_usable(std::size_t from, const std::vector<bool>& usable);

// Exponential backoff with full jitter (AWS architecture blog): `jitter` in [0, 1) of
// min(retry_max, retry_base · 2^(attempt-1)).
std::chrono::milliseconds backoff(const CallPolicyOptions& options, int attempt, double jitter);

// Result error kinds (docs/formats.md §3) for provider-side failures.
const char* result_kind(ErrorKind kind);

// Errors another attempt on the same provider may cure.
bool retryable(ErrorKind kind);

}  // namespace llmeval::resilience
