#include "cli/flag_values.h"

#include <charconv>
#include <system_error>

#include "cli/fatal_error.h"
#include "core/common/duration.h"

namespace llmeval::cli {

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text, ZeroDuration zero) {
  auto value = parse_duration(text);
  if (!value || (zero == ZeroDuration::kRefused && value->count() == 0)) {
    throw FatalError(flag + " " + text + ": expected a duration like 30s or 500ms" +
                     (zero == ZeroDuration::kRefused ? ", more than zero" : ""));
  }
  return *value;
}

std::size_t size_flag(const std::string& flag, const std::string& text) {
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string suffix(end, text.data() + text.size());
  int shift = -1;
  if (suffix.empty() || suffix == "B") shift = 0;
  if (suffix == "k" || suffix == "K" || suffix == "KiB") shift = 10;
  if (suffix == "M" || suffix == "MiB") shift = 20;
  if (suffix == "G" || suffix == "GiB") shift = 30;
  if (ec != std::errc() || shift < 0 || value == 0 || value > (std::size_t{1} << (62 - shift))) {
    throw FatalError(flag + " " + text + ": expected a size like 8MiB, 512KiB or 1048576 (bytes)");
  }
  return value << shift;
}

}  // namespace llmeval::cli
