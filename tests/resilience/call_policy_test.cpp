// The call policy as a table: one row per branch (what happened, where the call stands, the
// world) and the decision it must give. Time comes from a FakeClock; the jitter draw is fixed.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/resilience/call_policy.h"
#include "tests/fakes/fake_clock.h"

using llmeval::Error;
using llmeval::ErrorKind;
using llmeval::resilience::CallContext;
using llmeval::resilience::CallPolicyOptions;
using llmeval::resilience::CallState;
using llmeval::resilience::Decision;
using llmeval::resilience::Outcome;
using llmeval::testing::FakeClock;
using Action = Decision::Action;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

Error http_error(ErrorKind kind, std::optional<milliseconds> retry_after = std::nullopt) {
  return Error(kind, "scripted " + std::string(llmeval::to_string(kind)), retry_after);
}

struct Row {
  const char* name;
  Outcome::Kind outcome;
  Error error;
  CallState state;              // provider, attempts on it, repaired, widened
  std::vector<bool> usable;     // the chain
  milliseconds elapsed;         // since the row started
  bool budget_left;
  // expected
  Action action;
  milliseconds delay;           // kRetry / kWait
  std::size_t provider;         // kFallback
  const char* fail_kind;        // kFail
  bool spends_budget;
  bool disables;
  std::optional<milliseconds> hold_off;
  bool charges_attempt;
};

// Options of every row: 4 attempts per provider, backoff 250 ms doubling to at most 20 s (so
// the jitter of 0.5 gives 125, 250, 500 ms...), a 10 s row deadline.
CallPolicyOptions table_options() {
  CallPolicyOptions options;
  options.max_attempts = 4;
  options.retry_base = 250ms;
  options.retry_max = 20000ms;
  options.row_deadline = 10000ms;
  return options;
}

const std::vector<bool> kOne{true};
const std::vector<bool> kTwo{true, true};
const std::vector<bool> kSecondOut{true, false, true};  // the middle provider rejected our key

