// JudgeCache: verdicts already paid for, by a key that hashes everything that determines the
// judge's answer (cache_key.h). A hit is the verdict with the usage and latency of the call that
// produced it; it is returned without touching the rate limiter or the provider. Only valid
// verdicts are stored, never errors or unparseable replies.
//
// Implementations: LocalJudgeCache (SQLite on this machine, local_judge_cache.h) and
// SharedJudgeCache (Redis in front of the local one, shared_judge_cache.h). Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/common/error.h"
#include "core/provider/provider.h"

namespace llmeval::cache {

struct CachedVerdict {
  double score = 0;  // in the criterion's scale
  std::string reason;
  std::string model;  // the model that answered, as the API reported it
  provider::TokenUsage tokens;  // what the original call used
  std::int64_t latency_ms = 0;  // of the original call
};

// The stored form: one JSON object. parse_cached_verdict refuses anything else (an entry
// written by another version, a damaged value), which then counts as a miss.
std::string serialize(const CachedVerdict& verdict);
std::optional<CachedVerdict> parse_cached_verdict(std::string_view text);

// --cache-mode: what a run does with the cache.
enum class CacheMode { kOff, kRead, kWrite, kReadWrite };
bool reads(CacheMode mode);
bool writes(CacheMode mode);
// "off", "read", "write", "readwrite"; nullopt for anything else.
std::optional<CacheMode> parse_cache_mode(std::string_view text);

using LookupCallback = std::function<void(std::optional<CachedVerdict>)>;

class JudgeCache {
 public:
  virtual ~JudgeCache() = default;
  // Calls `done` with the entry, or nullopt on a miss (or when the store cannot answer: a cache
  // is never a reason to fail a call). May call `done` before returning.
  virtual void lookup(const std::string& key, LookupCallback done) = 0;
  virtual void store(const std::string& key, const CachedVerdict& verdict) = 0;
};

}  // namespace llmeval::cache
