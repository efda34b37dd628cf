// Component loggers on spdlog (one per area: cli, dataset, provider, judge, limiter, breaker,
// runner, writer, server), all writing to stderr, plus redact() for anything that may hold a
// secret. Logs never carry API keys, Authorization headers, prompts or completions (those
// only at trace level).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace llmeval {

enum class LogFormat { kText, kJson };

// Sets the level ("trace".."error", "off") and format for every component logger. Call once,
// early, from the CLI; loggers made before or after follow it.
void setup_logging(spdlog::level::level_enum level, LogFormat format);

// The named component logger (created on first use).
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// A status line (a progress display) kept at the bottom of stderr, for a terminal: log lines
// are written above it (the line is cleared, the log line written, the status drawn again), so
// the two never interleave. Empty text removes it. Thread-safe.
void set_status_line(const std::string& text);

// "sk-abc...xyz" -> "sk-a…(redacted)": keeps 4 characters so a person can tell keys apart.
std::string redact(std::string_view secret);

}  // namespace llmeval
