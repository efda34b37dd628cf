// The values of flags that are durations or sizes, parsed in one place with one message each,
// so every flag treats zero and bad units the same way. Bad values throw FatalError (exit 2)
// naming the flag.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace llmeval::cli {

// Whether 0 means something for this flag (--grace 0: do not wait) or is a mistake (--timeout 0).
enum class ZeroDuration { kAllowed, kRefused };

// "5s", "800ms", "2m", "1.5s"; a bare number is milliseconds (core/common/duration.h).
std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text, ZeroDuration zero);

// "8MiB", "512KiB", "64k", "1048576": binary multiples; more than zero.
std::size_t size_flag(const std::string& flag, const std::string& text);

}  // namespace llmeval::cli
