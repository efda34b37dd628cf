// IdSet: the row ids a dataset has used so far, and the line that used each first, for the
// reader's duplicate-id check. Ids are not kept, only a 64-bit hash of each (FNV-1a over a type
// tag and the id's canonical text) and its first line, in one open-addressing table (linear
// probing, doubled at 80% load): 12 bytes a slot, 15 to 30 bytes per id, so ten million ids
// take about 200 MB where a set of the id strings would take several times that.
//
// The price is a false positive when two different ids hash alike: with n ids the chance that
// any two collide is about n²/2^65 (one in 37 million for a million ids, one in 370,000 for ten
// million). A collision makes the later row a `duplicate_id` row whose message names an id it
// does not actually share; no row is ever judged twice or lost.
//
// Canonical text: a string id is its bytes, a number its integer value when it is integral
// ("id": 5 and "id": 5.0 are the same id), else its JSON text. The string "5" and the number 5
// are different ids. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmeval::dataset {

class IdSet {
 public:
  // Records `id` (a string or a number) as first used on `line`, or, when an equal id was
  // recorded before, returns the line that recorded it and changes nothing. Lines beyond
  // 4294967295 are remembered as 0 ("an earlier line").
  std::optional<std::int64_t> insert(const nlohmann::json& id, std::int64_t line);

  std::size_t size() const { return size_; }

 private:
  void grow();
  void place(std::uint64_t hash, std::uint32_t line);

  std::vector<std::uint64_t> hashes_;  // 0: empty slot (a real hash of 0 is stored as 1)
  std::vector<std::uint32_t> lines_;   // parallel to hashes_: 12 bytes a slot, not 16
  std::size_t size_ = 0;
};

}  // namespace llmeval::dataset