// clang-format off
const std::vector<Row> kTable = {
  // name                                outcome                         error                                         state            chain       elapsed  budget  action             delay   prov  fail_kind            spends disables hold_off     charges
  {"timeout: retry after backoff",       Outcome::Kind::kFailed,         http_error(ErrorKind::kTimeout),               {0, 1, false, false}, kTwo, 0ms,    true,   Action::kRetry,    125ms,  0,    "",                  true,  false, std::nullopt, false},
  {"timeout, 2nd attempt: longer",       Outcome::Kind::kFailed,         http_error(ErrorKind::kTimeout),               {0, 2, false, false}, kTwo, 0ms,    true,   Action::kRetry,    250ms,  0,    "",                  true,  false, std::nullopt, false},
  {"connect error: retry",               Outcome::Kind::kFailed,         http_error(ErrorKind::kConnect),               {0, 1, false, false}, kTwo, 0ms,    true,   Action::kRetry,    125ms,  0,    "",                  true,  false, std::nullopt, false},
  {"5xx/529: retry",                     Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {0, 3, false, false}, kTwo, 0ms,    true,   Action::kRetry,    500ms,  0,    "",                  true,  false, std::nullopt, false},
  {"5xx, attempts spent: fallback",      Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {0, 4, false, false}, kTwo, 0ms,    true,   Action::kFallback, 0ms,    1,    "",                  false, false, std::nullopt, false},
  {"5xx, attempts spent on the last",    Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {1, 4, false, false}, kTwo, 0ms,    true,   Action::kFail,     0ms,    0,    "provider_error",    false, false, std::nullopt, false},
  {"timeout on the last: kind timeout",  Outcome::Kind::kFailed,         http_error(ErrorKind::kTimeout),               {0, 4, false, false}, kOne, 0ms,    true,   Action::kFail,     0ms,    0,    "timeout",           false, false, std::nullopt, false},
  {"429 without Retry-After: budget",    Outcome::Kind::kFailed,         http_error(ErrorKind::kRateLimited),           {0, 1, false, false}, kTwo, 0ms,    true,   Action::kRetry,    125ms,  0,    "",                  true,  false, std::nullopt, false},
  {"429 with Retry-After: paced",        Outcome::Kind::kFailed,         http_error(ErrorKind::kRateLimited, 3000ms),   {0, 1, false, false}, kTwo, 0ms,    false,  Action::kRetry,    3000ms, 0,    "",                  false, false, 3000ms,       false},
  {"429 with Retry-After past deadline", Outcome::Kind::kFailed,         http_error(ErrorKind::kRateLimited, 30000ms),  {0, 1, false, false}, kOne, 0ms,    true,   Action::kFail,     0ms,    0,    "rate_limited",      false, false, 30000ms,      false},
  {"429 without Retry-After, no budget", Outcome::Kind::kFailed,         http_error(ErrorKind::kRateLimited),           {0, 1, false, false}, kTwo, 0ms,    false,  Action::kFallback, 0ms,    1,    "",                  false, false, std::nullopt, false},
  {"5xx, budget spent: fallback",        Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {0, 1, false, false}, kTwo, 0ms,    false,  Action::kFallback, 0ms,    1,    "",                  false, false, std::nullopt, false},
  {"5xx, budget spent on the last",      Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {0, 1, false, false}, kOne, 0ms,    false,  Action::kFail,     0ms,    0,    "provider_error",    false, false, std::nullopt, false},
  {"400: no retry, fallback",            Outcome::Kind::kFailed,         http_error(ErrorKind::kBadRequest),            {0, 1, false, false}, kTwo, 0ms,    true,   Action::kFallback, 0ms,    1,    "",                  false, false, std::nullopt, false},
  {"400 on the last: fail",              Outcome::Kind::kFailed,         http_error(ErrorKind::kBadRequest),            {0, 1, false, false}, kOne, 0ms,    true,   Action::kFail,     0ms,    0,    "provider_error",    false, false, std::nullopt, false},
  {"401/403: out, next provider",        Outcome::Kind::kFailed,         http_error(ErrorKind::kAuth),                  {0, 1, false, false}, kTwo, 0ms,    true,   Action::kFallback, 0ms,    1,    "",                  false, true,  std::nullopt, false},
  {"401/403 skips a disabled provider",  Outcome::Kind::kFailed,         http_error(ErrorKind::kAuth),                  {0, 1, false, false}, kSecondOut, 0ms, true, Action::kFallback, 0ms,    2,    "",                  false, true,  std::nullopt, false},
  {"401/403 on the last: auth",          Outcome::Kind::kFailed,         http_error(ErrorKind::kAuth),                  {1, 1, false, false}, kTwo, 0ms,    true,   Action::kFail,     0ms,    0,    "auth",              false, true,  std::nullopt, false},
  {"deadline passed: fail at once",      Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {0, 1, false, false}, kTwo, 10000ms, true,  Action::kFail,     0ms,    0,    "provider_error",    false, false, std::nullopt, false},
  {"backoff would pass the deadline",    Outcome::Kind::kFailed,         http_error(ErrorKind::kServer),                {0, 1, false, false}, kTwo, 9900ms, true,   Action::kFallback, 0ms,    1,    "",                  false, false, std::nullopt, false},
  {"unparseable: repair turn",           Outcome::Kind::kUnparseable,    Error(ErrorKind::kParse, "no score"),          {0, 1, false, false}, kOne, 0ms,    true,   Action::kRepair,   0ms,    0,    "",                  false, false, std::nullopt, false},
  {"unparseable after repair: fail",     Outcome::Kind::kUnparseable,    Error(ErrorKind::kParse, "no score"),          {0, 2, true, false},  kTwo, 0ms,    true,   Action::kFail,     0ms,    0,    "judge_unparseable", false, false, std::nullopt, false},
  {"truncated: twice the cap",           Outcome::Kind::kTruncated,      Error(ErrorKind::kParse, "cut"),               {0, 1, false, false}, kOne, 0ms,    true,   Action::kWiden,    0ms,    0,    "",                  false, false, std::nullopt, false},
  {"truncated again: fail",              Outcome::Kind::kTruncated,      Error(ErrorKind::kParse, "cut"),               {0, 2, false, true},  kOne, 0ms,    true,   Action::kFail,     0ms,    0,    "truncated",         false, false, std::nullopt, false},
  {"breaker open: next provider",        Outcome::Kind::kBreakerOpen,    http_error(ErrorKind::kServer, 20000ms),       {0, 0, false, false}, kTwo, 0ms,    true,   Action::kFallback, 0ms,    1,    "",                  false, false, std::nullopt, false},
  {"breaker open on the last: wait",     Outcome::Kind::kBreakerOpen,    http_error(ErrorKind::kServer, 2000ms),        {1, 0, false, false}, kTwo, 0ms,    true,   Action::kWait,     2000ms, 0,    "",                  false, false, std::nullopt, true},
  {"breaker open on the last, spent",    Outcome::Kind::kBreakerOpen,    http_error(ErrorKind::kServer, 2000ms),        {1, 3, false, false}, kTwo, 0ms,    true,   Action::kFail,     0ms,    0,    "provider_error",    false, false, std::nullopt, false},
  {"half-open, probes out: short wait",  Outcome::Kind::kBreakerProbing, http_error(ErrorKind::kServer),                {0, 3, false, false}, kOne, 0ms,    true,   Action::kWait,     100ms,  0,    "",                  false, false, std::nullopt, false},
  {"half-open, deadline near: fail",     Outcome::Kind::kBreakerProbing, http_error(ErrorKind::kServer),                {0, 0, false, false}, kOne, 9950ms, true,   Action::kFail,     0ms,    0,    "provider_error",    false, false, std::nullopt, false},
};
// clang-format on

}  // namespace

