#include "core/dataset/id_set.h"

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace llmeval::dataset {
namespace {

constexpr std::size_t kInitialSlots = 1024;

// FNV-1a, 64-bit, continued from `hash`.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t hash = 14695981039346656037ULL) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// splitmix64's finalizer: FNV-1a's low bits are weak for short keys, and the table indexes by
// the low bits.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The type tag keeps the string "5" apart from the number 5.
std::uint64_t hash_id(const nlohmann::json& id) {
  if (id.is_string()) return mix(fnv1a(id.get_ref<const std::string&>(), fnv1a("s")));
  std::string text;
  if (id.is_number_integer()) {
    text = std::to_string(id.get<std::int64_t>());
  } else if (id.is_number_unsigned()) {
    text = std::to_string(id.get<std::uint64_t>());
  } else if (id.is_number_float()) {
    const double value = id.get<double>();
    constexpr double kLimit = 9007199254740992.0;  // 2^53: every integer below is exact
    text = std::trunc(value) == value && std::fabs(value) < kLimit ? std::to_string(static_cast<std::int64_t>(value))
                                                                   : id.dump();
  } else {
    text = id.dump();
  }
  return mix(fnv1a(text, fnv1a("n")));
}

}  // namespace

std::optional<std::int64_t> IdSet::insert(const nlohmann::json& id, std::int64_t line) {
  std::uint64_t hash = hash_id(id);
  if (hash == 0) hash = 1;
  if ((size_ + 1) * 5 > hashes_.size() * 4) grow();
  const std::size_t mask = hashes_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    if (hashes_[slot] == hash) return static_cast<std::int64_t>(lines_[slot]);
    if (hashes_[slot] == 0) break;
  }
  const bool fits = line > 0 && line <= std::numeric_limits<std::uint32_t>::max();
  place(hash, fits ? static_cast<std::uint32_t>(line) : 0);
  ++size_;
  return std::nullopt;
}

void IdSet::grow() {
  std::vector<std::uint64_t> old_hashes(hashes_.empty() ? kInitialSlots : hashes_.size() * 2, 0);
  std::vector<std::uint32_t> old_lines(old_hashes.size(), 0);
  hashes_.swap(old_hashes);  // hashes_ is now the bigger, empty table
  lines_.swap(old_lines);
  for (std::size_t i = 0; i < old_hashes.size(); ++i) {
    if (old_hashes[i] != 0) place(old_hashes[i], old_lines[i]);
  }
}

void IdSet::place(std::uint64_t hash, std::uint32_t line) {
  const std::size_t mask = hashes_.size() - 1;
  std::size_t slot = hash & mask;
  while (hashes_[slot] != 0) slot = (slot + 1) & mask;
  hashes_[slot] = hash;
  lines_[slot] = line;
}

}  // namespace llmeval::dataset
