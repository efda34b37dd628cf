// AdaptationStore: where a provider's run-time adaptations (param_adaptation.h) are shared
// between processes, so that only the first process to meet a refusal pays the refused call.
// Keyed by the provider's identity (API, URL, model or deployment), not its config name.
// Implemented over Redis in core/resilience/redis_adaptation_store.h. Loop thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace llmeval::provider {

class AdaptationStore {
 public:
  virtual ~AdaptationStore() = default;
  // The adaptation keys recorded for `provider_key`; an empty list when there are none or the
  // store cannot be reached. `done` runs on the loop thread, later or at once.
  virtual void load(const std::string& provider_key, std::function<void(std::vector<std::string>)> done) = 0;
  // Records one key; failures are ignored (another process then pays its own refused call).
  virtual void save(const std::string& provider_key, const std::string& adaptation_key) = 0;
};

}  // namespace llmeval::provider
