// RedisAdaptationStore: provider param adaptations (core/provider/param_adaptation.h) shared
// through Redis, so that when one process learns that a model refuses a parameter, the others
// leave it out from their first call. One set per provider identity,
// `<prefix>adapt:<type>|<base_url>|<model>`, holding adaptation keys; it expires a day after
// its last change, so a model that later accepts the parameter gets it again. A failing Redis
// loads nothing: each process then pays its own refused call, as without Redis.
// `client` must outlive the store. Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "core/provider/adaptation_store.h"
#include "core/redis/redis_client.h"

namespace llmeval::resilience {

class RedisAdaptationStore final : public provider::AdaptationStore {
 public:
  RedisAdaptationStore(redis::RedisClient& client, std::string prefix);

  void load(const std::string& provider_key, std::function<void(std::vector<std::string>)> done) override;
  void save(const std::string& provider_key, const std::string& adaptation_key) override;

 private:
  std::string key_of(const std::string& provider_key) const { return prefix_ + "adapt:" + provider_key; }

  redis::RedisClient& client_;
  std::string prefix_;
};

}  // namespace llmeval::resilience
