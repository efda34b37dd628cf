#include "core/batch/batch_packer.h"

#include <algorithm>

namespace llmeval::batch {

BatchPacker::BatchPacker(BatchLimits limits, double fill)
    : max_requests_(
          std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(limits.max_requests) * fill))),
      max_bytes_(static_cast<std::uint64_t>(static_cast<double>(limits.max_bytes) * fill)) {}

BatchPacker::Placement BatchPacker::place(std::uint64_t bytes) {
  if (bytes > max_bytes_) return Placement::kTooLarge;
  Placement placement = Placement::kOpen;
  if (requests_ > 0 && (requests_ + 1 > max_requests_ || bytes_ + bytes > max_bytes_)) {
    placement = Placement::kNew;
    reset();
  }
  ++requests_;
  bytes_ += bytes;
  return placement;
}

bool BatchPacker::fits(std::size_t requests, std::uint64_t bytes) const {
  if (requests_ == 0) return bytes <= max_bytes_;
  return requests_ + requests <= max_requests_ && bytes_ + bytes <= max_bytes_;
}

void BatchPacker::add(std::size_t requests, std::uint64_t bytes) {
  requests_ += requests;
  bytes_ += bytes;
}

void BatchPacker::reset() {
  requests_ = 0;
  bytes_ = 0;
}

}  // namespace llmeval::batch
