// make_batch_api: the BatchApi of a provider's type.
//
// Azure OpenAI's is OpenAI's client at Azure's dated URLs (openai_batch_api.h says which), fed
// with lines that name the global-batch deployment as the model. The sim judge has nothing to
// batch.
#include "core/batch/batch_api.h"

#include "core/batch/anthropic_batch_api.h"
#include "core/batch/openai_batch_api.h"

namespace llmeval::batch {

std::unique_ptr<BatchApi> make_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config) {
  switch (config.type) {
    case provider::ProviderType::kOpenAI: return make_openai_batch_api(http, config);
    case provider::ProviderType::kAnthropic: return make_anthropic_batch_api(http, config);
    case provider::ProviderType::kAzure: return make_azure_batch_api(http, config);
    case provider::ProviderType::kSim: return nullptr;
  }
  return nullptr;
}

}  // namespace llmeval::batch
