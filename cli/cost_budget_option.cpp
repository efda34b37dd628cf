#include "cli/cost_budget_option.h"

#include <cstdio>
#include <filesystem>
#include <variant>

#include "cli/fatal_error.h"
#include "core/redis/redis_url.h"
#include "core/resilience/redis_cost_budget.h"

namespace llmeval::cli {
namespace {

constexpr std::chrono::milliseconds kBudgetRedisTimeout{250};

std::string dollars(resilience::Nanodollars amount) {
  char text[64];
  std::snprintf(text, sizeof text, "$%.4f", resilience::to_dollars(amount));
  return text;
}

}  // namespace

void add_budget_flags(CLI::App& command, BudgetFlags& flags) {
  command
      .add_option("--max-cost", flags.max_cost,
                  "Stop sending judge calls before spend could pass USD dollars; exit 3, --resume continues "
                  "(with --redis shared by every process using the same --budget-key)")
      ->check(CLI::PositiveNumber)
      ->type_name("USD");
  command.add_option("--budget-key", flags.budget_key,
                     "With --max-cost and --redis: the name of the shared budget (default: the -o path, without "
                     "its shard part)");
}

std::string default_budget_key(const std::string& output_template, const std::string& dataset) {
  const std::string& path = output_template.empty() || output_template == "-" ? dataset : output_template;
  if (path == "-") return "stdin";
  if (path.find("://") != std::string::npos) return path;  // a dataset URL
  std::error_code error;
  auto absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

RunBudget::RunBudget(LibeventLoop& loop, const BudgetFlags& flags, const EngineSettings& settings,
                     const std::string& key) {
  if (!flags.max_cost) {
    if (!flags.budget_key.empty()) throw FatalError("--budget-key needs --max-cost", 2);
    return;
  }
  for (const auto& p : settings.providers) {
    if (p.price) continue;
    throw FatalError("--max-cost needs a price for every provider, and " + p.name + " (model " + p.model +
                         ") has none in the built-in table: set \"price\" for it in the config "
                         "(docs/cost.md)",
                     2);
  }
  const resilience::Nanodollars limit = resilience::to_nanodollars(*flags.max_cost);
  if (settings.redis_url.empty()) {
    budget_ = std::make_unique<resilience::LocalCostBudget>(limit);
    return;
  }
  auto url = redis::parse_redis_url(settings.redis_url);
  if (!url) throw FatalError("--redis: " + url.error().message, 2);
  redis::RedisClientOptions options;
  options.command_timeout = std::max(settings.config.redis.timeout, kBudgetRedisTimeout);
  redis_ = std::make_unique<redis::RedisClient>(loop, url.value(), options);
  key_ = flags.budget_key.empty() ? key : flags.budget_key;
  budget_ = std::make_unique<resilience::RedisCostBudget>(*redis_, settings.config.redis.prefix + "budget:" + key_,
                                                          limit);
}

RunBudget::~RunBudget() = default;

nlohmann::json RunBudget::to_json(bool stopped, std::optional<std::int64_t> rows_left) const {
  if (!budget_) return nullptr;
  nlohmann::json j = {{"limit", resilience::to_dollars(budget_->limit())},
                      {"spent", resilience::to_dollars(budget_->spent())},
                      {"spent_here", resilience::to_dollars(budget_->spent_here())},
                      {"stopped", stopped}};
  if (!key_.empty()) j["key"] = key_;
  if (stopped) j["rows_left"] = rows_left ? nlohmann::json(*rows_left) : nlohmann::json(nullptr);
  return j;
}

std::string RunBudget::to_table_line(bool stopped, std::optional<std::int64_t> rows_left) const {
  if (!budget_) return {};
  std::string line = "  budget             " + dollars(budget_->spent()) + " spent of " + dollars(budget_->limit());
  if (!key_.empty()) line += " (shared: " + key_ + ")";
  if (stopped) {
    line += "; STOPPED, " + (rows_left ? std::to_string(*rows_left) : std::string("unknown")) + " rows left";
  }
  return line + "\n";
}

std::optional<std::int64_t> rows_left(dataset::JsonlReader& reader, bool regular_file,
                                      const output::ResumeIndex* resume, std::int64_t limit, std::int64_t rows_read,
                                      std::int64_t pending) {
  if (!regular_file) return std::nullopt;
  std::int64_t left = pending;
  while (limit < 0 || rows_read < limit) {
    std::optional<dataset::ReadItem> next = reader.next();
    if (!next) break;
    ++rows_read;
    if (resume == nullptr) {
      ++left;
      continue;
    }
    const auto* invalid = std::get_if<dataset::InvalidLine>(&*next);
    std::int64_t line = invalid != nullptr ? invalid->line : std::get<dataset::EvalItem>(*next).line;
    const nlohmann::json& id = invalid != nullptr ? invalid->id : std::get<dataset::EvalItem>(*next).id;
    if (resume->check(line, id) != output::ResumeIndex::Match::kRecorded) ++left;
  }
  return left;
}

}  // namespace llmeval::cli
