// The built-in price table: dollars per million tokens for the current judge models of OpenAI
// and Anthropic, from core/provider/prices.json (dated; its sources are named in the file),
// compiled into the binary. A provider's own `price` in the config overrides it; a model the
// table does not list has no price, so its cost is unknown, never $0 (docs/cost.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/provider/provider_config.h"

namespace llmeval::provider {

struct TablePrice {
  Price price;         // standard (online) prices
  std::string model;   // the table's entry, e.g. "gpt-4o" for "gpt-4o-2024-08-06"
  std::string vendor;  // "openai" or "anthropic"
};

// The table's price for an API model id, any case. A dated snapshot ("gpt-4o-2024-08-06",
// "claude-sonnet-4-5-20250929"), a "-latest" alias or Anthropic's "-0" ("claude-sonnet-4-0")
// takes its model's price; a longer name does not ("gpt-4o-mini" is not "gpt-4o").
std::optional<TablePrice> table_price(std::string_view model);

// The date the table's prices were taken, "YYYY-MM-DD".
const std::string& price_table_date();

// A provider's price: its config's, else the table's for its model (OpenAI and Azure models,
// Anthropic models; the offline sim has none). Fills config.price and config.price_source.
void apply_table_price(ProviderConfig& config);

}  // namespace llmeval::provider
