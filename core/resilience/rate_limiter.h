// RateLimiter: asks whether a request of `tokens` estimated tokens may go to provider `key` now.
//
// acquire() is asynchronous: the callback runs on the loop thread (possibly before acquire()
// returns) with an Admission, or with an Error when the limiter itself failed, which is distinct
// from "not admitted". A refused Admission carries how long to wait before asking again; the
// caller waits with a timer, never a sleep. Limiters that queue requests themselves (Redis)
// never refuse: they answer with a grant, possibly much later.
// reconcile() corrects a token reservation once the provider reports real usage.
// hold_off() makes everyone wait after a provider asked for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/common/error.h"

namespace llmeval::resilience {

struct Admission {
  bool granted = false;
  std::chrono::milliseconds retry_after{0};  // when !granted: ask again after this long
  bool waited = false;  // granted after the limiter itself held the request back (queued limiters)
};

using AdmissionCallback = std::function<void(Result<Admission>)>;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual void acquire(const std::string& key, std::int64_t tokens, AdmissionCallback callback) = 0;
  virtual void reconcile(const std::string& key, std::int64_t reserved, std::int64_t actual) = 0;
  // The provider said "come back in `wait`" (a 429's Retry-After): refuse every acquire for
  // `key` until then, not only the call that was told. A shorter hold never shortens a longer one.
  virtual void hold_off(const std::string& key, std::chrono::milliseconds wait) = 0;
};

}  // namespace llmeval::resilience
