// The offline `sim` judge for dry runs: deterministic, no network. It answers every request
// with a JSON verdict in the requested score range, derived from the conversation text (word
// overlap between output and reference when the prompt carries a reference, else a stable hash),
// and marks every response simulated so results say so. Answers through loop.post(), never
// inside complete(). `loop` must outlive the provider.
#pragma once

#include <memory>

#include "core/common/event_loop.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"

namespace llmeval::provider {

std::unique_ptr<Provider> make_sim_provider(EventLoop& loop, ProviderConfig config);

}  // namespace llmeval::provider
