#include "core/resilience/local_rate_limiter.h"

#include <algorithm>
#include <utility>

namespace llmeval::resilience {
namespace {

// A bucket for a per-minute limit, or none for 0 (unlimited). A new one starts empty.
void reset_bucket(std::optional<TokenBucket>& bucket, std::int64_t per_minute, std::chrono::milliseconds burst,
                  Clock::TimePoint now) {
  if (per_minute <= 0) {
    bucket.reset();
  } else {
    bucket.emplace(shape_for(per_minute, burst), 0.0, now);
  }
}

}  // namespace

// Keeps the buckets, and so their levels, when the limits did not change.
void LocalRateLimiter::set_limits(const std::string& key, Limits limits) {
  auto now = clock_.now();
  Buckets& buckets = buckets_[key];
  bool reshaped = buckets.limits.burst != limits.burst;
  if (buckets.limits.rpm != limits.rpm || reshaped || !buckets.requests) {
    reset_bucket(buckets.requests, limits.rpm, limits.burst, now);
  }
  if (buckets.limits.tpm != limits.tpm || reshaped || !buckets.tokens) {
    reset_bucket(buckets.tokens, limits.tpm, limits.burst, now);
  }
  buckets.limits = limits;
}

// One request and `tokens` tokens, all or nothing: when either bucket refuses, whatever the
// other took goes back, and the answer is the longer of the two waits (asking sooner could only
// be refused again).
void LocalRateLimiter::acquire(const std::string& key, std::int64_t tokens, AdmissionCallback callback) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {  // no limits configured for this key: unlimited
    callback(Admission{true, {}});
    return;
  }
  auto now = clock_.now();
  Buckets& buckets = it->second;
  if (buckets.not_before && now < *buckets.not_before) {
    callback(Admission{false, std::chrono::ceil<std::chrono::milliseconds>(*buckets.not_before - now)});
    return;
  }
  double wanted = static_cast<double>(std::max<std::int64_t>(tokens, 0));
  std::chrono::milliseconds request_wait{0};
  std::chrono::milliseconds token_wait{0};
  if (buckets.requests) request_wait = buckets.requests->take(1, now);
  if (buckets.tokens) token_wait = buckets.tokens->take(wanted, now);
  if (request_wait.count() == 0 && token_wait.count() == 0) {
    callback(Admission{true, {}});
    return;
  }
  if (buckets.requests && request_wait.count() == 0) buckets.requests->give_back(1, now);
  if (buckets.tokens && token_wait.count() == 0) buckets.tokens->give_back(wanted, now);
  callback(Admission{false, std::max(request_wait, token_wait)});
}

// acquire() took the whole reservation; give back what was not used, or take the excess
// (which may leave the bucket in debt, delaying later requests).
void LocalRateLimiter::reconcile(const std::string& key, std::int64_t reserved, std::int64_t actual) {
  auto it = buckets_.find(key);
  if (it == buckets_.end() || !it->second.tokens) return;
  TokenBucket& bucket = *it->second.tokens;
  double taken = static_cast<double>(std::max<std::int64_t>(reserved, 0));
  double used = static_cast<double>(std::max<std::int64_t>(actual, 0));
  bucket.give_back(taken - used, clock_.now());
}

void LocalRateLimiter::hold_off(const std::string& key, std::chrono::milliseconds wait) {
  auto until = clock_.now() + wait;
  auto& not_before = buckets_[key].not_before;  // a key without limits still gets held off
  if (!not_before || *not_before < until) not_before = until;
}

}  // namespace llmeval::resilience
