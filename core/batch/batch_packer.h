// BatchPacker: decides where each judge request goes as the dataset streams — into the open
// batch, or into a new one because the next request would take the open one past a limit
// (requests or bytes; batch_limits.h). It only counts: the caller writes the requests (to a
// spool file, not memory) and submits a batch when it is sealed, so a million-row run holds
// one batch's counters, not a million requests. Pure; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/batch/batch_limits.h"

namespace llmeval::batch {

class BatchPacker {
 public:
  // fill: the share of each limit to use (below 1 leaves room for the payload's envelope and
  // for the vendor counting bytes a little differently).
  explicit BatchPacker(BatchLimits limits, double fill = 0.95);

  enum class Placement {
    kOpen,      // added to the open batch
    kNew,       // the open batch is full: seal it (submit it), then this request starts the next
    kTooLarge,  // no batch can hold this one request: judge it online instead
  };
  // Places a request whose line (or JSON element) is `bytes` long and counts it.
  Placement place(std::uint64_t bytes);

  // A row's calls go into one window together (batch_spooler.h): whether `requests` requests of
  // `bytes` in all fit into the open batch (an empty batch takes anything no larger than the
  // byte limit), and adding them.
  bool fits(std::size_t requests, std::uint64_t bytes) const;
  void add(std::size_t requests, std::uint64_t bytes);
  // --batch-size: at most n requests a batch (smaller batches finish sooner).
  void cap_requests(std::size_t n) { max_requests_ = std::max<std::size_t>(1, std::min(max_requests_, n)); }

  std::size_t requests() const { return requests_; }  // in the open batch
  std::uint64_t bytes() const { return bytes_; }
  std::size_t max_requests() const { return max_requests_; }
  std::uint64_t max_bytes() const { return max_bytes_; }
  // Empties the open batch (it was sealed early: the dataset ended, or the run stops).
  void reset();

 private:
  std::size_t max_requests_;
  std::uint64_t max_bytes_;
  std::size_t requests_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace llmeval::batch
