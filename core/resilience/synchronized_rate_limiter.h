// SynchronizedRateLimiter: one in-process limiter shared by several loop threads (`serve
// --threads N` without Redis), so the threads split one budget instead of each spending it all.
//
// The wrapped limiter must answer acquire() synchronously, as LocalRateLimiter does: the answer
// is taken under the mutex and the callback runs after it is released, on the calling thread,
// so a callback that calls the limiter again cannot deadlock. `inner` is borrowed.
#pragma once

#include <mutex>
#include <optional>
#include <stdexcept>

#include "core/resilience/rate_limiter.h"

namespace llmeval::resilience {

class SynchronizedRateLimiter final : public RateLimiter {
 public:
  explicit SynchronizedRateLimiter(RateLimiter& inner) : inner_(inner) {}

  void acquire(const std::string& key, std::int64_t tokens, AdmissionCallback callback) override {
    std::optional<Result<Admission>> answer;
    {
      std::lock_guard lock(mutex_);
      inner_.acquire(key, tokens, [&answer](Result<Admission> a) { answer.emplace(std::move(a)); });
    }
    if (!answer) throw std::logic_error("SynchronizedRateLimiter wraps a limiter that answers later");
    callback(std::move(*answer));
  }
  void reconcile(const std::string& key, std::int64_t reserved, std::int64_t actual) override {
    std::lock_guard lock(mutex_);
    inner_.reconcile(key, reserved, actual);
  }
  void hold_off(const std::string& key, std::chrono::milliseconds wait) override {
    std::lock_guard lock(mutex_);
    inner_.hold_off(key, wait);
  }

 private:
  RateLimiter& inner_;
  std::mutex mutex_;
};

}  // namespace llmeval::resilience
