// FatalError: a problem that ends the command before or instead of its work (bad flags, an
// unreadable dataset, a bad config), carrying the exit code main() returns (docs/formats.md §5).
// Only cli/ throws it, and main() catches it once; core/ reports problems as Result values,
// which or_exit turns into one.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "core/common/error.h"

namespace llmeval {

// Setup that cannot proceed. Carries the exit code main() returns (2 = usage/config).
class FatalError : public std::runtime_error {
 public:
  explicit FatalError(const std::string& message, int exit_code = 2)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

namespace cli {

// The value, or a FatalError with the error's message and `exit_code` (2: usage/config).
template <typename T>
T or_exit(Result<T> result, int exit_code = 2) {
  if (!result.ok()) throw FatalError(result.error().message, exit_code);
  return std::move(result).value();
}

}  // namespace cli
}  // namespace llmeval