TEST_CASE("the call policy decides every branch of a judge call", "[call_policy]") {
  const CallPolicyOptions options = table_options();
  for (const Row& row : kTable) {
    INFO(row.name);
    FakeClock clock;
    CallContext context;
    context.row_started = clock.now();
    clock.advance(row.elapsed);
    context.now = clock.now();
    context.usable = row.usable;
    context.retry_budget_left = row.budget_left;
    context.jitter = 0.5;
    Outcome outcome{row.outcome, row.error};

    Decision d = llmeval::resilience::decide(options, row.state, outcome, context);

    CHECK(d.action == row.action);
    if (row.action == Action::kRetry || row.action == Action::kWait) CHECK(d.delay == row.delay);
    if (row.action == Action::kFallback) CHECK(d.provider == row.provider);
    if (row.action == Action::kFail) CHECK(d.fail_kind == row.fail_kind);
    CHECK(d.spend_retry_budget == row.spends_budget);
    CHECK(d.disable_provider == row.disables);
    CHECK(d.hold_off == row.hold_off);
    CHECK(d.charge_attempt == row.charges_attempt);
    CHECK(d.counts_as_retry == (row.action == Action::kRetry || row.action == Action::kWiden));
  }
}

TEST_CASE("the call policy names the row deadline in a deadline failure", "[call_policy]") {
  FakeClock clock;
  CallContext context;
  context.row_started = clock.now();
  clock.advance(12s);
  context.now = clock.now();
  context.usable = kOne;
  Decision d = llmeval::resilience::decide(table_options(), CallState{0, 1, false, false},
                                       Outcome{Outcome::Kind::kFailed, http_error(ErrorKind::kTimeout)}, context);
  REQUIRE(d.action == Action::kFail);
  CHECK(d.message == "scripted timeout (row deadline of 10000ms passed)");
}

TEST_CASE("without a row deadline the call policy retries whatever the time", "[call_policy]") {
  CallPolicyOptions options = table_options();
  options.row_deadline = 0ms;
  FakeClock clock;
  CallContext context;
  context.row_started = clock.now();
  clock.advance(24h);
  context.now = clock.now();
  context.usable = kOne;
  Decision d = llmeval::resilience::decide(options, CallState{0, 1, false, false},
                                       Outcome{Outcome::Kind::kFailed, http_error(ErrorKind::kServer)}, context);
  CHECK(d.action == Action::kRetry);
}

TEST_CASE("the backoff doubles with full jitter up to its cap, never before Retry-After", "[call_policy]") {
  CallPolicyOptions options = table_options();
  using llmeval::resilience::backoff;
  CHECK(backoff(options, 1, 0.0) == 0ms);
  CHECK(backoff(options, 1, 0.999) == 249ms);
  CHECK(backoff(options, 3, 0.999) == 999ms);
  CHECK(backoff(options, 30, 0.999) == 19980ms);  // capped at retry_max
  CHECK(backoff(options, 30, 1.5) == 20000ms);    // a draw out of range is clamped

  FakeClock clock;
  CallContext context;
  context.row_started = clock.now();
  context.now = clock.now();
  context.usable = kOne;
  context.jitter = 0.999;  // backoff 249 ms, Retry-After 1 s
  Decision d = llmeval::resilience::decide(
      options, CallState{0, 1, false, false},
      Outcome{Outcome::Kind::kFailed, http_error(ErrorKind::kServer, 1000ms)}, context);
  REQUIRE(d.action == Action::kRetry);
  CHECK(d.delay == 1000ms);
  CHECK_FALSE(d.hold_off.has_value());  // only a 429 holds the whole provider back
}

TEST_CASE("next_usable skips providers out of the chain", "[call_policy]") {
  using llmeval::resilience::next_usable;
  CHECK(next_usable(0, {false, false, true}) == 2u);
  CHECK(next_usable(1, {true, true}) == 1u);
  CHECK_FALSE(next_usable(2, {true, true}).has_value());
  CHECK_FALSE(next_usable(0, {false, false}).has_value());
}
