#include "core/common/logging.h"

#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace llmeval {
namespace {

// Writes the message as a JSON string so quotes and newlines in it cannot break the line.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string text(msg.payload.data(), msg.payload.size());
    std::string quoted = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

struct LoggingState {
  std::mutex mutex;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kText;
};

LoggingState& state() {
  static LoggingState instance;
  return instance;
}

std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
      format == LogFormat::kJson ? spdlog::pattern_time_type::utc : spdlog::pattern_time_type::local);
  if (format == LogFormat::kJson) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","component":"%n","msg":%*})");
  } else {
    formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
  }
  return formatter;
}

}  // namespace

void setup_logging(spdlog::level::level_enum level, LogFormat format) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.level = level;
  s.format = format;
  s.sink->set_formatter(make_formatter(format));
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (auto existing = spdlog::get(component)) return existing;
  static bool formatted = false;
  if (!formatted) {
    s.sink->set_formatter(make_formatter(s.format));
    formatted = true;
  }
  auto made = std::make_shared<spdlog::logger>(component, s.sink);
  made->set_level(s.level);
  spdlog::register_logger(made);
  return made;
}

std::string redact(std::string_view secret) {
  if (secret.size() <= 8) return "(redacted)";
  return std::string(secret.substr(0, 4)) + "…(redacted)";
}

}  // namespace llmeval
