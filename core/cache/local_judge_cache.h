// LocalJudgeCache: the judge cache on this machine, one SQLite file (by default
// $XDG_CACHE_HOME/llmeval/judge-cache.sqlite3, else ~/.cache/llmeval/).
//
// Several processes use one file at once: SQLite in WAL mode lets readers go on while one
// writer commits, and every write is one short transaction. A writer that finds the file locked
// retries for up to `lock_wait` (sleeping 100 µs at a time), then drops its entry (a cache may
// lose an entry, never stop a run). With synchronous=NORMAL a commit is written to the WAL
// without an fsync, so `kill -9` at any moment loses nothing that was committed and leaves the
// file consistent; only a power cut can drop the last commits, never corrupt the file.
//
// Bounded: entries expire `ttl` after they were written (expired ones are never returned), and
// when the live data passes `max_bytes`, expired entries and then the oldest tenth are deleted
// (checked at open and every 256 writes). SQLite reuses the freed pages, so the file stays near
// the bound. Lookups and writes are synchronous (a lookup is a B-tree probe in pages the OS
// keeps cached: tests/bench/judge_cache.py measures them). Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/cache/judge_cache.h"
#include "core/common/error.h"

namespace llmeval::cache {

struct LocalCacheOptions {
  std::string path;  // the SQLite file; its directory is created (0700) when missing
  std::int64_t max_bytes = std::int64_t{1024} * 1024 * 1024;
  std::chrono::seconds ttl = std::chrono::hours(24 * 30);
  std::chrono::milliseconds lock_wait{100};
  // Seconds since the epoch (expiry must hold across runs and machines); tests move it.
  std::function<std::int64_t()> now_seconds;
};

struct LocalCacheStats {
  std::string path;
  std::int64_t entries = 0;       // live ones
  std::int64_t expired = 0;       // still in the file, never returned, deleted on the next sweep
  std::int64_t data_bytes = 0;    // pages in use
  std::int64_t file_bytes = 0;    // the database file, WAL not included
  std::int64_t oldest = 0;        // when the oldest live entry was written (epoch seconds; 0: none)
  std::int64_t newest = 0;
  std::int64_t dropped_writes = 0;  // this process: entries dropped because the file stayed locked
};

// $XDG_CACHE_HOME/llmeval/judge-cache.sqlite3, else $HOME/.cache/llmeval/judge-cache.sqlite3;
// empty when neither variable is set.
std::string default_cache_path();

class LocalJudgeCache final : public JudgeCache {
 public:
  // Opens (creating) the file. Errors name the path and say what SQLite said.
  static Result<std::unique_ptr<LocalJudgeCache>> open(LocalCacheOptions options);
  ~LocalJudgeCache() override;
  LocalJudgeCache(const LocalJudgeCache&) = delete;
  LocalJudgeCache& operator=(const LocalJudgeCache&) = delete;

  void lookup(const std::string& key, LookupCallback done) override;  // calls done before returning
  void store(const std::string& key, const CachedVerdict& verdict) override;
  std::optional<CachedVerdict> get(const std::string& key);

  Result<LocalCacheStats> stats();
  Result<std::int64_t> clear();  // deletes every entry; returns how many there were

 private:
  struct Impl;
  explicit LocalJudgeCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::cache
