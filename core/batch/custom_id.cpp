#include "core/batch/custom_id.h"

#include <charconv>
#include <limits>

namespace llmeval::batch {
namespace {

// Reads `tag` then a decimal number of at most `max`, no sign, no leading zeros (one canonical
// text per key); advances `text`.
template <typename T>
bool take(std::string_view& text, char tag, T& out) {
  if (text.empty() || text.front() != tag) return false;
  text.remove_prefix(1);
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin == end || *begin < '0' || *begin > '9') return false;
  if (*begin == '0' && end - begin > 1 && begin[1] >= '0' && begin[1] <= '9') return false;
  auto [stop, error] = std::from_chars(begin, end, out);
  if (error != std::errc()) return false;
  text.remove_prefix(static_cast<std::size_t>(stop - begin));
  return true;
}

}  // namespace

std::string to_custom_id(const CallKey& key) {
  return "l" + std::to_string(key.line) + "c" + std::to_string(key.criterion) + "s" + std::to_string(key.sample) + "j" +
         std::to_string(key.juror) + "o" + std::to_string(key.order);
}

std::optional<CallKey> parse_custom_id(std::string_view text) {
  CallKey key;
  if (!take(text, 'l', key.line) || key.line < 1) return std::nullopt;
  if (!take(text, 'c', key.criterion) || !take(text, 's', key.sample) || !take(text, 'j', key.juror) ||
      !take(text, 'o', key.order) || !text.empty()) {
    return std::nullopt;
  }
  return key;
}

}  // namespace llmeval::batch
