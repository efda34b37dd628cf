#include "core/common/logging.h"

#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <cstdio>

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

// stderr, with room for a status line under the log: while one is shown, each log line first
// erases it (carriage return, erase line) and draws it again after itself.
class StderrWithStatus final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void set_status(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (status_.empty() && text.empty()) return;
    std::fputs("\r\x1b[2K", stderr);
    status_ = text;
    std::fputs(status_.c_str(), stderr);
    std::fflush(stderr);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    if (!status_.empty()) std::fputs("\r\x1b[2K", stderr);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
    if (!status_.empty()) std::fputs(status_.c_str(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  std::string status_;
};

struct LoggingState {
  std::mutex mutex;
  std::shared_ptr<StderrWithStatus> sink = std::make_shared<StderrWithStatus>();
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

void set_status_line(const std::string& text) { state().sink->set_status(text); }

std::string redact(std::string_view secret) {
  if (secret.size() <= 8) return "(redacted)";
  return std::string(secret.substr(0, 4)) + "…(redacted)";
}

}  // namespace llmeval
