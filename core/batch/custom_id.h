// CallKey and custom_id: a batch API returns results out of order, each tagged with the
// custom_id its request was submitted under. The id names the judge call exactly — dataset
// line, criterion, sample (--repeat), juror (--jury) and order (pairwise) — so a result maps
// back to its call whatever order it returns in, and whichever process collects it.
//
// The text is "l<line>c<criterion>s<sample>j<juror>o<order>", e.g. "l17c0s0j0o1": letters and
// digits only, at most 5 + 19 + 4 * 10 = 64 characters, which meets both APIs' rules: Anthropic's
// custom_id pattern ^[a-zA-Z0-9_-]{1,64}$ (platform.claude.com API reference, "Create a Message
// Batch", requests[].custom_id) and OpenAI's unique custom_id per input line. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmeval::batch {

struct CallKey {
  std::int64_t line = 0;        // 1-based dataset line
  std::uint32_t criterion = 0;  // index in the row's criteria
  std::uint32_t sample = 0;     // --repeat sample
  std::uint32_t juror = 0;      // --jury juror (chain index); 0 without a jury
  std::uint32_t order = 0;      // pairwise: 0 output_a shown first, 1 output_b; else 0

  bool operator==(const CallKey&) const = default;
  auto operator<=>(const CallKey&) const = default;
};

std::string to_custom_id(const CallKey& key);

// The key a custom_id names; nullopt for any other text (another tool's id, a cut id, a number
// that does not fit), so a foreign result is never taken for one of ours.
std::optional<CallKey> parse_custom_id(std::string_view text);

}  // namespace llmeval::batch
