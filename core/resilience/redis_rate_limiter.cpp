#include "core/resilience/redis_rate_limiter.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/common/logging.h"

namespace llmeval::resilience {
namespace {

// One script for every decision, so each is atomic and timed by the Redis server's clock.
// ARGV[1] is the operation. Bucket ops: KEYS[1] the bucket hash; ARGV[2..5] rpm, tpm, burst ms,
// key TTL ms; ARGV[6] the op's amount. Fields: r/t bucket levels, ts their time, nb not-before.
constexpr const char* kScript = R"lua(
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
if op == 'heartbeat' then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return redis.call('ZCARD', KEYS[1])
end
local key = KEYS[1]
local rpm, tpm, burst = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local amount = tonumber(ARGV[6])
local s = redis.call('HMGET', key, 'r', 't', 'ts', 'nb')
local nb = tonumber(s[4]) or 0
if op == 'hold' then
  if now + amount > nb then redis.call('HSET', key, 'nb', now + amount) end
  redis.call('PEXPIRE', key, math.max(tonumber(ARGV[5]), amount + 1000))
  return {0, 0}
end
if op == 'acquire' and now < nb then return {0, math.ceil(nb - now)} end
local elapsed = math.max(0, now - (tonumber(s[3]) or now))
-- A bucket Redis does not have starts empty, not full.
local function refill(stored, limit)
  local rate = limit / 60000
  local cap = math.max(1, rate * burst)
  return math.min(cap, (tonumber(stored) or 0) + elapsed * rate), cap, rate
end
local function wait_for(level, need, rate)
  if level >= need - 1e-9 then return 0 end
  return math.max(1, math.ceil((need - level) / rate))
end
local r, rcap, rrate, tk, tcap, trate
local wait = 0
if rpm > 0 then
  r, rcap, rrate = refill(s[1], rpm)
  if op == 'acquire' then wait = wait_for(r, 1, rrate) end
end
if tpm > 0 then
  tk, tcap, trate = refill(s[2], tpm)
  if op == 'acquire' then wait = math.max(wait, wait_for(tk, math.min(amount, tcap), trate)) end
  if op == 'reconcile' then tk = math.min(tcap, tk + amount) end
end
if op == 'acquire' and wait == 0 then
  if rpm > 0 then r = r - 1 end
  if tpm > 0 then tk = tk - amount end
end
if rpm > 0 then redis.call('HSET', key, 'r', r) end
if tpm > 0 then redis.call('HSET', key, 't', tk) end
redis.call('HSET', key, 'ts', now)
redis.call('PEXPIRE', key, math.max(tonumber(ARGV[5]), nb - now))
if wait == 0 then return {1, 0} end
return {0, wait}
)lua";

constexpr std::chrono::milliseconds kBucketTtl{60000};

// This process's share of a per-minute limit while Redis is out of reach.
std::int64_t share_of(std::int64_t limit, std::int64_t processes) {
  if (limit <= 0) return 0;
  return std::max<std::int64_t>(1, limit / std::max<std::int64_t>(1, processes));
}

struct Waiter {
  std::int64_t tokens = 0;
  AdmissionCallback callback;
  bool waited = false;
};

struct KeyState {
  Limits limits;
  std::deque<Waiter> waiting;
  bool busy = false;  // the head's decision is in flight, or its wait is on a timer
  std::optional<Clock::TimePoint> not_before;  // this process's copy of hold_off
  std::int64_t live = 1;
};

}  // namespace

struct RedisRateLimiter::Impl {
  EventLoop& loop;
  Clock& clock;
  redis::RedisClient& client;
  RedisLimiterOptions options;
  std::map<std::string, KeyState> keys;
  std::optional<LocalRateLimiter> local;  // set while degraded; new buckets start empty
  TimerId heartbeat_timer = 0;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // guards callbacks after destruction
  std::shared_ptr<spdlog::logger> log = logger("limiter");

