// What one batch may hold, per API, from the vendors' references:
// - OpenAI Batch API (and Azure OpenAI's): the input file "can contain up to 50,000 requests,
//   and can be up to 200 MB in size" (POST /v1/batches, input_file_id; quoted in the
//   openai-compatible SDKs' docstrings and Azure's REST reference for /openai/v1/batches).
// - Anthropic Message Batches: "limited to either 100,000 Message requests or 256 MB in size,
//   whichever is reached first" (platform.claude.com, Batch processing, Batch limitations;
//   the API reference gives requests maxItems 100000).
// "MB" is taken as 10^6 bytes, the smaller reading. BatchPacker fills batches to a share of
// these, leaving room for the payload's own envelope.
#pragma once

#include <cstddef>
#include <cstdint>

namespace llmeval::batch {

enum class ApiKind { kOpenAi, kAnthropic };

struct BatchLimits {
  std::size_t max_requests;
  std::uint64_t max_bytes;  // of the submitted payload: the JSONL file, or the JSON body
};

constexpr BatchLimits limits_of(ApiKind api) {
  return api == ApiKind::kOpenAi ? BatchLimits{50'000, 200ull * 1000 * 1000}
                                 : BatchLimits{100'000, 256ull * 1000 * 1000};
}

}  // namespace llmeval::batch
