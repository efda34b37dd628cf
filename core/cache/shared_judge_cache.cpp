#include "core/cache/shared_judge_cache.h"

#include <utility>

#include "core/common/logging.h"

namespace llmeval::cache {

SharedJudgeCache::SharedJudgeCache(redis::RedisClient& redis, std::string prefix, std::chrono::seconds ttl,
                                   JudgeCache* local)
    : redis_(redis), prefix_(std::move(prefix) + "cache:"), ttl_(ttl), local_(local) {}

void SharedJudgeCache::degraded(const Error& error) {
  auto level = warned_ ? spdlog::level::debug : spdlog::level::warn;
  warned_ = true;
  logger("cache")->log(level, "the shared judge cache in Redis is unavailable ({}); using this machine's cache only",
                       error.message);
}

void SharedJudgeCache::lookup(const std::string& key, LookupCallback done) {
  auto ask_redis = [this, key, done = std::move(done)](std::optional<CachedVerdict> near) mutable {
    if (near) {
      done(std::move(near));
      return;
    }
    redis_.command({"GET", prefix_ + key}, [this, token = std::weak_ptr<char>(alive_), key,
                                            done = std::move(done)](Result<redis::RedisValue> reply) {
      if (token.expired()) return;
      if (!reply.ok()) {
        degraded(reply.error());
        done(std::nullopt);
        return;
      }
      if (reply.value().type != redis::RedisValue::Type::kString) {
        done(std::nullopt);
        return;
      }
      std::optional<CachedVerdict> far = parse_cached_verdict(reply.value().text);
      if (far && local_ != nullptr) local_->store(key, *far);
      done(std::move(far));
    });
  };
  if (local_ != nullptr) {
    local_->lookup(key, std::move(ask_redis));
  } else {
    ask_redis(std::nullopt);
  }
}

void SharedJudgeCache::store(const std::string& key, const CachedVerdict& verdict) {
  if (local_ != nullptr) local_->store(key, verdict);
  ++pending_writes_;
  redis_.command({"SET", prefix_ + key, serialize(verdict), "EX", std::to_string(ttl_.count())},
                 [this, token = std::weak_ptr<char>(alive_)](Result<redis::RedisValue> reply) {
                   if (token.expired()) return;
                   if (!reply.ok()) degraded(reply.error());
                   if (--pending_writes_ == 0 && flushed_) std::exchange(flushed_, nullptr)();
                 });
}

void SharedJudgeCache::when_flushed(std::function<void()> done) {
  if (pending_writes_ == 0) {
    done();
    return;
  }
  flushed_ = std::move(done);
}

}  // namespace llmeval::cache