  Impl(EventLoop& l, Clock& c, redis::RedisClient& r, RedisLimiterOptions o)
      : loop(l), clock(c), client(r), options(std::move(o)) {}

  std::string bucket_key(const std::string& key) const { return options.prefix + "{" + key + "}:bucket"; }
  std::string procs_key(const std::string& key) const { return options.prefix + "{" + key + "}:procs"; }

  // Runs the script; `done` only while the limiter lives.
  void run_script(std::vector<std::string> argv, std::function<void(Result<redis::RedisValue>)> done) {
    std::vector<std::string> command{"EVAL", kScript, "1"};
    for (auto& arg : argv) command.push_back(std::move(arg));
    client.command(std::move(command), [alive = std::weak_ptr<bool>(alive), done = std::move(done)](
                                           Result<redis::RedisValue> reply) {
      if (alive.lock()) done(std::move(reply));
    });
  }

  std::vector<std::string> bucket_args(const std::string& key, const char* op, std::int64_t amount,
                                       std::chrono::milliseconds ttl = kBucketTtl) {
    const Limits& limits = keys[key].limits;
    return {bucket_key(key),
            op,
            std::to_string(limits.rpm),
            std::to_string(limits.tpm),
            std::to_string(limits.burst.count()),
            std::to_string(ttl.count()),
            std::to_string(amount)};
  }

  // ---- the queue of one key --------------------------------------------------------------

  void serve_queue(const std::string& key) {
    KeyState& state = keys[key];
    while (!state.busy && !state.waiting.empty()) {
      auto now = clock.now();
      if (state.not_before && now < *state.not_before) {
        wait_then_serve(key, std::chrono::ceil<std::chrono::milliseconds>(*state.not_before - now));
        return;
      }
      if (local) {
        decide_locally(key);
        continue;
      }
      state.busy = true;
      run_script(bucket_args(key, "acquire", state.waiting.front().tokens),
                 [this, key](Result<redis::RedisValue> reply) { on_decision(key, std::move(reply)); });
    }
  }

  void decide_locally(const std::string& key) {
    KeyState& state = keys[key];
    std::optional<Admission> answer;
    local->acquire(key, state.waiting.front().tokens, [&](Result<Admission> admission) {
      if (admission.ok()) answer = admission.value();
    });
    if (answer && !answer->granted) {
      wait_then_serve(key, answer->retry_after);
      return;
    }
    grant_head(key);
  }

  void on_decision(const std::string& key, Result<redis::RedisValue> reply) {
    KeyState& state = keys[key];
    state.busy = false;
    const redis::RedisValue* value = reply.ok() ? &reply.value() : nullptr;
    if (value == nullptr || value->elements.size() != 2) {
      enter_degraded(reply.ok() ? "unexpected reply from the limiter script" : reply.error().message);
      serve_queue(key);
      return;
    }
    if (value->elements[0].integer == 1) {
      grant_head(key);
    } else {
      wait_then_serve(key, std::chrono::milliseconds(std::max<long long>(1, value->elements[1].integer)));
      return;
    }
    serve_queue(key);
  }

  void grant_head(const std::string& key) {
    KeyState& state = keys[key];
    Waiter waiter = std::move(state.waiting.front());
    state.waiting.pop_front();
    waiter.callback(Admission{true, {}, waiter.waited});
  }

  void wait_then_serve(const std::string& key, std::chrono::milliseconds wait) {
    KeyState& state = keys[key];
    state.busy = true;
    state.waiting.front().waited = true;
    loop.add_timer(wait, [this, key, alive = std::weak_ptr<bool>(alive)] {
      if (!alive.lock()) return;
      keys[key].busy = false;
      serve_queue(key);
    });
  }

  // ---- degraded mode and heartbeats -----------------------------------------------------

