#include "cli/cache_command.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/fatal_error.h"
#include "core/cache/local_judge_cache.h"
#include "core/config/config.h"

namespace llmeval::cli {
namespace {

struct CacheFlags {
  std::string config_path;
  bool json_output = false;
};

std::unique_ptr<cache::LocalJudgeCache> open_local_cache(const CacheFlags& flags) {
  std::string config_path = flags.config_path;
  if (config_path.empty()) {
    if (const char* env = std::getenv("LLMEVAL_CONFIG"); env != nullptr) config_path = env;
  }
  config::Config config;
  if (!config_path.empty()) config = or_exit(config::load_config_file(config_path));
  cache::LocalCacheOptions options;
  options.path = config.cache.path.empty() ? cache::default_cache_path() : config.cache.path;
  options.max_bytes = config.cache.max_mb * 1024 * 1024;
  options.ttl = config.cache.ttl;
  return or_exit(cache::LocalJudgeCache::open(options));
}

std::string utc_date(std::int64_t epoch_seconds) {
  if (epoch_seconds == 0) return "-";
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &tm);
  return text;
}

int print_stats(const CacheFlags& flags) {
  cache::LocalCacheStats stats = or_exit(open_local_cache(flags)->stats());
  if (flags.json_output) {
    nlohmann::json j = {{"path", stats.path},           {"entries", stats.entries},
                        {"expired", stats.expired},     {"data_bytes", stats.data_bytes},
                        {"file_bytes", stats.file_bytes}, {"oldest", stats.oldest == 0 ? nlohmann::json() : nlohmann::json(stats.oldest)},
                        {"newest", stats.newest == 0 ? nlohmann::json() : nlohmann::json(stats.newest)}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("judge cache  %s\n", stats.path.c_str());
  std::printf("  entries    %lld  (%lld expired, removed as space is needed)\n", static_cast<long long>(stats.entries),
              static_cast<long long>(stats.expired));
  std::printf("  size       %.1f MB in use, file %.1f MB\n", static_cast<double>(stats.data_bytes) / 1e6,
              static_cast<double>(stats.file_bytes) / 1e6);
  std::printf("  written    %s .. %s\n", utc_date(stats.oldest).c_str(), utc_date(stats.newest).c_str());
  return 0;
}

int clear(const CacheFlags& flags) {
  auto cache = open_local_cache(flags);
  std::int64_t removed = or_exit(cache->clear());
  std::printf("removed %lld judge-cache entries from %s\n", static_cast<long long>(removed),
              or_exit(cache->stats()).path.c_str());
  return 0;
}

}  // namespace

std::function<int()> register_cache_command(CLI::App& app) {
  auto flags = std::make_shared<CacheFlags>();
  CLI::App* command = app.add_subcommand("cache", "Show or empty this machine's judge cache");
  command->require_subcommand(1);
  CLI::App* stats = command->add_subcommand("stats", "Where the judge cache is, how many verdicts it holds, its size");
  CLI::App* clear_command = command->add_subcommand("clear", "Delete every verdict in this machine's judge cache");
  for (CLI::App* sub : {stats, clear_command}) {
    sub->add_option("-c,--config", flags->config_path, "JSON config file (also LLMEVAL_CONFIG): its cache.path applies");
  }
  stats->add_flag("--json", flags->json_output, "Print one JSON object");
  return [command, stats, flags]() -> int {
    if (!command->parsed()) return -1;
    return stats->parsed() ? print_stats(*flags) : clear(*flags);
  };
}

}  // namespace llmeval::cli
