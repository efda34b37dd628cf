#include "core/provider/price_table.h"

#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/ascii.h"

namespace llmeval::provider {

// Generated at build time from core/provider/prices.json (embed_prices.cmake).
extern const std::string_view kPriceTableJson;

namespace {

struct Table {
  std::string date;
  std::vector<TablePrice> entries;
};

// The file is part of the build and checked by tests/provider/price_table_test.cpp, so a bad
// edit fails the tests; here a malformed entry is only skipped.
Table load() {
  Table table;
  nlohmann::json file = nlohmann::json::parse(kPriceTableJson, nullptr, false);
  if (!file.is_object()) return table;
  table.date = file.value("date", "");
  for (const auto& entry : file.value("models", nlohmann::json::array())) {
    if (!entry.is_object() || !entry.contains("input") || !entry.contains("output")) continue;
    TablePrice row;
    row.model = ascii_lower(entry.value("model", ""));
    row.vendor = entry.value("vendor", "");
    row.price.input_per_mtok = entry.value("input", 0.0);
    row.price.output_per_mtok = entry.value("output", 0.0);
    if (entry.contains("cached_input")) row.price.cached_input_per_mtok = entry.value("cached_input", 0.0);
    if (entry.contains("cache_write")) row.price.cache_write_per_mtok = entry.value("cache_write", 0.0);
    table.entries.push_back(std::move(row));
  }
  return table;
}

const Table& table() {
  static const Table loaded = load();
  return loaded;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "-2024-08-06", "-20250929", "-latest" or "-0" (Anthropic's "claude-sonnet-4-0"): names of
// the same model.
bool is_snapshot_suffix(std::string_view rest) {
  if (rest == "-latest" || rest == "-0") return true;
  if (rest.size() < 5 || rest[0] != '-' || !is_digit(rest[1])) return false;
  std::size_t digits = 0;
  for (char c : rest.substr(1)) {
    if (is_digit(c)) {
      ++digits;
    } else if (c != '-') {
      return false;
    }
  }
  return digits == 8;
}

}  // namespace

std::optional<TablePrice> table_price(std::string_view model) {
  std::string wanted = ascii_lower(model);
  for (const auto& row : table().entries) {
    if (wanted == row.model) return row;
    if (wanted.size() > row.model.size() && wanted.compare(0, row.model.size(), row.model) == 0 &&
        is_snapshot_suffix(std::string_view(wanted).substr(row.model.size()))) {
      return row;
    }
  }
  return std::nullopt;
}

const std::string& price_table_date() { return table().date; }

void apply_table_price(ProviderConfig& config) {
  if (config.price) {
    config.price_source = "config";
    return;
  }
  if (config.type == ProviderType::kSim) return;
  if (auto row = table_price(config.model)) {
    config.price = row->price;
    config.price_source = "table " + price_table_date();
  }
}

}  // namespace llmeval::provider
