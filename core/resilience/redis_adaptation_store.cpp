#include "core/resilience/redis_adaptation_store.h"

#include <utility>

namespace llmeval::resilience {
namespace {

constexpr const char* kTtlSeconds = "86400";

}  // namespace

RedisAdaptationStore::RedisAdaptationStore(redis::RedisClient& client, std::string prefix)
    : client_(client), prefix_(std::move(prefix)) {}

void RedisAdaptationStore::load(const std::string& provider_key,
                                std::function<void(std::vector<std::string>)> done) {
  client_.command({"SMEMBERS", key_of(provider_key)}, [done = std::move(done)](Result<redis::RedisValue> reply) {
    std::vector<std::string> keys;
    if (reply.ok() && reply.value().type == redis::RedisValue::Type::kArray) {
      for (const auto& element : reply.value().elements) {
        if (element.type == redis::RedisValue::Type::kString) keys.push_back(element.text);
      }
    }
    done(std::move(keys));
  });
}

void RedisAdaptationStore::save(const std::string& provider_key, const std::string& adaptation_key) {
  std::string key = key_of(provider_key);
  client_.command({"SADD", key, adaptation_key}, [](Result<redis::RedisValue>) {});
  client_.command({"EXPIRE", key, kTtlSeconds}, [](Result<redis::RedisValue>) {});
}

}  // namespace llmeval::resilience
