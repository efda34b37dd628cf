// make_batch_api: the BatchApi of a provider's type.
//
// Azure OpenAI has none yet: its batch API is OpenAI's under the resource's /openai/v1 path (or
// /openai/... with api-version), but its input lines name the deployment as the model, and the
// Azure provider does not write batch lines (Provider::batch_request is empty for it), so there
// would be nothing to submit. The sim judge has nothing to batch.
#include "core/batch/batch_api.h"

#include "core/batch/anthropic_batch_api.h"
#include "core/batch/openai_batch_api.h"

namespace llmeval::batch {

std::unique_ptr<BatchApi> make_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config) {
  switch (config.type) {
    case provider::ProviderType::kOpenAI: return make_openai_batch_api(http, config);
    case provider::ProviderType::kAnthropic: return make_anthropic_batch_api(http, config);
    case provider::ProviderType::kAzure:
    case provider::ProviderType::kSim: return nullptr;
  }
  return nullptr;
}

}  // namespace llmeval::batch
