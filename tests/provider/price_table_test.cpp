// The built-in price table (core/provider/prices.json, compiled in): it parses, it is dated,
// every row is a usable price, and model names find their row and no other.
#include "core/provider/price_table.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"

using llmeval::provider::apply_table_price;
using llmeval::provider::Price;
using llmeval::provider::price_table_date;
using llmeval::provider::ProviderConfig;
using llmeval::provider::ProviderType;
using llmeval::provider::table_price;

TEST_CASE("price table: every row of prices.json is compiled in, dated and usable", "[price]") {
  std::ifstream file(llmeval::testing::source_dir() + "/core/provider/prices.json");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json table = nlohmann::json::parse(text.str());  // throws on a bad edit
  CHECK(std::regex_match(price_table_date(), std::regex(R"(\d{4}-\d{2}-\d{2})")));
  CHECK(table.at("date") == price_table_date());
  CHECK(table.at("sources").contains("openai"));
  CHECK(table.at("sources").contains("anthropic"));
  int openai = 0, anthropic = 0;
  for (const auto& row : table.at("models")) {
    INFO(row.dump());
    std::string model = row.at("model");
    auto price = table_price(model);
    REQUIRE(price);
    CHECK(price->model == model);  // found as itself, not as a shorter name
    CHECK(price->price.input_per_mtok > 0);
    CHECK(price->price.output_per_mtok >= price->price.input_per_mtok);
    CHECK(price->price.input_per_mtok == row.at("input").get<double>());
    CHECK(price->price.output_per_mtok == row.at("output").get<double>());
    if (row.contains("cached_input")) CHECK(*price->price.cached_input_per_mtok < price->price.input_per_mtok);
    (row.at("vendor") == "openai" ? openai : anthropic)++;
  }
  CHECK(openai >= 5);
  CHECK(anthropic >= 5);
}

TEST_CASE("price table: snapshots and aliases find their model, longer names do not", "[price]") {
  REQUIRE(table_price("gpt-4o"));
  CHECK(table_price("gpt-4o-2024-08-06")->model == "gpt-4o");
  CHECK(table_price("GPT-4o")->model == "gpt-4o");
  CHECK(table_price("gpt-4o-mini")->model == "gpt-4o-mini");
  CHECK(table_price("gpt-4o-mini")->price.input_per_mtok < table_price("gpt-4o")->price.input_per_mtok);
  CHECK(table_price("claude-sonnet-4-5-20250929")->model == "claude-sonnet-4-5");
  CHECK(table_price("claude-3-5-haiku-latest")->model == "claude-3-5-haiku");
  CHECK(table_price("claude-opus-4-1-20250805")->model == "claude-opus-4-1");  // not claude-opus-4
  CHECK(table_price("claude-sonnet-4-0")->model == "claude-sonnet-4");
  CHECK_FALSE(table_price("gpt-4o-turbo"));
  CHECK_FALSE(table_price("gpt-4o-2024"));
  CHECK_FALSE(table_price("my-finetune"));
  CHECK_FALSE(table_price(""));
}

TEST_CASE("price table: a config price wins, a listed model gets the table's, others and sim none", "[price]") {
  ProviderConfig configured;
  configured.type = ProviderType::kOpenAI;
  configured.model = "gpt-4o";
  configured.price = Price{9, 99};
  apply_table_price(configured);
  CHECK(configured.price->input_per_mtok == 9);
  CHECK(configured.price_source == "config");

  ProviderConfig listed;
  listed.type = ProviderType::kAzure;
  listed.model = "gpt-4o-mini";
  apply_table_price(listed);
  REQUIRE(listed.price);
  CHECK(listed.price->input_per_mtok == table_price("gpt-4o-mini")->price.input_per_mtok);
  CHECK(listed.price_source == "table " + price_table_date());

  ProviderConfig unknown;
  unknown.model = "llama3:8b";
  apply_table_price(unknown);
  CHECK_FALSE(unknown.price);
  CHECK(unknown.price_source.empty());

  ProviderConfig sim;
  sim.type = ProviderType::kSim;
  sim.model = "gpt-4o";
  apply_table_price(sim);
  CHECK_FALSE(sim.price);
}

TEST_CASE("price table: every model's Batch API price is kBatchPriceFactor of its online price",
          "[provider][prices][batch]") {
  // run --batch prices batch-answered calls with provider::batch_price (the factor); the table
  // records the vendors' batch prices too, and they must agree.
  std::ifstream file(llmeval::testing::source_dir() + "/core/provider/prices.json");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  const auto table = nlohmann::json::parse(text.str());
  int checked = 0;
  for (const auto& model : table.at("models")) {
    INFO(model.at("model").get<std::string>());
    REQUIRE(model.contains("batch_input"));
    CHECK(model.at("batch_input").get<double>() ==
          Approx(model.at("input").get<double>() * llmeval::provider::kBatchPriceFactor));
    CHECK(model.at("batch_output").get<double>() ==
          Approx(model.at("output").get<double>() * llmeval::provider::kBatchPriceFactor));
    ++checked;
  }
  CHECK(checked >= 20);
  const llmeval::provider::Price online{3.0, 15.0, 0.3, 3.75};
  const llmeval::provider::Price batch = llmeval::provider::batch_price(online);
  CHECK(batch.input_per_mtok == 1.5);
  CHECK(batch.output_per_mtok == 7.5);
  CHECK(batch.cached_input_per_mtok == 0.15);
  CHECK(batch.cache_write_per_mtok == 1.875);
}
