// ShardMerge: combines the result files of a sharded run (`llmeval run --shard I/N`, one part per
// shard) into one results file in dataset line order (`llmeval merge`).
//
// Reading the parts builds an index of 24 bytes per row (line, id fingerprint, where its bytes
// are); writing copies each row's bytes, unchanged, from its part. Before anything is written,
// the parts are checked, and each problem is reported in words a person can act on:
//   - overlap: a line recorded twice (the same shard given twice, or shards of different counts);
//   - shard counts: parts whose lines follow different strides (1 in 2 and 1 in 3 lines);
//   - missing rows: lines 1..last with no result (a shard not finished or not given); without
//     the dataset the lines after the last recorded one cannot be counted;
//   - a torn last line (a pod killed mid-write and not resumed);
//   - with the dataset: a line whose id differs from the dataset's (another dataset), and the
//     dataset's last lines.
// Problems that make the result wrong (overlap, torn or corrupt lines, other datasets, mixed
// shard counts) always refuse; missing rows refuse unless `allow_partial`. Nothing here throws:
// a file that cannot be read or written is an Error. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/output/summary.h"

namespace llmeval::output {

struct MergeOptions {
  std::optional<std::string> dataset;  // the dataset (a path or an http(s) URL), to check ids and the end
  bool allow_partial = false;          // write what there is and report the missing lines
};

struct MergeReport {
  std::vector<std::string> problems;      // refusals: nothing may be written
  std::vector<std::int64_t> missing;      // lines with no result (first kMaxListed)
  std::int64_t missing_count = 0;
  std::int64_t rows = 0;                  // rows the merged file holds
  std::int64_t last_line = 0;             // the dataset's last line, or the last one recorded
  bool end_checked = false;               // the dataset was read, so missing tail lines count
};

class ShardMerge {
 public:
  static constexpr std::size_t kMaxListed = 20;

  ShardMerge(std::vector<std::string> parts, MergeOptions options);
  ~ShardMerge();
  ShardMerge(const ShardMerge&) = delete;
  ShardMerge& operator=(const ShardMerge&) = delete;

  // Reads and checks the parts (and the dataset) and says what is wrong with them. An Error
  // (kIo) only when a file cannot be read at all.
  Result<MergeReport> check();
  // Writes the rows in line order to `path` (replaced atomically) and folds them into
  // `summary`. Call after check() found no problems. On an Error nothing is left at `path` or
  // next to it; its kind says where it failed:
  //   kBadRequest  the merged file cannot be created next to `path` (nothing was written);
  //   kParse       a part cannot be opened or read again as check() read it (it changed);
  //   kIo          writing, flushing or renaming the merged file failed midway.
  Result<Ok> write(const std::string& path, Summary& summary);

 private:
  struct Entry {
    std::int64_t line;
    std::uint64_t id;
    std::uint32_t part;
    std::uint32_t length;
    std::uint64_t offset;
  };
  Result<Ok> index_part(std::uint32_t part);
  void check_strides();
  void check_overlap_and_gaps();
  Result<Ok> check_dataset();

  std::vector<std::string> parts_;
  MergeOptions options_;
  std::vector<Entry> entries_;
  std::vector<std::int64_t> strides_;  // per part: gcd of its line gaps (0: fewer than 2 rows)
  MergeReport report_;
};

}  // namespace llmeval::output
