#include "core/provider/rate_limit_headers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <string>

namespace llmeval::provider {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kLongestHold{3'600'000};

bool is_zero(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value == "0";
}

struct Budget {
  std::string_view remaining;
  std::string_view reset;
  bool rfc3339;  // Anthropic resets are times, OpenAI's are durations
};

constexpr Budget kBudgets[] = {
    {"x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", false},
    {"x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", false},
    {"anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", true},
    {"anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", true},
    {"anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset", true},
    {"anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset", true},
};

}  // namespace

std::optional<milliseconds> parse_go_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(std::string(text.substr(0, digits)));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    text.remove_prefix(digits);
    double unit_ms = 0;
    if (text.rfind("ms", 0) == 0) {
      unit_ms = 1;
      text.remove_prefix(2);
    } else if (!text.empty() && (text[0] == 'h' || text[0] == 'm' || text[0] == 's')) {
      unit_ms = text[0] == 'h' ? 3'600'000 : text[0] == 'm' ? 60'000 : 1000;
      text.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    total_ms += value * unit_ms;
  }
  return milliseconds(static_cast<std::int64_t>(total_ms + 0.5));
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  std::string s(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &used) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(s).substr(static_cast<std::size_t>(used));
  double fraction = 0;
  if (!rest.empty() && rest.front() == '.') {
    std::size_t n = 1;
    while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
    fraction = std::stod("0" + std::string(rest.substr(0, n)));
    rest.remove_prefix(n);
  }
  int offset_minutes = 0;
  if (rest == "Z" || rest == "z") {
    offset_minutes = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_minutes = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  auto point = std::chrono::system_clock::from_time_t(seconds - offset_minutes * 60);
  return point + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(fraction));
}

std::optional<milliseconds> rate_limit_exhausted_for(const HttpResponse& response,
                                                     std::chrono::system_clock::time_point now) {
  std::optional<milliseconds> longest;
  for (const Budget& budget : kBudgets) {
    if (!is_zero(response.header(budget.remaining))) continue;
    std::string_view reset = response.header(budget.reset);
    std::optional<milliseconds> wait;
    if (budget.rfc3339) {
      if (auto at = parse_rfc3339(reset)) {
        wait = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(*at - now));
      }
    } else {
      wait = parse_go_duration(reset);
    }
    if (!wait) wait = milliseconds(1000);  // used up, but no readable reset: a short pause
    longest = std::max(longest.value_or(milliseconds(0)), std::min(*wait, kLongestHold));
  }
  return longest;
}

}  // namespace llmeval::provider
