// ProbeLease: bounds the half-open probes to a provider across every process, not only within
// one. A CircuitBreaker lets its own process send a few probes when half-open; with N processes
// that would be N times as many calls to a provider that may still be down. Before a probe goes
// out, the runner takes a lease; the holder releases it when the probe's answer is in (or it
// expires after `ttl`, should the holder die).
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace llmeval::resilience {

// Identifies one granted lease, for release().
using LeaseId = std::string;

class ProbeLease {
 public:
  virtual ~ProbeLease() = default;
  // Calls done with a lease id when a probe to `key` may go, or with an empty id when the
  // cluster-wide limit of probes is taken. Runs on the loop thread, possibly later.
  virtual void acquire(const std::string& key, std::chrono::milliseconds ttl,
                       std::function<void(LeaseId)> done) = 0;
  virtual void release(const std::string& key, const LeaseId& lease) = 0;
};

}  // namespace llmeval::resilience