  void enter_degraded(const std::string& why) {
    if (local) return;
    local.emplace(clock);
    std::string shares;
    for (auto& [key, state] : keys) {
      Limits share{share_of(state.limits.rpm, state.live), share_of(state.limits.tpm, state.live), state.limits.burst};
      local->set_limits(key, share);
      if (state.not_before) local->hold_off(key, std::chrono::ceil<std::chrono::milliseconds>(*state.not_before - clock.now()));
      shares += " " + key + ": rpm " + std::to_string(share.rpm) + ", tpm " + std::to_string(share.tpm) + " (1/" +
                std::to_string(state.live) + ");";
    }
    log->warn("shared rate limiter unavailable at {} ({}); using this process's share of each limit until it is back:{}",
              client.url().to_display(), why, shares);
    if (options.on_degraded) options.on_degraded(true);
  }

  void leave_degraded() {
    if (!local) return;
    local.reset();
    log->warn("shared rate limiter at {} is back; limits are shared again", client.url().to_display());
    if (options.on_degraded) options.on_degraded(false);
  }

  void heartbeat() {
    heartbeat_timer = loop.add_timer(options.heartbeat_every, [this] { heartbeat(); });
    for (auto& [key, state] : keys) {
      run_script({procs_key(key), "heartbeat", options.process_id, std::to_string(options.process_ttl.count())},
                 [this, key](Result<redis::RedisValue> reply) {
                   if (!reply.ok()) {
                     enter_degraded(reply.error().message);
                     return;
                   }
                   keys[key].live = std::max<long long>(1, reply.value().integer);
                   leave_degraded();
                 });
    }
  }
};

RedisRateLimiter::RedisRateLimiter(EventLoop& loop, Clock& clock, redis::RedisClient& client,
                                   RedisLimiterOptions options)
    : impl_(std::make_unique<Impl>(loop, clock, client, std::move(options))) {
  impl_->heartbeat_timer = loop.add_timer(std::chrono::milliseconds(0), [this] { impl_->heartbeat(); });
}

RedisRateLimiter::~RedisRateLimiter() { impl_->loop.cancel_timer(impl_->heartbeat_timer); }

void RedisRateLimiter::set_limits(const std::string& key, Limits limits) {
  KeyState& state = impl_->keys[key];
  state.limits = limits;
  if (impl_->local) {
    impl_->local->set_limits(key, {share_of(limits.rpm, state.live), share_of(limits.tpm, state.live), limits.burst});
  }
}

void RedisRateLimiter::acquire(const std::string& key, std::int64_t tokens, AdmissionCallback callback) {
  KeyState& state = impl_->keys[key];
  state.waiting.push_back(Waiter{std::max<std::int64_t>(tokens, 0), std::move(callback)});
  impl_->serve_queue(key);
}

void RedisRateLimiter::reconcile(const std::string& key, std::int64_t reserved, std::int64_t actual) {
  std::int64_t unused = reserved - actual;
  if (unused == 0 || impl_->keys[key].limits.tpm <= 0) return;
  if (impl_->local) {
    impl_->local->reconcile(key, reserved, actual);
    return;
  }
  impl_->run_script(impl_->bucket_args(key, "reconcile", unused), [this](Result<redis::RedisValue> reply) {
    if (!reply.ok()) impl_->enter_degraded(reply.error().message);
  });
}

void RedisRateLimiter::hold_off(const std::string& key, std::chrono::milliseconds wait) {
  KeyState& state = impl_->keys[key];
  auto until = impl_->clock.now() + wait;
  if (!state.not_before || *state.not_before < until) state.not_before = until;
  if (impl_->local) {
    impl_->local->hold_off(key, wait);
    return;
  }
  // Tell every other process too; this one already holds back on its own copy.
  impl_->run_script(impl_->bucket_args(key, "hold", wait.count()), [this](Result<redis::RedisValue> reply) {
    if (!reply.ok()) impl_->enter_degraded(reply.error().message);
  });
}

bool RedisRateLimiter::degraded() const { return impl_->local.has_value(); }

std::int64_t RedisRateLimiter::live_processes(const std::string& key) const {
  auto it = impl_->keys.find(key);
  return it == impl_->keys.end() ? 1 : it->second.live;
}

}  // namespace llmeval::resilience
